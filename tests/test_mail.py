"""r4h_pwa.mail: the SMTP settings and transport, against real aiosmtpd servers.

STARTTLS with a login, implicit TLS, a certificate the app must refuse, settings that
cannot work, and the outbox without a server. The family's side is tests/flags/test_notify.
"""

import ssl

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from r4h_pwa import create_app, mail
from r4h_pwa.extensions import db
from r4h_pwa.models import OutboxEmail
from tests.helpers import LocalSmtp, make_config, reset_schema, self_signed_certificate

USERNAME, PASSWORD = "r4h-mailer", 20261130  # digits: R4H_MAIL_PASSWORD arrives as a number


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert file, key file)."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _accept_the_account(server, session, envelope, mechanism, auth_data):
    """aiosmtpd's authenticator: the one account, or 535 as a real server answers."""
    ok = isinstance(auth_data, LoginPassword) and (
        _text(auth_data.login),
        _text(auth_data.password),
    ) == (USERNAME, str(PASSWORD))
    if ok:
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(
        success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
    )


@pytest.fixture
def make_app(tmp_path, sqlite_only):
    """Build an app on a fresh SQLite database with the given mail settings."""
    apps = []

    def build(**settings):
        app = create_app(make_config(sqlite_only, tmp_path, **settings))
        with app.app_context():
            reset_schema()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def _send_one(app) -> tuple[mail.Delivery, OutboxEmail]:
    with app.test_request_context():
        mail.queue(
            ["ada.admin@example.org"],
            "Flag received: Officer Test",
            "The family confirmed that the flag arrived.",
            "family_received",
        )
        db.session.commit()
        report = mail.deliver_due()
        db.session.expire_all()
        [email] = db.session.query(OutboxEmail).all()
        db.session.expunge(email)
        return report, email


def _send_with_a_login(
    make_app, certificate, password
) -> tuple[mail.Delivery, OutboxEmail, LocalSmtp]:
    """One email through a local server that wants STARTTLS and a login; the app signs in
    as USERNAME with the given password."""
    smtp = LocalSmtp(
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_accept_the_account,
        auth_required=True,
    ).start()
    try:
        app = make_app(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            MAIL_SECURITY="starttls",
            MAIL_USERNAME=USERNAME,
            MAIL_PASSWORD=password,
            MAIL_CA_FILE=str(certificate[0]),
            MAIL_FROM="team@example.org",
        )
        report, email = _send_one(app)
    finally:
        smtp.stop()
    return report, email, smtp


def test_starttls_with_a_login(make_app, certificate):
    report, email, smtp = _send_with_a_login(make_app, certificate, PASSWORD)

    assert report == mail.Delivery(sent=1, failed=0, pending=0)
    assert email.status == "sent"
    [received] = smtp.received
    assert received.tls is True
    assert _text(received.login.login) == USERNAME
    assert received.message["Subject"] == "Flag received: Officer Test"


def test_implicit_tls(make_app, certificate):
    smtp = LocalSmtp(ssl_context=_server_context(certificate)).start()
    try:
        app = make_app(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            MAIL_SECURITY="tls",
            MAIL_CA_FILE=str(certificate[0]),
        )
        report, _email = _send_one(app)
    finally:
        smtp.stop()

    assert report.sent == 1
    assert smtp.received[0].tls is True


def test_a_certificate_nobody_vouches_for_is_refused_and_the_email_kept(make_app, certificate):
    smtp = LocalSmtp(tls_context=_server_context(certificate), require_starttls=True).start()
    try:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SECURITY="starttls")
        report, email = _send_one(app)
    finally:
        smtp.stop()

    assert report == mail.Delivery(sent=0, failed=1, pending=1)
    assert smtp.received == []
    assert (email.status, email.attempts) == ("pending", 1)
    assert "CERTIFICATE_VERIFY_FAILED" in email.last_error


def test_a_wrong_password_is_kept_as_the_error(make_app, certificate):
    report, email, smtp = _send_with_a_login(make_app, certificate, "wrong")

    assert report.failed == 1 and smtp.received == []
    assert email.last_error.startswith("SMTPAuthenticationError")


def test_without_a_server_emails_stay_pending_and_the_timer_says_why(make_app):
    app = make_app(ADMIN_EMAILS="ada.admin@example.org")
    report, email = _send_one(app)

    assert report == mail.Delivery()
    assert (email.status, email.attempts) == ("pending", 0)
    result = app.test_cli_runner().invoke(args=["send-email"])
    assert result.exit_code == 1
    assert "No MAIL_SERVER is set" in result.output


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"MAIL_SECURITY": "ssl3"}, "MAIL_SECURITY must be one of starttls, tls, none"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT must be a port number"),
        ({"MAIL_PORT": 70000}, "MAIL_PORT must be a port number"),
        (
            {"ADMIN_EMAILS": "ada.admin@example.org, not-an-address"},
            "ADMIN_EMAILS: 'not-an-address' is not an email address",
        ),
    ],
)
def test_settings_that_cannot_work_stop_the_app_at_start(tmp_path, sqlite_only, settings, problem):
    with pytest.raises(mail.MailSettingsError) as error:
        create_app(make_config(sqlite_only, tmp_path, **settings))
    assert str(error.value) == problem


def test_settings_from_the_environment(tmp_path, sqlite_only, monkeypatch):
    monkeypatch.setenv("R4H_ADMIN_EMAILS", '["Ada.Admin@example.org", "bo.admin@example.org"]')
    monkeypatch.setenv("R4H_MAIL_PORT", "465")
    monkeypatch.setenv("R4H_MAIL_SECURITY", "tls")
    monkeypatch.setenv("R4H_MAIL_PASSWORD", "123456")
    app = create_app(make_config(sqlite_only, tmp_path, PUBLIC_BASE_URL="https://r4h.example.org"))
    with app.app_context():
        assert mail.admin_emails() == ("ada.admin@example.org", "bo.admin@example.org")
        settings = mail.settings()
    assert (settings.port, settings.security, settings.password) == (465, "tls", "123456")
    assert settings.sender == "Running 4 Heroes <no-reply@r4h.example.org>"
    assert "123456" not in repr(settings)
