"""Email to the team: an outbox stored with the request's change, sent over SMTP after it commits.

A service calls `queue()`: the email is a row in the same transaction as the change it tells
about, so it exists exactly when the change does. After a request that queued one commits,
a sender thread sends what is due, so the family's page never waits for, nor fails with,
the mail server. A send that fails is kept, with its attempts and last error, and tried
again later with a growing wait: by `flask send-email` (for a timer), and by a later
request of this process at most every EMAIL_RETRY_EVERY seconds. After EMAIL_MAX_ATTEMPTS
failures it is "failed" until an admin retries it from the dashboard.

Each email is claimed before it is sent (a compare-and-set on its next_attempt_at), so two
senders never send it twice; a sender that dies mid-send frees it after LEASE, and it is
sent again (at least once, not exactly once).

SMTP is Python's own smtplib; the server, port, TLS, credentials and From address are settings
(see README, Settings). With no MAIL_SERVER set, emails are kept, pending, and never sent.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import click
import sqlalchemy as sa
from flask import Flask, Response, current_app, g
from flask.cli import with_appcontext

from .emails import email_error
from .extensions import db
from .models import OutboxEmail, utcnow

SECURITY = ("starttls", "tls", "none")  # STARTTLS on a plain port, implicit TLS, or neither
DEFAULTS = {
    "MAIL_SERVER": "",  # no server: emails are kept, pending, until one is set
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "",  # defaults to ORG_NAME <no-reply@the host of PUBLIC_BASE_URL>
    "MAIL_CA_FILE": "",  # a private CA to trust for TLS, besides the system's
    "MAIL_TIMEOUT": 15,  # seconds for each SMTP step
    "ADMIN_EMAILS": "",  # the team's addresses, comma separated (or a JSON list)
    "EMAIL_MAX_ATTEMPTS": 10,
    "EMAIL_RETRY_FIRST": 60,  # seconds before the first retry; each later wait doubles
    "EMAIL_RETRY_LONGEST": 6 * 3600,
    "EMAIL_RETRY_EVERY": 60,  # how often a request may look for emails due again
}
LEASE = timedelta(minutes=5)  # a sender that claimed an email and died frees it after this
BATCH = 50


class MailSettingsError(ValueError):
    """A mail setting that cannot work, found when the app starts."""


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server and the sender, read from the app's config."""

    server: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    sender: str = ""
    ca_file: str = ""
    timeout: float = 15.0


def settings() -> MailSettings:
    """This app's SMTP settings (checked when the app started)."""
    return current_app.extensions["r4h_mail"]["settings"]


def admin_emails() -> tuple[str, ...]:
    """The team's addresses that hear about family replies, from the ADMIN_EMAILS setting."""
    return current_app.extensions["r4h_mail"]["admins"]


def _read_admins(value) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    admins = []
    for item in items:
        address = str(item).strip().lower()
        if not address:
            continue
        if email_error(address):
            raise MailSettingsError(f"ADMIN_EMAILS: {address!r} is not an email address")
        if address not in admins:
            admins.append(address)
    return tuple(admins)


def _read_settings(config) -> MailSettings:
    security = str(config["MAIL_SECURITY"]).strip().lower()
    if security not in SECURITY:
        raise MailSettingsError(f"MAIL_SECURITY must be one of {', '.join(SECURITY)}")
    try:
        port = int(config["MAIL_PORT"])
    except (TypeError, ValueError):
        raise MailSettingsError("MAIL_PORT must be a port number") from None
    if not 0 < port < 65536:
        raise MailSettingsError("MAIL_PORT must be a port number")
    sender = str(config["MAIL_FROM"] or "").strip()
    if not sender:
        host = str(config.get("PUBLIC_BASE_URL", "")).split("://", 1)[-1].split("/")[0]
        host = host.split(":")[0] or "localhost"
        sender = str(Address(str(config.get("ORG_NAME", "")), "no-reply", host))
    # from_prefixed_env parses values as JSON: a password of digits arrives as a number.
    return MailSettings(
        server=str(config["MAIL_SERVER"] or "").strip(),
        port=port,
        security=security,
        username=str(config["MAIL_USERNAME"] or ""),
        password=str(config["MAIL_PASSWORD"] or ""),
        sender=sender,
        ca_file=str(config["MAIL_CA_FILE"] or ""),
        timeout=float(config["MAIL_TIMEOUT"]),
    )


# --- the outbox --------------------------------------------------------------------------------


def queue(
    recipients: Iterable[str], subject: str, body: str, reason: str, shipment_id: str | None = None
) -> list[OutboxEmail]:
    """Store one email per address in the current transaction; it is sent after the commit."""
    emails = [
        OutboxEmail(
            recipient=address,
            subject=subject[:200],
            body=body,
            reason=reason,
            shipment_id=shipment_id,
            status="pending",
            attempts=0,
            last_error="",
            next_attempt_at=utcnow(),
        )
        for address in dict.fromkeys(recipients)
    ]
    db.session.add_all(emails)
    if emails:
        g.r4h_mail_queued = True
    return emails


def unsent() -> list[OutboxEmail]:
    """Emails not sent yet, pending or failed, oldest first: what the admin should know about."""
    return list(
        db.session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.status != "sent")
            .order_by(OutboxEmail.created_at, OutboxEmail.id)
            .limit(200)
        )
    )


def retry_now() -> int:
    """Make every unsent email due now, failed ones too; how many. The caller commits."""
    result = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.status != "sent")
        .values(status="pending", next_attempt_at=utcnow())
    )
    if result.rowcount:
        g.r4h_mail_queued = True
    return result.rowcount


