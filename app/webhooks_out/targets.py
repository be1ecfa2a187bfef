"""Where a webhook may go: ``http``/``https`` URLs whose host is on the public internet.
Loopback, private, link-local (cloud metadata), multicast and reserved addresses are
refused unless ``WEBHOOK_ALLOW_PRIVATE`` — checked when the hook is saved, and again on
the socket itself when a delivery connects (a name that resolves elsewhere later, DNS
rebinding, is caught there). Redirects are not followed, nor proxies from the
environment."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

MAX_URL = 2048


class TargetRefused(ValueError):
    """A webhook URL (or the address it reached) that is not allowed."""


def public(address: str) -> bool:
    """True for an IP address on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_private: bool) -> str:
    """``url`` if a hook may be sent there; TargetRefused (a message for the user) if not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise TargetRefused(_("웹훅 주소는 http:// 또는 https://로 시작하는 URL이어야 합니다."))
    if parts.username or parts.password:
        raise TargetRefused(_("웹훅 주소에 사용자 이름이나 비밀번호를 넣을 수 없습니다."))
    if allow_private:
        return url.strip()
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(_("웹훅 주소의 호스트를 찾을 수 없습니다: %(host)s",
                               host=parts.hostname)) from None
    if not all(public(str(info[4][0])) for info in found):
        raise TargetRefused(_("내부망·루프백 주소로는 웹훅을 보낼 수 없습니다"
                              "(WEBHOOK_ALLOW_PRIVATE로 허용할 수 있습니다)."))
    return url.strip()


def _guard(connection: Any, allow_private: bool) -> None:
    """Close a connection that reached an address a hook may not go to."""
    peer = connection.sock.getpeername()[0]
    if not allow_private and not public(peer):
        connection.close()
        raise TargetRefused(_("웹훅이 내부 주소(%(address)s)에 닿아 보내지 않았습니다.",
                              address=peer))


def opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """A urllib opener that checks the address it connected to, follows no redirect and
    uses no proxy."""

    class Guarded(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            _guard(self, allow_private)

    class GuardedTLS(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            _guard(self, allow_private)

    class Plain(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(Guarded, req)

    class TLS(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(GuardedTLS, req, context=self._context)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # a 3xx is the answer: never followed

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), Plain(), TLS(),
                                       NoRedirect())
