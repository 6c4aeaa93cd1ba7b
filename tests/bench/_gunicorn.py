"""gunicorn serving wsgi:app on a loopback port, shared by the server benchmarks."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_of(pids: list[int]) -> float:
    """User plus system CPU seconds of these processes so far (0 for any that are gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Gunicorn:
    """gunicorn with sync workers on a free loopback port; ready when /healthz answers 200."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        workers: int = 2,
        env: dict | None = None,
        timeout: int = 30,
    ):
        self.port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "R4H_SECRET_KEY": "bench-secret",
            "R4H_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            # wsgi:app starts in production mode; these single-machine runs mean it.
            "R4H_ALLOW_SQLITE_IN_PRODUCTION": "true",
            "R4H_ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION": "true",
            **(env or {}),
        }
        self.log = open(workdir / f"gunicorn-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                str(timeout),
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()  # also when refused: pytest turns an unclosed socket into an error
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become ready")

    def cpu_seconds(self) -> float:
        """User and system CPU used so far by gunicorn and its workers (from /proc)."""
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids += [int(pid) for pid in children.read_text().split()]
        except OSError:
            return float("nan")
        return cpu_of(pids)

    def stop(self) -> None:
        """SIGTERM, then wait (kill only if it hangs)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
