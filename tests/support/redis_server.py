"""A throwaway ``redis-server`` for tests: loopback only, no persistence, its own temp dir.

``with redis_server() as url: ...`` starts one on a free port, waits until it answers ``PING``
and stops it afterwards. Without a ``redis-server`` binary it calls ``pytest.skip`` (``make
test`` installs the Debian package when run as root), or ``pytest.fail`` when
``BESTRATE_REQUIRE_REDIS=1`` says the Redis tests must run (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["REQUIRE_ENV", "redis_server"]

REQUIRE_ENV = "BESTRATE_REQUIRE_REDIS"

_START_TIMEOUT = 10.0
_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start(binary: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    log = workdir / "redis.log"
    for _ in range(_ATTEMPTS):
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(workdir), "--logfile", str(log), "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        give_up = time.monotonic() + _START_TIMEOUT
        while proc.poll() is None and time.monotonic() < give_up:
            if _pings(port):
                return proc, port
            time.sleep(0.02)  # a child process: there is no event to wait on
        _stop(proc)
    detail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"redis-server did not start:\n{detail}")


@contextmanager
def redis_server() -> Iterator[str]:
    """Run a private ``redis-server``; yield its ``redis://127.0.0.1:PORT/0`` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but redis-server is not installed", pytrace=False)
        pytest.skip("redis-server is not installed (`make test` installs it via apt-get as root)")
    with tempfile.TemporaryDirectory(prefix="bestrate-redis-") as tmp:
        proc, port = _start(binary, Path(tmp))
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(proc)