def retry_wait(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts: doubling, with a ceiling."""
    config = current_app.config
    seconds = config["EMAIL_RETRY_FIRST"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["EMAIL_RETRY_LONGEST"]))


@dataclass
class Delivery:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    pending: int = 0


def _claim(now: datetime) -> list[OutboxEmail]:
    """The due emails this sender may send: each taken with a compare-and-set on its time, so
    another sender (a second worker, the timer) skips it, and committed."""
    due = db.session.execute(
        sa.select(OutboxEmail.id, OutboxEmail.next_attempt_at)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(BATCH)
    ).all()
    claimed = []
    for email_id, due_at in due:
        taken = db.session.execute(
            sa.update(OutboxEmail)
            .where(
                OutboxEmail.id == email_id,
                OutboxEmail.status == "pending",
                OutboxEmail.next_attempt_at == due_at,
            )
            .values(next_attempt_at=now + LEASE)
        )
        if taken.rowcount == 1:
            claimed.append(email_id)
    db.session.commit()
    return (
        list(
            db.session.scalars(
                sa.select(OutboxEmail).where(OutboxEmail.id.in_(claimed)).order_by(OutboxEmail.id)
            )
        )
        if claimed
        else []
    )


def _message(email: OutboxEmail, mail: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=parseaddr(mail.sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(email.body)
    return message


def _connect(mail: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=mail.ca_file or None)
    if mail.security == "tls":
        smtp = smtplib.SMTP_SSL(mail.server, mail.port, timeout=mail.timeout, context=context)
    else:
        smtp = smtplib.SMTP(mail.server, mail.port, timeout=mail.timeout)
    try:
        if mail.security == "starttls":
            smtp.starttls(context=context)
        if mail.username:
            smtp.login(mail.username, mail.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _failed(email: OutboxEmail, error: BaseException, now: datetime) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:500]
    if email.attempts >= current_app.config["EMAIL_MAX_ATTEMPTS"]:
        email.status = "failed"
        email.next_attempt_at = now
    else:
        email.next_attempt_at = now + retry_wait(email.attempts)


def deliver_due(now: datetime | None = None) -> Delivery:
    """Send the emails that are due over one SMTP connection; keep each failure for later."""
    mail = settings()
    report = Delivery()
    if not mail.server:
        return report
    now = now or utcnow()
    emails = _claim(now)
    smtp = None
    down: BaseException | None = None  # the server could not be reached: no more tries now
    try:
        for email in emails:
            if smtp is None and down is None:
                try:
                    smtp = _connect(mail)
                except (OSError, smtplib.SMTPException) as error:  # refused, timed out, TLS
                    down = error
            if down is not None:
                _failed(email, down, now)
                report.failed += 1
            else:
                try:
                    smtp.send_message(_message(email, mail))
                except (OSError, smtplib.SMTPException) as error:
                    _failed(email, error, now)
                    report.failed += 1
                    if not isinstance(
                        error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
                    ):
                        smtp.close()  # the connection broke: open a new one for the next
                        smtp = None
                else:
                    email.status, email.sent_at, email.last_error = "sent", utcnow(), ""
                    email.attempts += 1
                    report.sent += 1
            db.session.commit()  # each outcome is kept, even if a later send hangs
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    report.pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxEmail).where(OutboxEmail.status == "pending")
    )
    return report


# --- when to send ------------------------------------------------------------------------------


def _deliver_quietly(app: Flask) -> None:
    """A pass over the outbox in a sender thread; a failure is logged, never raised."""
    with app.app_context():
        try:
            deliver_due()
        except Exception:  # a broken database or a bug: the request has long succeeded
            app.logger.exception("Sending the email outbox failed")
            db.session.rollback()
        finally:
            db.session.remove()


def _start_sender(app: Flask) -> None:
    # A thread, not the response's close: the page goes out at once whatever SMTP does, and
    # a server that skips close() (Werkzeug's, when the client hangs up) loses nothing.
    senders = app.extensions["r4h_mail"]["senders"]
    senders[:] = [t for t in senders if t.is_alive()]
    thread = threading.Thread(target=_deliver_quietly, args=(app,), name="r4h-mail", daemon=True)
    senders.append(thread)
    thread.start()


def wait_for_senders(app: Flask, timeout: float = 60) -> None:
    """Wait until this process's sender threads are done (a clean stop, or a test's check)."""
    deadline = time.monotonic() + timeout
    for thread in list(app.extensions["r4h_mail"]["senders"]):
        thread.join(max(deadline - time.monotonic(), 0))


def _send_after_response(response: Response) -> Response:
    """After a request that queued email (committed by now), or when due emails may wait
    again, start a sender thread; the response does not wait for it."""
    app = current_app._get_current_object()
    state = app.extensions["r4h_mail"]
    if not state["settings"].server:
        return response
    queued = g.pop("r4h_mail_queued", False)
    now = time.monotonic()
    if queued or now - state["looked_at"] >= app.config["EMAIL_RETRY_EVERY"]:
        state["looked_at"] = now
        _start_sender(app)
    return response


@click.command("send-email")
@with_appcontext
def send_email_command() -> None:
    """Send the emails that are due (run it from a timer); failures are kept and retried."""
    if not settings().server:
        raise click.ClickException("No MAIL_SERVER is set: emails stay pending.")
    report = deliver_due()
    click.echo(f"Sent {report.sent}, failed {report.failed}, pending {report.pending}.")


def init_app(app: Flask) -> None:
    """Read and check the mail settings, send after responses, and add `flask send-email`."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["r4h_mail"] = {
        "settings": _read_settings(app.config),
        "admins": _read_admins(app.config["ADMIN_EMAILS"]),
        "looked_at": time.monotonic(),  # the first look waits EMAIL_RETRY_EVERY after start
        "senders": [],  # this process's sender threads
    }
    app.after_request(_send_after_response)
    app.cli.add_command(send_email_command)
