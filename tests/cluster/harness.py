"""A production-shaped cluster on this machine, from the files in deploy/.

nginx (Debian's package) with deploy/nginx/r4h_pwa.conf rendered for loopback ports and a
throwaway certificate, two gunicorn app servers started with deploy/gunicorn.conf.py and the
settings of deploy/env.example, this machine's PostgreSQL (a new database, migrated with
`flask db upgrade` as the guide does) and this machine's Redis (a key prefix of its own).

Used by tests/cluster/ (the fixture) and tests/bench/bench_cluster.py.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.helpers import self_signed_certificate

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "r4h_pwa.conf"
GUNICORN_CONFIG = DEPLOY / "gunicorn.conf.py"
ENV_EXAMPLE = DEPLOY / "env.example"
REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
# The template's variables: the guide's envsubst line names exactly these.
_VARIABLE = re.compile(r"\$\{(R4H_[A-Z0-9_]+)\}")
TIMEOUT = 30


class Missing(RuntimeError):
    """Something the cluster needs is not on this machine (nginx, PostgreSQL or Redis)."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def template_variables(text: str) -> set[str]:
    """The ${R4H_...} names a deploy/ template uses."""
    return set(_VARIABLE.findall(text))


def render(text: str, values: dict[str, str]) -> str:
    """What `envsubst '${R4H_A} ${R4H_B} ...'` writes: those names replaced, nginx's $vars kept."""
    missing = template_variables(text) - set(values)
    if missing:
        raise ValueError(f"no value for {sorted(missing)}")
    return _VARIABLE.sub(lambda match: values[match.group(1)], text)


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, as systemd's EnvironmentFile reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def nginx_binary() -> str:
    """Debian's nginx (apt-get install nginx), or Missing."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise Missing("nginx is not installed (apt-get install -y nginx; see .ci/ensure-browsers)")
    return found


def _wait(check, what: str, seconds: float = 30, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready in {seconds:g} s")


def _answers(port: int, path: str = "/healthz", context: ssl.SSLContext | None = None) -> bool:
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


# ---- PostgreSQL and Redis ------------------------------------------------------------------------


class Database:
    """A new database on this machine's PostgreSQL, dropped at the end."""

    def __init__(self, server_url: str | None = None, prefix: str = "cluster"):
        import psycopg

        self.server_url = server_url or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES
        self.name = f"{prefix}_{secrets.token_hex(4)}"
        try:
            self.admin = psycopg.connect(self.server_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise Missing(f"no PostgreSQL at {self.server_url}: {exc}") from None
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        parts = urlsplit(self.server_url)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def drop(self) -> None:
        """Drop the database, ending whatever is still connected to it."""
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


class RedisKeys:
    """A key prefix of the cluster's own in this machine's Redis; its keys go at the end."""

    def __init__(self, url: str = REDIS_URL):
        import redis  # the app's dependency, through flask-limiter[redis]

        self.url = url
        self.client = redis.Redis.from_url(url)
        try:
            self.client.ping()
        except redis.ConnectionError as exc:
            raise Missing(f"no Redis at {url}: {exc}") from None
        self.prefix = f"r4h-cluster-{secrets.token_hex(6)}"

    def keys(self) -> list[bytes]:
        """Every key under the prefix."""
        return list(self.client.scan_iter(match=f"*{self.prefix}*"))

    def clear(self) -> None:
        """Forget every count (rate limits) the cluster made so far."""
        for key in self.keys():
            self.client.delete(key)

    def close(self) -> None:
        """Delete the keys and disconnect."""
        self.clear()
        self.client.close()


# ---- the app servers ----------------------------------------------------------------------------


class AppServer:
    """One gunicorn app server: deploy/gunicorn.conf.py with R4H_BIND set, in its own process
    group (so a crash can take the master and its workers at once, as an OOM kill would)."""

    def __init__(self, port: int, env: dict[str, str], workdir: Path, name: str):
        self.port = port
        # A metrics folder of its own, as the systemd unit gives each server (/run/r4h_pwa-PORT).
        self.metrics_dir = workdir / f"metrics-{name}"
        self.env = {
            **env,
            "R4H_BIND": f"127.0.0.1:{port}",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.workdir = workdir
        self.name = name
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    def start(self, wait: bool = True) -> None:
        """Start the server; each start logs to a file of its own (gunicorn-a-1.log, ...)."""
        self.starts += 1
        self.log_path = self.workdir / f"gunicorn-{self.name}-{self.starts}.log"
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--config", str(GUNICORN_CONFIG)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Until /healthz answers 200 on the server's own port."""
        _wait(
            lambda: _answers(self.port),
            f"gunicorn {self.name} (see {self.log_path})",
            process=self.process,
        )

    def connections(self) -> int:
        """Open TCP connections to this server (nginx's, each one request in progress)."""
        established = 0
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            if state == "01" and int(local.split(":")[1], 16) == self.port:
                established += 1
        return established

    def workers(self) -> set[int]:
        """The worker processes' ids (the master's children)."""
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return set()
        return {int(child) for child in text.split()}

    def kill(self) -> None:
        """SIGKILL to the master and every worker: a crash, no goodbye to anyone."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def reload(self, expected_workers: int, seconds: float = 60) -> tuple[set[int], set[int]]:
        """HUP (systemctl reload): new workers with the code on disk; the old ones finish."""
        old = self.workers()
        self.process.send_signal(signal.SIGHUP)

        def replaced():
            now = self.workers()
            return len(now) == expected_workers and not now & old

        _wait(replaced, f"gunicorn {self.name}'s reload", seconds, self.process)
        return old, self.workers()

    def terminate(self) -> None:
        """SIGTERM: the master stops its workers gracefully (stop() waits for it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL to the group if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        """What every start of this server wrote."""
        return "".join(
            path.read_text() for path in sorted(self.workdir.glob(f"gunicorn-{self.name}-*.log"))
        )


# ---- nginx --------------------------------------------------------------------------------------


# The wrapper Debian's /etc/nginx/nginx.conf is in production: the site file goes inside http {}.
# Here it also keeps pid, logs and temporary files in the test's own folder.
_MAIN_CONF = """\
{user}worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/r4h_pwa.conf;
}}
"""


class Nginx:
    """Debian's nginx in the foreground, with deploy/nginx/r4h_pwa.conf rendered for loopback."""

    def __init__(self, workdir: Path, app_ports: list[int]):
        self.binary = nginx_binary()
        self.dir = workdir / "nginx"
        self.dir.mkdir()
        self.https_port, self.http_port = free_port(), free_port()
        cert, key = self_signed_certificate(self.dir)
        self.values = {
            "R4H_SERVER_NAME": "localhost 127.0.0.1",
            "R4H_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "R4H_HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "R4H_TLS_CERT": str(cert),
            "R4H_TLS_KEY": str(key),
            "R4H_ACME_ROOT": str(self.dir / "acme"),
            "R4H_LOG_DIR": str(self.dir),
            "R4H_STATIC_DIR": str(ROOT / "static"),
            "R4H_APP_SERVER_1": f"127.0.0.1:{app_ports[0]}",
            "R4H_APP_SERVER_2": f"127.0.0.1:{app_ports[1]}",
        }
        (self.dir / "r4h_pwa.conf").write_text(render(NGINX_SITE.read_text(), self.values))
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the checkout's static/
        (self.dir / "nginx.conf").write_text(_MAIN_CONF.format(dir=self.dir, user=user))
        self.context = ssl.create_default_context(cafile=str(cert))
        self.process: subprocess.Popen | None = None

    def certificate_spki(self) -> str:
        """The certificate's public key as Chromium's --ignore-certificate-errors-spki-list
        takes it (base64 of its SHA-256): a browser told this trusts the cluster's key alone,
        so pages are a secure context and may register a service worker."""
        cert = self.values["R4H_TLS_CERT"]
        public = subprocess.run(
            ["openssl", "x509", "-pubkey", "-noout", "-in", cert], check=True, capture_output=True
        ).stdout
        der = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "der"],
            input=public,
            check=True,
            capture_output=True,
        ).stdout
        return base64.b64encode(hashlib.sha256(der).digest()).decode()

    def command(self, *extra: str) -> list[str]:
        """nginx with this folder's config (and error log from the first line on)."""
        return [
            self.binary,
            "-e",
            str(self.dir / "error.log"),
            "-p",
            str(self.dir),
            "-c",
            str(self.dir / "nginx.conf"),
            *extra,
        ]

    def start(self) -> None:
        """nginx -t, then nginx in the foreground; ready when it answers on its HTTPS port."""
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        self._stderr = open(self.dir / "stderr.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=self._stderr
        )
        _wait(
            lambda: _answers(self.https_port, "/static/sw.js", self.context),
            "nginx",
            process=self.process,
        )

    def disabled_at(self, port: int) -> list[float]:
        """When nginx took the app server on this port out of rotation (max_fails=1), as Unix
        times to the second, from its error log's "upstream server temporarily disabled"."""
        path = self.dir / "r4h_pwa.error.log"
        text = path.read_text() if path.exists() else ""
        return [
            time.mktime(time.strptime(stamp, "%Y/%m/%d %H:%M:%S"))  # nginx logs local time
            for stamp in re.findall(
                rf"^(\S+ \S+) \[warn\] .*upstream server temporarily disabled"
                rf'.*upstream: "http://127\.0\.0\.1:{port}/',
                text,
                re.MULTILINE,
            )
        ]

    def fail_timeout(self) -> int:
        """How long nginx leaves a failed app server alone (the site's fail_timeout), in s."""
        text = (self.dir / "r4h_pwa.conf").read_text()
        return int(re.search(r"fail_timeout=(\d+)s", text).group(1))

    def access_log(self) -> str:
        """nginx's access log so far."""
        path = self.dir / "r4h_pwa.access.log"
        return path.read_text() if path.exists() else ""

    def access_lines(self, *parts: str, timeout: float = 10) -> list[str]:
        """The access log's lines holding every one of parts, once there is one: nginx writes
        a request's line after its answer has gone."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_log().splitlines()
            if found := [line for line in lines if all(part in line for part in parts)]:
                return found
            assert time.monotonic() < deadline, f"nginx's access log has no line with {parts}"
            time.sleep(0.05)

    def stop(self) -> None:
        """QUIT: finish the open requests, then exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


# ---- the cluster --------------------------------------------------------------------------------


class Cluster:
    """nginx in front of two gunicorn servers on a new PostgreSQL database and Redis."""

    def __init__(self, workdir: Path, workers: int = 2, settings: dict[str, str] | None = None):
        self.workdir = workdir
        self.workers = workers
        self.database = Database()
        self.redis: RedisKeys | None = None
        self.servers: list[AppServer] = []
        self.nginx: Nginx | None = None
        try:
            self.redis = RedisKeys()
            self._migrate()
            ports = [free_port(), free_port()]
            self.nginx = Nginx(workdir, ports)
            env = self._environment(settings or {})
            self.servers = [
                AppServer(port, env, workdir, name)
                for port, name in zip(ports, ("a", "b"), strict=True)
            ]
            for server in self.servers:
                server.start(wait=False)
            for server in self.servers:
                server.wait_ready()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise

    @property
    def database_url(self) -> str:
        """The cluster database's URL (postgresql://...)."""
        return self.database.url

    def _base_env(self) -> dict[str, str]:
        # The tests' own R4H_* switches and URLs are not the app's settings.
        return {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("R4H_") and name not in ("DATABASE_URL", "TEST_DATABASE_URL")
        }

    def flask(self, *args: str, database_url: str | None = None) -> str:
        """`flask --app r4h_pwa ARGS` on the cluster's database (or database_url), as
        deploy/r4h-flask runs it: with deploy/env.example's settings; its output."""
        env = {
            **self._base_env(),
            **read_env_file(ENV_EXAMPLE),
            **self._redis_settings(),
            "DATABASE_URL": database_url or self.database.url,
        }
        done = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "r4h_pwa", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def _migrate(self) -> None:
        """`flask --app r4h_pwa db upgrade`, as the guide runs it before starting servers."""
        self.flask("db", "upgrade")

    def _redis_settings(self) -> dict[str, str]:
        """Rate limits and the page cache in this machine's Redis, under the cluster's prefix
        (a site keeps the page cache in db 1, as deploy/env.example says)."""
        return {
            "R4H_RATELIMIT_STORAGE_URI": self.redis.url,
            "R4H_RATELIMIT_KEY_PREFIX": self.redis.prefix,
            "R4H_PAGE_CACHE_URL": self.redis.url,
            "R4H_PAGE_CACHE_PREFIX": f"{self.redis.prefix}:",
        }

    def _environment(self, settings: dict[str, str]) -> dict[str, str]:
        """deploy/env.example with this cluster's secrets, database, Redis and address."""
        env = {**self._base_env(), **read_env_file(ENV_EXAMPLE)}
        env.update(
            {
                "R4H_SECRET_KEY": secrets.token_hex(32),
                "R4H_SEALING_KEY": secrets.token_hex(32),
                "DATABASE_URL": self.database.url,
                **self._redis_settings(),
                "R4H_PUBLIC_BASE_URL": f"https://127.0.0.1:{self.nginx.https_port}",
                "R4H_WORKERS": str(self.workers),
                **settings,
            }
        )
        return env

    def restart(self, server: AppServer) -> None:
        """Start a crashed server again, then wait until nginx sends it requests again.

        nginx leaves a server that failed alone for fail_timeout (10 s) after it noticed,
        even if it came back at once; a test that kills the other server in that window
        would see 502s for up to 10 s (as a site would: the phone's outbox tries again).
        """
        server.start()
        noticed = self.nginx.disabled_at(server.port)
        if noticed:
            # +1: the log's times are whole seconds
            time.sleep(max(0.0, max(noticed) + self.nginx.fail_timeout() + 1 - time.time()))

    def connect(
        self, timeout: float = TIMEOUT, source: str | None = None
    ) -> http.client.HTTPSConnection:
        """A new HTTPS connection to nginx, trusting the cluster's certificate; from source
        (another loopback address, e.g. 127.0.0.2: to nginx, another machine) if given."""
        return http.client.HTTPSConnection(
            "127.0.0.1",
            self.nginx.https_port,
            timeout=timeout,
            context=self.nginx.context,
            source_address=(source, 0) if source else None,
        )

    def request(
        self,
        method: str,
        path: str,
        body=None,
        headers: dict | None = None,
        server: AppServer | None = None,
        source: str | None = None,
    ):
        """One request through nginx (or straight to one app server, as nginx would send it);
        source: the client's loopback address (see connect).

        Returns (status, headers as a list of pairs, body bytes).
        """
        if server is None:
            conn = self.connect(source=source)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
            host = f"127.0.0.1:{self.nginx.https_port}"  # what nginx passes on
            headers = {
                "Host": host,
                "X-Forwarded-Host": host,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "127.0.0.1",
                **(headers or {}),
            }
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop nginx and the servers, drop the database, delete the Redis keys."""
        if self.nginx is not None:
            self.nginx.stop()
        for server in self.servers:  # both at once: each waits for its workers
            server.terminate()
        for server in self.servers:
            server.stop()
        if self.redis is not None:
            self.redis.close()
        self.database.drop()
