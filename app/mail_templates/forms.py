"""The template form (field names fixed by SPEC.md)."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.mail.render import MAX_SOURCE


class TemplateForm(FlaskForm):
    name = StringField("이름", validators=[DataRequired("이름을 입력하세요."),
                                          Length(max=64, message="이름은 64자까지입니다.")])
    subject = StringField("제목", validators=[DataRequired("제목을 입력하세요."),
                                             Length(max=255, message="제목은 255자까지입니다.")])
    body_text = TextAreaField("텍스트 본문", validators=[
        DataRequired("텍스트 본문을 입력하세요."), Length(max=MAX_SOURCE)])
    body_html = TextAreaField("HTML 본문 (선택)", validators=[Length(max=MAX_SOURCE)])
