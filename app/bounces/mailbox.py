"""The bounce mailbox poller ``python worker.py`` runs when BOUNCE_IMAP_URL is set, for
senders whose bounces land in a mailbox: every BOUNCE_IMAP_INTERVAL_SECONDS it reads the
folder's messages (without marking them seen) and hands each to the handler. It deletes
only the messages it matched to a delivery of ours; the others — an auto-reply, a report
it could not read, a bounce of mail sent elsewhere — are moved to BOUNCE_IMAP_FOLDER for a
person to read (left where they are when that is empty), never deleted.

``imaps://user:password@host[:993]/FOLDER``; plain ``imap://`` only to this machine (a
password never crosses a network in clear)."""

from __future__ import annotations

import logging
import signal
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask

from app.bounces.handle import NotYet, handle_message
from app.extensions import db
from app.mail.relay import is_loopback

log = logging.getLogger(__name__)
BATCH = 50  # messages fetched at once


@dataclass
class MailboxAddress:
    """Where the bounces are: BOUNCE_IMAP_URL, read."""

    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


def read_url(url: str) -> MailboxAddress:
    """BOUNCE_IMAP_URL as its parts; ValueError for another scheme, or plain IMAP to
    another machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("imaps", "imap") or not parts.hostname:
        raise ValueError("BOUNCE_IMAP_URL must be imaps://user:password@host/FOLDER")
    if parts.scheme == "imap" and not is_loopback(parts.hostname):
        raise ValueError("plain imap:// only to this machine: use imaps://")
    return MailboxAddress(parts.scheme == "imaps", parts.hostname,
                          parts.port or (993 if parts.scheme == "imaps" else 143),
                          unquote(parts.username or ""), unquote(parts.password or ""),
                          unquote(parts.path.lstrip("/")) or "INBOX")


def _open(where: MailboxAddress, ca_file: str | None = None) -> Any:
    from imap_tools import MailBox, MailBoxUnencrypted

    if where.secure:
        context = ssl.create_default_context(cafile=ca_file)
        box = MailBox(where.host, where.port, ssl_context=context, timeout=30)
    else:
        box = MailBoxUnencrypted(where.host, where.port, timeout=30)
    return box.login(where.user, where.password, initial_folder=where.folder)


def poll_once(app: Flask) -> dict[str, int]:
    """Read the folder once: how many messages were matched (deleted), moved aside, and
    left for the next look (a delivery still in flight)."""
    config = app.config
    where = read_url(config["BOUNCE_IMAP_URL"])
    aside = str(config.get("BOUNCE_IMAP_FOLDER") or "")
    matched, unmatched, later = [], [], 0
    with app.app_context(), _open(where, config.get("BOUNCE_IMAP_CA_FILE")) as box:
        for message in box.fetch(mark_seen=False, bulk=BATCH):
            try:
                outcome = handle_message(message.obj.as_bytes(), "imap")
            except NotYet:
                db.session.rollback()
                later += 1
                continue
            (matched if outcome.understood else unmatched).append(message.uid)
        if unmatched and aside:
            if not box.folder.exists(aside):
                box.folder.create(aside)
            box.move(unmatched, aside)
        box.delete(matched)  # only what was matched to a delivery of ours
        db.session.remove()
    return {"matched": len(matched), "moved": len(unmatched) if aside else 0,
            "left": later + (0 if aside else len(unmatched))}


def serve(app: Flask) -> int:
    """``python -m app.worker imap``: poll until SIGTERM or SIGINT; a failed poll (the
    server away, a bad password) is logged and tried again next time."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    read_url(app.config["BOUNCE_IMAP_URL"])  # a bad URL fails loudly at start
    interval = float(app.config["BOUNCE_IMAP_INTERVAL_SECONDS"])
    while not stop.is_set():
        try:
            log.info("bounce mailbox: %s", poll_once(app))
        except Exception:
            log.exception("bounce mailbox poll failed; trying again in %.0f s", interval)
        stop.wait(interval)
    return 0
