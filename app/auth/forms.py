"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("아이디"), validators=[
        DataRequired(_l("아이디를 입력하세요.")),
        Length(max=64, message=_l("아이디는 64자까지입니다."))])
    password = PasswordField(_l("비밀번호"), validators=[
        DataRequired(_l("비밀번호를 입력하세요.")),
        Length(max=256, message=_l("비밀번호가 너무 깁니다."))])
