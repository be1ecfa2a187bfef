"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("아이디", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("비밀번호", validators=[DataRequired(), Length(max=256)])
