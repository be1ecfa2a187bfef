"""The app's Redis client, made in one place from the configuration: ``REDIS_URL``, or, when
``REDIS_SENTINELS`` is set, through Redis Sentinel to whichever server is the primary now.

Every Redis client of the app comes from here: the web's and the workers' queues
(``app/queue.py``), RQ's scheduler (it rebuilds its client from this one's pool), the send
rate (``app/mail/rate.py``) and Flask-Limiter's storage (``limits_storage``), and RQ's own
CLI (``app/worker/rq_settings.py``). Through Sentinel the client is redis-py's
``Sentinel(...).master_for(name)``: its pool asks the sentinels for the primary on every new
connection, and a connection that meets ``READONLY`` (it still talks to a primary that was
demoted) or a broken socket is dropped and made again to the new primary: a failover costs
the seconds without a primary, which the worker side waits out
(``WORKER_REDIS_PATIENCE_SECONDS``) and the web answers with a 503 page (``app/errors.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.connection import SSLConnection
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from app.redis_url import check_redis_url, check_sentinels, limits_storage_url, parse_sentinels

# A sentinel answers at once or is away: ask the next one instead of waiting.
SENTINEL_TIMEOUT_SECONDS = 1.0


class PrimaryConnection(SentinelManagedConnection):
    """Sentinel's connection, asking the sentinels for the primary on every (re)connect.

    redis-py 8 re-makes a dropped connection inside a command's retry through
    ``connect_check_health``, which skips Sentinel's ``connect()`` and dials the old
    primary's address for as long as the retries last (redis/redis-py#3874): a worker
    blocked on its queues when the primary died never reached the new one. It also takes
    ``ssl`` (the pool passes it on when a connection class is named) and leaves it to the
    class (``PrimarySSLConnection`` for TLS)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("ssl", None)
        super().__init__(**kwargs)

    def connect_check_health(self, check_health: bool = True,
                             retry_socket_connect: bool = True) -> None:
        """Connect to the primary the sentinels name now (a replica pool: as before)."""
        if not self._sock and self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(check_health, retry_socket_connect)


class PrimarySSLConnection(PrimaryConnection, SSLConnection):
    """``PrimaryConnection`` over TLS."""


@dataclass(frozen=True)
class SentinelSettings:
    """``REDIS_SENTINELS`` and its companions, parsed and checked against the policy."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    password: str | None = None
    sentinel_password: str | None = None
    tls: bool = False
    ca_file: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SentinelSettings | None:
        """The settings when ``REDIS_SENTINELS`` is set (ValueError when it is malformed or
        refused by the policy); None to use ``REDIS_URL``."""
        named = config.get("REDIS_SENTINELS")
        if not named:
            return None
        text = ",".join(named) if isinstance(named, list | tuple) else str(named)
        settings = cls(tuple(parse_sentinels(text)),
                       str(config.get("REDIS_SENTINEL_MASTER") or "mymaster"),
                       config.get("REDIS_PASSWORD") or None,
                       config.get("REDIS_SENTINEL_PASSWORD") or None,
                       bool(config.get("REDIS_SENTINEL_TLS")),
                       config.get("REDIS_TLS_CA_FILE") or None)
        check_sentinels(list(settings.sentinels), sentinel_password=settings.sentinel_password,
                        password=settings.password, tls=settings.tls)
        return settings

    def tls_kwargs(self) -> dict[str, Any]:
        if not self.tls:
            return {}
        return {"ssl": True, **({"ssl_ca_certs": self.ca_file} if self.ca_file else {})}

    def node_kwargs(self) -> dict[str, Any]:
        """How to talk to the primary the sentinels name."""
        return {"password": self.password, **self.tls_kwargs(),
                "connection_class": PrimarySSLConnection if self.tls else PrimaryConnection}

    def sentinel_kwargs(self) -> dict[str, Any]:
        """How to talk to the sentinels themselves."""
        return {"password": self.sentinel_password, **self.tls_kwargs(),
                "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
                "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS}


def redis_client(config: Mapping[str, Any], **kwargs: Any) -> Redis:
    """The app's Redis client (``kwargs``: redis-py's, e.g. socket timeouts): the primary
    through Sentinel when ``REDIS_SENTINELS`` is set, else ``REDIS_URL``; ValueError when
    the policy refuses the configuration (``app/redis_url.py``)."""
    settings = SentinelSettings.from_config(config)
    if settings is None:
        check_redis_url(config["REDIS_URL"])
        return Redis.from_url(config["REDIS_URL"], **kwargs)
    sentinel = Sentinel(list(settings.sentinels), sentinel_kwargs=settings.sentinel_kwargs(),
                        **settings.node_kwargs())
    return sentinel.master_for(settings.master, **kwargs)


def patience(config: Mapping[str, Any]) -> Retry:
    """How the worker side's clients wait out a Redis that went away (a restart, the seconds
    of a failover without a primary): tries for up to ``WORKER_REDIS_PATIENCE_SECONDS``,
    0.1 s doubling to 2 s apart. The web keeps redis-py's short default and answers at once."""
    seconds = float(config.get("WORKER_REDIS_PATIENCE_SECONDS", 60))
    # About 2 s a try once it has waited a few seconds.
    return Retry(ExponentialBackoff(cap=2.0, base=0.1), max(3, int(seconds / 2) + 5))


def limits_storage(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The same Redis for the ``limits`` library (Flask-Limiter's storage, the hourly send
    rate): its storage URI and options (``redis+sentinel://`` through Sentinel, writes and
    reads on the primary alone)."""
    settings = SentinelSettings.from_config(config)
    if settings is None:
        check_redis_url(config["REDIS_URL"])
        return limits_storage_url(config["REDIS_URL"]), {}
    hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in settings.sentinels)
    options = {**settings.node_kwargs(), "sentinel_kwargs": settings.sentinel_kwargs(),
               "use_replicas": False, "socket_connect_timeout": 2, "socket_timeout": 2}
    return f"redis+sentinel://{hosts}/{settings.master}", options


def rq_cli_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """RQ's CLI settings (``rq worker -c``) for the same Redis: ``SENTINEL`` when
    ``REDIS_SENTINELS`` is set, else ``REDIS_URL``."""
    settings = SentinelSettings.from_config(config)
    if settings is None:
        check_redis_url(config["REDIS_URL"])
        return {"REDIS_URL": config["REDIS_URL"], "SENTINEL": None}
    block = {"INSTANCES": list(settings.sentinels), "MASTER_NAME": settings.master,
             "PASSWORD": settings.password, "SSL": settings.tls, "SOCKET_TIMEOUT": 10,
             "SENTINEL_KWARGS": settings.sentinel_kwargs(),
             "CONNECTION_KWARGS": {"socket_connect_timeout": 2,
                                   **settings.node_kwargs()}}
    return {"REDIS_URL": None, "SENTINEL": block}
