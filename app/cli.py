"""Command-line tools: ``flask --app run users create NAME --password PW``. Their prompts,
output and errors are in the operator's language (``app/cli_language.py``:
``MAILROOM_LANGUAGE``, else the POSIX locale, else Korean)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.passwords import check_password
from app.cli_language import SpokenGroup
from app.extensions import db
from app.models import User

users = SpokenGroup("users", help="Manage accounts.")
PASSWORD = {"prompt": _l("비밀번호"), "hide_input": True,
            "confirmation_prompt": _l("비밀번호를 한 번 더 입력하세요")}


def create_user(username: str, password: str, admin: bool = False,
                display_name: str | None = None) -> User:
    """Make an account; ValueError when the name is taken or a field is empty.
    ``display_name`` signs its mail (``{{ sender_name }}``) instead of the default sender's
    name; the login name never appears in mail."""
    username = username.strip()
    if not username or not password:
        raise ValueError(_("이름과 비밀번호를 모두 입력하세요."))
    if len(username) > 64:
        raise ValueError(_("이름은 64자 이하여야 합니다."))
    if User.by_username(username) is not None:
        raise ValueError(_("이미 있는 이름입니다: %(name)s", name=username))
    check_password(password, username, current_app.config["PASSWORD_MIN_LENGTH"])
    user = User(username=username, is_admin=admin,
                display_name=(display_name or "").strip()[:128] or None)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.commit()
    return user


@users.command("create")
@click.argument("name")
@click.option("--password", **PASSWORD)
@click.option("--admin", is_flag=True, help="May open the operator view (/admin/).")
@click.option("--display-name", default=None,
              help="The name its mail is signed with ({{ sender_name }}).")
def create_command(name: str, password: str, admin: bool, display_name: str | None) -> None:
    """Create an account NAME."""
    try:
        create_user(name, password, admin, display_name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("계정 %(name)s을(를) 만들었습니다.", name=name))


@users.command("set-password")
@click.argument("name")
@click.option("--password", **PASSWORD)
def set_password_command(name: str, password: str) -> None:
    """Give NAME a new password; every session of NAME ends."""
    user = User.by_username(name)
    if user is None:
        raise click.ClickException(_("없는 이름입니다: %(name)s", name=name))
    try:
        check_password(password, name, current_app.config["PASSWORD_MIN_LENGTH"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    click.echo(_("%(name)s의 비밀번호를 바꾸었습니다. 그 계정의 세션은 모두 끝났습니다.",
                 name=name))


@users.command("set-quota")
@click.argument("name")
@click.option("--recipients-per-day", "per_day", type=click.IntRange(min=0), default=None,
              help="Recipients NAME may send to in any 24 hours.")
@click.option("--default", "use_default", is_flag=True,
              help="Back to QUOTA_RECIPIENTS_PER_DAY.")
def set_quota_command(name: str, per_day: int | None, use_default: bool) -> None:
    """Set how many recipients NAME may send to a day (a big list needs more)."""
    if (per_day is None) == (not use_default):
        raise click.UsageError(_("--recipients-per-day N 또는 --default 중 하나만 주세요."))
    user = User.by_username(name)
    if user is None:
        raise click.ClickException(_("없는 이름입니다: %(name)s", name=name))
    user.recipients_per_day = per_day
    db.session.commit()
    if per_day is not None:
        click.echo(_("%(name)s은(는) 24시간에 %(count)s명에게 보낼 수 있습니다.", name=name,
                     count=per_day))
    else:
        click.echo(_("%(name)s은(는) 24시간에 %(count)s명(기본값)에게 보낼 수 있습니다.",
                     name=name, count=current_app.config["QUOTA_RECIPIENTS_PER_DAY"]))


def end_sessions(username: str | None = None) -> int:
    """End every session of ``username`` (of every account when None): each cookie signed
    so far names an old session version and signs in nobody. How many accounts."""
    query = db.update(User).values(session_version=User.session_version + 1)
    if username is not None:
        query = query.where(User.username == username)
    count = db.session.execute(query.execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return count


@users.command("end-sessions")
@click.argument("name", required=False)
@click.option("--all", "everyone", is_flag=True, help="Every account (after a key leaked).")
def end_sessions_command(name: str | None, everyone: bool) -> None:
    """End every session of NAME, or of every account with --all."""
    if everyone == (name is not None):
        raise click.UsageError(_("이름 하나 또는 --all 중 하나만 주세요."))
    count = end_sessions(name)
    if name is not None and not count:
        raise click.ClickException(_("없는 이름입니다: %(name)s", name=name))
    click.echo(_("계정 %(count)s개의 세션을 끝냈습니다.", count=count))


tasks = SpokenGroup("tasks", help="Look after background tasks.")


@tasks.command("reconcile")
def reconcile_command() -> None:
    """Mend Redis from the database once (the scheduler does it every few seconds)."""
    from app.queue import queues
    from app.worker.reconcile import reconcile_now

    counts = reconcile_now(queues())
    click.echo(_("작업 %(resubmitted)s개를 다시 넣고, %(handed_back)s개를 돌려주고, "
                 "%(ended)s개를 끝냈습니다.", resubmitted=counts["resubmitted"],
                 handed_back=counts["handed_back"], ended=counts["ended"]))


dkim_group = SpokenGroup("dkim", help="DKIM signing (MAIL_DKIM_*).")


@dkim_group.command("dns")
def dkim_dns_command() -> None:
    """Print the DNS TXT record that publishes the configured DKIM key."""
    from app.mail.dkim import DkimConfigError, DkimSigner, dns_record

    try:
        signer = DkimSigner.from_config(current_app.config)
    except DkimConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if signer is None:
        raise click.ClickException(_("DKIM이 꺼져 있습니다: MAIL_DKIM_SELECTOR, "
                                     "MAIL_DKIM_DOMAIN, MAIL_DKIM_PRIVATE_KEY_PATH를 "
                                     "설정하세요."))
    click.echo(dns_record(signer.private_key_pem, signer.selector, signer.domain))


def register(app: Flask) -> None:
    """Attach the CLI groups to ``app``."""
    app.cli.add_command(users)
    app.cli.add_command(tasks)
    app.cli.add_command(dkim_group)
