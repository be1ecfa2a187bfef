"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("아이디", validators=[DataRequired("아이디를 입력하세요."),
                                                Length(max=64, message="아이디는 64자까지입니다.")])
    password = PasswordField("비밀번호", validators=[
        DataRequired("비밀번호를 입력하세요."), Length(max=256, message="비밀번호가 너무 깁니다.")])
