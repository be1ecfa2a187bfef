"""The send form (field names fixed by SPEC.md)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField


class SendMailForm(FlaskForm):
    recipient = TextAreaField("받는 사람 (쉼표 또는 줄바꿈으로 구분)")
    template_name = SelectField("템플릿", choices=[], validate_choice=False)
    is_scheduled = BooleanField("예약 전송")
    scheduled_time = StringField("전송 시각")
    timezone = HiddenField()
