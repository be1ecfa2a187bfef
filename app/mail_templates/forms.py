"""The template form (field names fixed by SPEC.md); labels and errors in the reader's
language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.mail.render import MAX_SOURCE

TOO_LONG = _l("%(max)s자까지 쓸 수 있습니다.")  # WTForms fills in the limit


class TemplateForm(FlaskForm):
    name = StringField(_l("이름"), validators=[DataRequired(_l("이름을 입력하세요.")),
                                              Length(max=64, message=_l("이름은 64자까지입니다."))])
    subject = StringField(_l("제목"), validators=[
        DataRequired(_l("제목을 입력하세요.")),
        Length(max=255, message=_l("제목은 255자까지입니다."))])
    body_text = TextAreaField(_l("텍스트 본문"), validators=[
        DataRequired(_l("텍스트 본문을 입력하세요.")), Length(max=MAX_SOURCE, message=TOO_LONG)])
    body_html = TextAreaField(_l("HTML 본문 (선택)"),
                              validators=[Length(max=MAX_SOURCE, message=TOO_LONG)])
