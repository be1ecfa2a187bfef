"""A small IMAP4rev1 server on loopback, speaking what imaplib and imap-tools use: LOGIN,
SELECT, LIST, CREATE, UID SEARCH, UID FETCH (the whole message as a literal), UID MOVE, UID
COPY, UID STORE +FLAGS, EXPUNGE, NOOP, LOGOUT, in plain text or TLS (``self_signed`` makes
its certificate). Folders of (uid, flags, bytes) in memory; a test puts messages in and
reads what is left where."""

from __future__ import annotations

import ipaddress
import re
import shlex
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import free_port


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class Mailboxes:
    """The server's folders, guarded by one lock."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.folders: dict[str, list[Stored]] = {"INBOX": []}
        self.next_uid = 1
        self.lock = threading.Lock()

    def add(self, folder: str, raw: bytes) -> int:
        with self.lock:
            uid, self.next_uid = self.next_uid, self.next_uid + 1
            self.folders.setdefault(folder, []).append(Stored(uid, raw))
            return uid

    def raws(self, folder: str) -> list[bytes]:
        with self.lock:
            return [m.raw for m in self.folders.get(folder, [])]


def _uids(text: str) -> set[int]:
    found: set[int] = set()
    for piece in text.split(","):
        low, _, high = piece.partition(":")
        found.update(range(int(low), int(high or low) + 1))
    return found


class _Session(socketserver.StreamRequestHandler):
    boxes: Mailboxes
    selected: str | None = None

    def send(self, text: str | bytes) -> None:
        self.wfile.write(text if isinstance(text, bytes) else text.encode() + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1 MOVE] fake imap ready")
        for line in self.rfile:
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            if not self.run(tag, command.upper(), args):
                return

    def run(self, tag: str, command: str, args: str) -> bool:
        if command == "LOGOUT":
            self.send("* BYE")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        handler = getattr(self, f"do_{command.lower()}", None)
        with self.boxes.lock:
            answer = handler(args) if handler else "BAD unknown command"
        self.send(f"{tag} {answer}")
        return True

    def do_capability(self, args: str) -> str:
        self.send("* CAPABILITY IMAP4rev1 MOVE")
        return "OK CAPABILITY completed"

    def do_noop(self, args: str) -> str:
        return "OK NOOP completed"

    def do_login(self, args: str) -> str:
        user, password = shlex.split(args)
        ok = (user, password) == (self.boxes.user, self.boxes.password)
        return "OK LOGIN completed" if ok else "NO [AUTHENTICATIONFAILED] bad credentials"

    def do_select(self, args: str) -> str:
        name = args.strip('"')
        if name not in self.boxes.folders:
            return "NO no such folder"
        self.selected = name
        self.send(f"* {len(self.boxes.folders[name])} EXISTS")
        self.send("* OK [UIDVALIDITY 1] UIDs valid")
        return "OK [READ-WRITE] SELECT completed"

    def do_list(self, args: str) -> str:
        pattern = shlex.split(args)[-1] if args else "*"
        for name in self.boxes.folders:
            if pattern in ("*", name):
                self.send(f'* LIST () "/" "{name}"')
        return "OK LIST completed"

    def do_create(self, args: str) -> str:
        self.boxes.folders.setdefault(args.strip('"'), [])
        return "OK CREATE completed"

    def do_expunge(self, args: str) -> str:
        box = self.boxes.folders[self.selected or "INBOX"]
        for position in reversed(range(len(box))):
            if "\\Deleted" in box[position].flags:
                del box[position]
                self.send(f"* {position + 1} EXPUNGE")
        return "OK EXPUNGE completed"

    def do_uid(self, args: str) -> str:
        verb, _, rest = args.partition(" ")
        box = self.boxes.folders[self.selected or "INBOX"]
        if verb.upper() == "SEARCH":
            self.send("* SEARCH " + " ".join(str(m.uid) for m in box))
            return "OK SEARCH completed"
        which, _, rest = rest.partition(" ")
        chosen = [m for m in box if m.uid in _uids(which)]
        return getattr(self, f"uid_{verb.lower()}")(box, chosen, rest)

    def uid_fetch(self, box: list[Stored], chosen: list[Stored], rest: str) -> str:
        for message in chosen:
            seq = box.index(message) + 1
            flags = " ".join(sorted(message.flags))
            self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({flags}) RFC822.SIZE "
                      f"{len(message.raw)} BODY[] {{{len(message.raw)}}}")
            self.send(message.raw + b")\r\n")
        return "OK FETCH completed"

    def uid_store(self, box: list[Stored], chosen: list[Stored], rest: str) -> str:
        for message in chosen:
            message.flags.update(re.findall(r"\\?\w+", rest.split(" ", 1)[1]))
        return "OK STORE completed"

    def uid_copy(self, box: list[Stored], chosen: list[Stored], rest: str) -> str:
        target = self.boxes.folders.setdefault(rest.strip('"'), [])
        for message in chosen:
            target.append(Stored(self.boxes.next_uid, message.raw))
            self.boxes.next_uid += 1
        return "OK COPY completed"

    def uid_move(self, box: list[Stored], chosen: list[Stored], rest: str) -> str:
        self.uid_copy(box, chosen, rest)
        for message in chosen:
            box.remove(message)
        return "OK MOVE completed"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "imap.pem", directory / "imap.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Server(socketserver.ThreadingTCPServer):
    """Each connection in TLS from its first byte when ``tls`` is given (imaps)."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def get_request(self) -> Any:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address


class FakeImap:
    """``with FakeImap("user", "pw") as imap:`` — ``imap.port``, ``imap.boxes``; given
    ``tls`` (a certificate and key, ``self_signed``), it speaks imaps."""

    def __init__(self, user: str, password: str, tls: tuple[Path, Path] | None = None
                 ) -> None:
        self.boxes = Mailboxes(user, password)
        self.port = free_port()
        session = type("Session", (_Session,), {"boxes": self.boxes})
        self.server = _Server(("127.0.0.1", self.port), session)
        if tls is not None:
            self.server.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.server.tls.load_cert_chain(*tls)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeImap:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
