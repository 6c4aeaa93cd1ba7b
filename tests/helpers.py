"""Small helpers the tests share: app config, signing in, CSRF tokens, row counts, PDF reading."""

import email
import email.policy
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pypdfium2 as pdfium
import sqlalchemy as sa
import zxingcpp

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Lap, Run, Shipment
from tests.factories import PASSWORD, TOTP_SECRET


def _database_of_this_worker(url: str) -> str:
    """TEST_DATABASE_URL for this test process: its own database under pytest-xdist.

    Every worker empties the tables it uses, so two workers on one database would empty each
    other's. Worker gw1 of postgresql://…/test gets postgresql://…/test_gw1, made if missing.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url.startswith("postgresql") or not worker:
        return url
    base = sa.engine.make_url(sqlalchemy_url(url))
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


# Flask-WTF renders name before value; the templates' csrf() macro writes value last too, but
# neither promises an order: find the input by its name, then read its value.
_CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]+)"')


def sqlalchemy_url(url: str) -> str:
    """The URL with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_config(database_url: str, tmp_path, **overrides) -> dict:
    """The test config: its own instance folder, CSRF off unless asked, limits off unless asked."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "https://r4h.test",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
    }
    config.update(overrides)
    return config


POSTGRES_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL", ""))
_rebuilt_databases: set[str] = set()


def reset_schema() -> None:
    """Empty every table: drop and create on SQLite, truncate on PostgreSQL (much faster).

    The PostgreSQL test database outlives a run (CI reuses the machine's server), so its
    schema is rebuilt once per run: tables left by an older checkout may lack new columns.
    """
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        url = engine.url.render_as_string()
        if url not in _rebuilt_databases:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            _rebuilt_databases.add(url)
    _db.create_all()
    if engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def sign_in(client, email: str, password: str = PASSWORD) -> None:
    """Sign the test client in through the real login form (CSRF off)."""
    response = client.post("/login", data={"email": email, "password": password})
    response = pass_second_factor(client, response)
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    tag = _CSRF_INPUT.search(html)
    assert tag, "the page has no csrf_token field"
    value = _VALUE.search(tag.group(0))
    assert value, f"the csrf_token field has no value: {tag.group(0)}"
    return value.group(1)


def count(model, db=_db) -> int:
    """How many rows the model's table holds (outside the test's session cache)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def counts(db) -> tuple[int, int, int]:
    """How many runs, laps and check-ins are stored."""
    return count(Run, db), count(Lap, db), count(Checkin, db)


def shipment_count(db) -> int:
    """How many shipments are stored."""
    return count(Shipment, db)


def checkins(db) -> list[Checkin]:
    """Every stored check-in but the tombstones of removed ones, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Checkin).where(Checkin.removed_at.is_(None)).order_by(Checkin.checked_in_at)
        )
    )


def reload(db, shipment_id: str) -> Shipment:
    """The shipment as stored now."""
    db.session.expire_all()
    return db.session.get(Shipment, shipment_id)


def sync(client, phone, *runs: dict, device_id: str | None = None):
    """POST the runs to /api/v1/sync from the phone."""
    body = {"device_id": device_id or phone.device_id, "runs": list(runs)}
    return client.post("/api/v1/sync", json=body, headers=phone.headers)


def decode_qr(pdf: bytes, index: int = 0, scale: float = 4) -> list[str]:
    """Rasterise one page of a PDF and read every QR code on it with zxing-cpp."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[index].render(scale=scale).to_pil()
    finally:
        document.close()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [tuple(round(v, 2) for v in document[i].get_size()) for i in range(len(document))]
    finally:
        document.close()


def page_text(pdf: bytes, index: int = 0) -> str:
    """The text on one page of a PDF.

    pdfium reads a hyphen that ends a line as U+FFFE (a possible soft hyphen); on a label it is
    always a real one, such as the last character of a family link's token.
    """
    document = pdfium.PdfDocument(pdf)
    try:
        return document[index].get_textpage().get_text_range().replace("\ufffe", "-")
    finally:
        document.close()


def totp_code(steps_ahead: int = 0) -> str:
    """The code the test admins' authenticator shows now (or a step of 30 s later)."""
    return pyotp.TOTP(TOTP_SECRET).at(time.time() + 30 * steps_ahead)


def pass_second_factor(client, response, headers=None):
    """After the password: type the admin's code, if the login asked for one.

    A code works once, so a second sign-in of the same admin within 30 seconds uses the
    next step's code, which the server accepts as clock drift.
    """
    if not response.headers.get("Location", "").startswith("/login/code"):
        return response
    page = client.get("/login/code", headers=headers).get_data(as_text=True)
    csrf = {"csrf_token": csrf_token(page)} if _CSRF_INPUT.search(page) else {}
    for steps_ahead in (0, 1):
        data = {"code": totp_code(steps_ahead), **csrf}
        answer = client.post("/login/code", data=data, headers=headers)
        if answer.status_code == 302:
            return answer
    raise AssertionError("the second factor was refused: " + answer.get_data(as_text=True))


class LocalSmtp:
    """A real SMTP server (aiosmtpd) on a loopback port, keeping every message it accepts.

    stop() and start() again keep the port, so the app's settings stay right while it is
    down. Messages are parsed as the recipient's mail program would read them.
    """

    def __init__(self, **controller_options):
        from tests.e2e.harness import free_port

        self.port = free_port()
        self.options = controller_options
        self.received: list[ReceivedEmail] = []
        self._controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        """Keep the message; answer 250 so the sender counts it delivered."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(
            ReceivedEmail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                tls=_over_tls(server, session),
                login=getattr(session, "auth_data", None),
            )
        )
        return "250 Message accepted for delivery"

    def start(self) -> "LocalSmtp":
        """Listen on the port (again)."""
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="localhost", **self.options
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: a connection to the port is refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, n: int, timeout: float = 20) -> list["ReceivedEmail"]:
        """The first n messages, waiting for them to arrive (for a server in another process)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= n, f"{len(self.received)} of {n} emails arrived"
        return self.received[:n]

    def to(self, address: str) -> list["ReceivedEmail"]:
        """The messages whose envelope went to the address."""
        return [r for r in self.received if address in r.rcpt_tos]


def _over_tls(server, session) -> bool:
    """Whether aiosmtpd's session runs over TLS: after STARTTLS, or from the start (SMTPS)."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


@dataclass
class ReceivedEmail:
    """What the SMTP server got: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    tls: bool = False  # the message came over TLS (STARTTLS or implicit)
    login: object = None  # what the client signed in with (the authenticator's auth_data)

    @property
    def body(self) -> str:
        """The plain text, with the wire's CRLF line ends read as newlines."""
        text = self.message.get_body(preferencelist=("plain",)).get_content()
        return text.replace("\r\n", "\n")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, its own CA: (cert file, key file)."""
    cert, key = folder / "tls.crt", folder / "tls.key"
    subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), *subject],
        check=True,
        capture_output=True,
    )
    return cert, key
