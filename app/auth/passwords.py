"""The password rule for new accounts and new passwords: long enough, and none of the
passwords attackers try first."""

from __future__ import annotations

import os
from functools import cache

from flask_babel import gettext as _

_LIST = os.path.join(os.path.dirname(__file__), "common_passwords.txt")
_RUNS = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercase."""
    with open(_LIST, encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle
                         if line.strip() and not line.startswith("#"))


def _is_run(text: str) -> bool:
    return len(set(text)) <= 2 or any(text in run * 3 or text[::-1] in run * 3
                                      for run in _RUNS)


def check_password(password: str, username: str, min_length: int = 12) -> None:
    """ValueError (in the reader's language) unless ``password`` may be used."""
    if len(password) < min_length:
        raise ValueError(_("비밀번호는 %(count)d자 이상이어야 합니다.", count=min_length))
    lowered = password.lower()
    if lowered in common_passwords() or lowered.replace(" ", "") in common_passwords():
        raise ValueError(_("너무 흔한 비밀번호입니다. 다른 비밀번호를 정하세요."))
    if _is_run(lowered):
        raise ValueError(_("같은 글자나 키보드·숫자 순서만으로 된 비밀번호는 쓸 수 없습니다."))
    if username and username.lower() in lowered:
        raise ValueError(_("비밀번호에 아이디를 넣을 수 없습니다."))
