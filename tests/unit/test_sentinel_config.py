"""Redis Sentinel's settings (issue 23): parsing, the REDIS_URL policy applied to sentinels,
the one client every part of the app gets (queues, limits, RQ's CLI), and the Korean 503
page while there is no primary. No server: nothing here connects."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, SentinelConnectionPool
from rq.cli.helpers import get_redis_from_config

from app import config
from app.queue import queues
from app.redis_client import (
    PrimaryConnection,
    PrimarySSLConnection,
    limits_storage,
    redis_client,
    rq_cli_settings,
)
from app.redis_url import check_sentinels, parse_sentinels

LOCAL = {"REDIS_URL": "redis://127.0.0.1:6379/0",
         "REDIS_SENTINELS": "127.0.0.1:26379, 127.0.0.1:26380,localhost:26381",
         "REDIS_SENTINEL_MASTER": "mailroom", "REDIS_PASSWORD": "node-secret",
         "REDIS_SENTINEL_PASSWORD": "sentinel-secret"}


def test_sentinels_are_parsed_as_host_port_pairs():
    assert parse_sentinels(LOCAL["REDIS_SENTINELS"]) == [
        ("127.0.0.1", 26379), ("127.0.0.1", 26380), ("localhost", 26381)]
    assert parse_sentinels("[::1]:26379,") == [("::1", 26379)]


@pytest.mark.parametrize("text", ["", " , ", "sentinel-a", "a:port", "a:0", "a:70000", ":26379"])
def test_a_malformed_sentinel_list_says_what_is_expected(text):
    with pytest.raises(ValueError, match="REDIS_SENTINELS"):
        parse_sentinels(text)


def test_the_policy_applies_to_sentinels_off_this_machine():
    remote = [("10.0.0.5", 26379), ("127.0.0.1", 26379)]
    check_sentinels([("127.0.0.1", 26379), ("::1", 26380)], sentinel_password=None,
                    password=None, tls=False)  # all local: as REDIS_URL on loopback
    with pytest.raises(ValueError, match="REDIS_SENTINEL_PASSWORD"):
        check_sentinels(remote, sentinel_password=None, password="p", tls=False)
    with pytest.raises(ValueError, match="REDIS_PASSWORD"):
        check_sentinels(remote, sentinel_password="s", password=None, tls=False)
    check_sentinels(remote, sentinel_password="s", password="p", tls=False)
    check_sentinels(remote, sentinel_password=None, password=None, tls=True)


def test_the_environment_names_the_sentinel_settings():
    loaded = config.load({"REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_PASSWORD": "p",
                          "REDIS_SENTINEL_TLS": "true"}, "/tmp")
    assert (loaded["REDIS_SENTINELS"], loaded["REDIS_SENTINEL_MASTER"],
            loaded["REDIS_PASSWORD"], loaded["REDIS_SENTINEL_PASSWORD"],
            loaded["REDIS_SENTINEL_TLS"]) == ("127.0.0.1:26379", "mymaster", "p", None, True)
    assert config.load({}, "/tmp")["REDIS_SENTINELS"] is None  # make run: one private Redis


def test_the_client_goes_through_sentinel_to_the_primary():
    client = redis_client(LOCAL, socket_timeout=10)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.is_master
    assert pool.service_name == "mailroom" and pool.connection_class is PrimaryConnection
    assert (pool.connection_kwargs["password"], pool.connection_kwargs["socket_timeout"]) == (
        "node-secret", 10)
    manager = pool.sentinel_manager
    assert [(c.connection_pool.connection_kwargs["port"],
             c.connection_pool.connection_kwargs["password"])
            for c in manager.sentinels] == [(26379, "sentinel-secret"),
                                             (26380, "sentinel-secret"),
                                             (26381, "sentinel-secret")]


def test_without_sentinels_the_client_is_redis_url_and_tls_is_honoured():
    plain = redis_client({"REDIS_URL": "redis://127.0.0.1:6390/2"})
    assert plain.connection_pool.connection_kwargs["port"] == 6390
    with pytest.raises(ValueError, match="REDIS_URL refused"):
        redis_client({"REDIS_URL": "redis://10.0.0.5:6379/0"})
    tls = redis_client({**LOCAL, "REDIS_SENTINEL_TLS": True,
                        "REDIS_TLS_CA_FILE": "/etc/ssl/mailroom-ca.pem"})
    assert tls.connection_pool.connection_class is PrimarySSLConnection
    assert tls.connection_pool.connection_kwargs["ssl_ca_certs"] == "/etc/ssl/mailroom-ca.pem"
    with pytest.raises(ValueError, match="REDIS_SENTINEL_PASSWORD"):
        redis_client({**LOCAL, "REDIS_SENTINELS": "10.0.0.5:26379",
                      "REDIS_SENTINEL_PASSWORD": None})


def test_limits_get_the_same_redis():
    uri, options = limits_storage(LOCAL)
    assert uri == "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380,localhost:26381/mailroom"
    assert options["use_replicas"] is False and options["password"] == "node-secret"
    assert options["sentinel_kwargs"]["password"] == "sentinel-secret"
    assert limits_storage({"REDIS_URL": "unix:///run/redis.sock"}) == (
        "redis+unix:///run/redis.sock", {})


def test_rq_cli_settings_are_a_sentinel_block_rq_understands():
    settings = rq_cli_settings(LOCAL)
    assert settings["REDIS_URL"] is None
    assert settings["SENTINEL"]["INSTANCES"][0] == ("127.0.0.1", 26379)
    client = get_redis_from_config(settings)  # RQ's own CLI helper
    pool = client.connection_pool
    assert pool.service_name == "mailroom" and pool.connection_class is PrimaryConnection
    assert rq_cli_settings({"REDIS_URL": "redis://127.0.0.1:6379/0"}) == {
        "REDIS_URL": "redis://127.0.0.1:6379/0", "SENTINEL": None}


class _Pool:
    """What a Sentinel connection asks its pool: the primary is now on port 1."""

    is_master, check_connection, service_name = True, False, "mailroom"

    def get_master_address(self) -> tuple[str, int]:
        return ("127.0.0.1", 1)


def test_a_connection_remade_inside_a_retry_asks_for_the_new_primary():
    """redis/redis-py#3874: a reconnect inside a command's retry dialled the old address."""
    conn = PrimaryConnection(connection_pool=_Pool(), host="127.0.0.1", port=2, ssl=False,
                             socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    with pytest.raises(RedisConnectionError):
        conn.connect_check_health(check_health=False)
    assert (conn.host, conn.port) == ("127.0.0.1", 1)


def test_the_app_builds_every_client_through_sentinel(app_config: dict[str, Any]):
    from app import create_app

    overrides = {**app_config, **LOCAL}
    overrides.pop("RATELIMIT_STORAGE_URI")
    made = create_app(overrides)
    assert isinstance(queues(made).connection.connection_pool, SentinelConnectionPool)
    assert made.config["RATELIMIT_STORAGE_URI"].startswith("redis+sentinel://")
    assert made.config["RATELIMIT_STORAGE_OPTIONS"]["use_replicas"] is False


@pytest.mark.parametrize("error", [MasterNotFoundError("No master found for 'mymaster'"),
                                   RedisConnectionError("Connection refused")])
def test_no_primary_answers_the_korean_503_page_never_500(app: Flask, error: Exception):
    def no_primary() -> str:
        raise error

    app.add_url_rule("/no-primary", "no_primary", no_primary)
    app.add_url_rule("/no-primary.json", "no_primary_json", no_primary)
    page = app.test_client().get("/no-primary")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "작업 대기열(Redis)에 잠시 연결할 수 없습니다" in page.get_data(as_text=True)
    answer = app.test_client().get("/no-primary.json")
    assert answer.status_code == 503 and "Redis" in answer.get_json()["message"]
