"""The send form (field names fixed by SPEC.md). ``is_scheduled`` is drawn as one control
of two choices (two radios of that name: "y" reserves, "" sends now); read as a boolean,
so a checkbox's "y" posts the same."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField


class SendMailForm(FlaskForm):
    recipient = TextAreaField(_l("받는 사람 (쉼표·줄바꿈으로 구분, 또는 email 머리줄의 CSV)"))
    recipient_file = FileField(_l("또는 CSV 파일"))
    # A saved list instead of the recipients above (its members when the send runs).
    list_id = SelectField(_l("또는 저장한 목록에 보내기"), choices=[], validate_choice=False)
    template_name = SelectField(lazy_pgettext("field", "템플릿"), choices=[], validate_choice=False)
    is_scheduled = BooleanField(_l("예약 전송"))
    scheduled_time = StringField(_l("전송 시각"))
    timezone = HiddenField()
