"""A local Redis Sentinel stack for the fault tests: one primary, one replica and three
sentinels (``redis-server <conf> --sentinel``: Debian ships no separate binary needed) on
free loopback ports, each with a password, with a short ``down-after-milliseconds`` so a
failover takes a few seconds. Started and stopped by the test; every process is ours and
ended by its own PID."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from app.devstack import redis_server_binary
from tests.support import free_port, stop_process, wait_until

MASTER = "mymaster"


def _write(path: str, lines: list[str]) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


class SentinelStack:
    """``start()``, then ``config()`` for the app; ``kill_primary()``, ``restart(port)``,
    ``failover()`` for the faults; ``stop()`` ends every process it started."""

    def __init__(self, down_after_ms: int = 1000, failover_timeout_ms: int = 5000) -> None:
        self.password = secrets.token_urlsafe(18)
        self.sentinel_password = secrets.token_urlsafe(18)
        self.dir = tempfile.mkdtemp(prefix="mailroom-sentinel-")
        self.binary = redis_server_binary()
        self.down_after_ms, self.failover_timeout_ms = down_after_ms, failover_timeout_ms
        ports: set[int] = set()
        while len(ports) < 5:  # free_port() may name a port twice before any is bound
            ports.add(free_port())
        self.first_primary, self.first_replica, *self.sentinel_ports = sorted(ports)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    # -- the processes ------------------------------------------------------------------

    def _node_conf(self, port: int, replica_of: int | None) -> str:
        lines = [f"port {port}", "bind 127.0.0.1", f"requirepass {self.password}",
                 f"masterauth {self.password}", 'save ""', "appendonly no",
                 f"dir {self.dir}", f"dbfilename dump-{port}.rdb", "loglevel warning",
                 f"logfile {self.dir}/redis-{port}.log"]
        if replica_of:
            lines.append(f"replicaof 127.0.0.1 {replica_of}")
        return _write(os.path.join(self.dir, f"redis-{port}.conf"), lines)

    def _sentinel_conf(self, port: int) -> str:
        lines = [f"port {port}", "bind 127.0.0.1", f"dir {self.dir}", "loglevel notice",
                 f"logfile {self.dir}/sentinel-{port}.log",
                 f"requirepass {self.sentinel_password}",
                 f"sentinel sentinel-pass {self.sentinel_password}",
                 f"sentinel monitor {MASTER} 127.0.0.1 {self.first_primary} 2",
                 f"sentinel auth-pass {MASTER} {self.password}",
                 f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}",
                 f"sentinel failover-timeout {MASTER} {self.failover_timeout_ms}",
                 f"sentinel parallel-syncs {MASTER} 1"]
        return _write(os.path.join(self.dir, f"sentinel-{port}.conf"), lines)

    def _spawn(self, port: int, args: list[str]) -> None:
        self.processes[port] = subprocess.Popen([self.binary, *args],
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL,
                                                start_new_session=True)

    def start_node(self, port: int, replica_of: int | None = None) -> None:
        """A data node on ``port`` (its config kept, so a restart is the same server)."""
        path = os.path.join(self.dir, f"redis-{port}.conf")
        if not os.path.exists(path):
            self._node_conf(port, replica_of)
        self._spawn(port, [path])
        wait_until(lambda: self._pings(self.node(port)), 10, f"redis-server on {port}")

    def start(self) -> SentinelStack:
        """Primary, replica, three sentinels; returns once the replica is in sync and every
        sentinel knows the other two and the replica."""
        try:
            self.start_node(self.first_primary)
            self.start_node(self.first_replica, replica_of=self.first_primary)
            for port in self.sentinel_ports:
                self._spawn(port, [self._sentinel_conf(port), "--sentinel"])
            wait_until(self._ready, 60, "the Sentinel stack (replica in sync, 3 sentinels)")
        except BaseException:
            self.stop()  # nothing of ours outlives a stack that did not start
            raise
        return self

    def _ready(self) -> bool:
        exited = [port for port, process in self.processes.items()
                  if process.poll() is not None]
        if exited:
            raise RuntimeError(f"redis-server on {exited} exited at start (a port taken?)")
        if not self.in_sync(self.first_replica):
            return False
        for port in self.sentinel_ports:
            try:
                state = self.sentinel(port).sentinel_master(MASTER)
            except RedisError:
                return False
            if state.get("num-other-sentinels") != 2 or state.get("num-slaves") != 1:
                return False
        return True

    def stop(self) -> None:
        """End every process this stack started (by PID) and remove its folder."""
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
            stop_process(process)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- clients and questions ------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The app's settings for this stack (the policy's loopback case, passwords on)."""
        return {"REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports),
                "REDIS_SENTINEL_MASTER": MASTER, "REDIS_PASSWORD": self.password,
                "REDIS_SENTINEL_PASSWORD": self.sentinel_password}

    def node(self, port: int) -> Redis:
        return Redis(port=port, password=self.password, socket_timeout=2,
                     socket_connect_timeout=1)

    def sentinel(self, port: int | None = None) -> Redis:
        return Redis(port=port or self.sentinel_ports[0], password=self.sentinel_password,
                     socket_timeout=2, socket_connect_timeout=1, decode_responses=True)

    @staticmethod
    def _pings(client: Redis) -> bool:
        try:
            return bool(client.ping())
        except RedisError:
            return False

    @staticmethod
    def _info(client: Redis) -> dict[str, Any]:
        try:
            return client.info("replication")
        except RedisError:
            return {}

    def primary_port(self) -> int | None:
        """The primary's port as the first sentinel that answers names it."""
        for port in self.sentinel_ports:
            try:
                return int(self.sentinel(port).sentinel_get_master_addr_by_name(MASTER)[1])
            except (RedisError, TypeError):
                continue
        return None

    def in_sync(self, port: int) -> bool:
        """The node on ``port`` is a replica whose link to its primary is up."""
        info = self._info(self.node(port))
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    def role(self, port: int) -> str | None:
        return self._info(self.node(port)).get("role")

    # -- the faults ---------------------------------------------------------------------

    def kill(self, port: int) -> float:
        """SIGKILL the data node on ``port``; the moment it died (epoch seconds)."""
        process = self.processes[port]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return time.time()

    def cut_replication(self, port: int) -> int:
        """Cut the primary on ``port`` off from its replica (which can no longer sign in to
        it): what the primary takes from now on reaches no replica, and is lost when the
        primary dies and the replica is promoted. How many links were cut."""
        for other in (self.first_primary, self.first_replica):
            if other != port:
                self.node(other).config_set("masterauth", "not-the-password")
        return int(self.node(port).client_kill_filter(_type="replica"))

    def mend_replication(self, port: int) -> None:
        """The node on ``port`` signs in to a primary again (undoes ``cut_replication``)."""
        self.node(port).config_set("masterauth", self.password)

    def failover(self) -> float:
        """A planned switch (``SENTINEL FAILOVER``); the moment it was asked."""
        asked = time.time()
        self.sentinel().execute_command("SENTINEL", "FAILOVER", MASTER)
        return asked
