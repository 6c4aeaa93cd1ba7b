"""A live app server in a subprocess, for browser tests and benchmarks.

The server runs `flask run` on a free port against its own SQLite file, prepared once per
session with `init-db` and `seed-demo` and copied for each server. It can be stopped,
restarted on the same port (the same origin, so the browser keeps its service worker and
IndexedDB), and made to answer 500 through tests/e2e/faulty_app.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-heroes-e2e"
RUNNER_EMAIL = "runner@example.org"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# The servers' key, and the tests' when they write to a server's database: it seals the
# admins' TOTP secrets (r4h_pwa/sealing.py), so both sides must hold the same one.
SECRET_KEY = "e2e-secret-key"


def base_env(database: Path) -> dict:
    """The environment of every server command: its database, fast hashes, no rate limits."""
    env = dict(os.environ)
    env.update(
        R4H_DATABASE_URL=_sqlite_url(database),
        R4H_SECRET_KEY=SECRET_KEY,
        R4H_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        R4H_RATELIMIT_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("DATABASE_URL", None)
    return env


def flask(args: list[str], env: dict, app: str = "r4h_pwa") -> None:
    """Run one flask command; raise with its output if it fails."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", app, *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def prepare_database(path: Path) -> Path:
    """A migrated SQLite database with the demo data (runner@example.org, DEMO_PASSWORD)."""
    env = base_env(path)
    flask(["init-db"], env)
    flask(["seed-demo", "--password", DEMO_PASSWORD], env)
    return path


class LiveServer:
    """The app under `flask run` in a subprocess, on one port for its whole life."""

    def __init__(self, workdir: Path, template_db: Path, env: dict | None = None):
        self.workdir = workdir
        self.env = env or {}  # more settings for the server (R4H_...)
        self.database = workdir / "server.sqlite"
        shutil.copyfile(template_db, self.database)
        self.fault_file = workdir / "fault"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        """Start the server and wait until /healthz answers."""
        env = base_env(self.database)
        env.update(R4H_PUBLIC_BASE_URL=self.url, R4H_E2E_FAULT_FILE=str(self.fault_file))
        env.update(self.env)
        command = [
            sys.executable, "-m", "flask", "--app", "tests.e2e.faulty_app:create_faulty_app()",
            "run", "--host", "127.0.0.1", "--port", str(self.port), "--no-reload",
        ]  # fmt: skip
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server; the port stays this server's for a restart."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> LiveServer:
        """Stop, then start again on the same port (the same origin for the browser)."""
        self.stop()
        return self.start()

    def fail(self, mode: str = "500") -> None:
        """Make /api/ answer 500: "500" before the app, "500-after" once the app committed."""
        self.fault_file.write_text(mode)

    def heal(self) -> None:
        """Normal service again."""
        self.fault_file.unlink(missing_ok=True)

    @contextmanager
    def db(self):
        """The server's database through create_app, inside an app context."""
        from r4h_pwa import create_app
        from r4h_pwa.extensions import db

        url = _sqlite_url(self.database)
        app = create_app(
            {"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY}
        )
        with app.app_context():
            try:
                yield db
            finally:
                db.session.remove()
                db.engine.dispose()


def launch_chromium(playwright, extra_args: tuple[str, ...] = (), **options):
    """Debian's Chromium through Playwright (never Playwright's own download)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], **options
    )


_shared: dict = {}


def shared_playwright():
    """The one Playwright (sync API) of this process, started on first use.

    The sync API runs one instance per thread: every conftest that wants a browser must
    share this one (a second `with sync_playwright()` fails while the first is alive).
    """
    if "playwright" not in _shared:
        from playwright.sync_api import sync_playwright

        _shared["playwright"] = sync_playwright().start()
    return _shared["playwright"]


def shared_browser():
    """The one headless Chromium of this process, launched on first use."""
    if "browser" not in _shared or not _shared["browser"].is_connected():
        _shared["browser"] = launch_chromium(shared_playwright())
    return _shared["browser"]


def stop_shared() -> None:
    """Close the shared browser and stop Playwright (at the end of the test session)."""
    if "browser" in _shared:
        _shared.pop("browser").close()
    if "playwright" in _shared:
        _shared.pop("playwright").stop()
