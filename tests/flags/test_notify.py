"""The team hears by email when a family confirms, writes or removes its page: real SMTP.

Every test here talks to a real SMTP server (aiosmtpd) on a loopback port and reads what it
received. The family's request commits the email to the outbox; a sender thread sends it,
and the tests wait for that thread before they look. With the server down the family
still gets its page, and the email waits.
"""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from r4h_pwa import mail
from r4h_pwa.models import AuditEntry, OutboxEmail, Runner, utcnow
from tests.factories import ADDRESS
from tests.helpers import reload, sign_in

ADMINS = ["ada.admin@example.org", "bo.admin@example.org"]
MESSAGE = "Thank you, Zechariah.\nHis mother cried when she opened it.\n\nGod bless you all."


@pytest.fixture
def app_config(app_config, mail_config):
    """The app pointed at the test's SMTP server."""
    app_config.update(mail_config)
    return app_config


def _ack(client, story, message=""):
    """The family's POST; then wait for the sender thread it started, if any."""
    with client.post(f"{story.family_path}/ack", data={"message": message}) as response:
        pass
    mail.wait_for_senders(client.application)
    return response


def _hide(client, story):
    with client.post(f"{story.family_path}/hide") as response:
        pass
    mail.wait_for_senders(client.application)
    return response


def _outbox(db) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def _opt_in(db, story) -> None:
    db.session.get(Runner, story.runner_id).notify_by_email = True
    db.session.commit()


def test_a_confirmation_with_a_message_emails_each_admin_with_the_words(
    client, db, story, smtp_server
):
    assert _ack(client, story, MESSAGE).status_code == 303

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ADMINS
    for received in smtp_server.received:
        assert len(received.rcpt_tos) == 1  # one email per admin: nobody sees the others
        message = received.message
        assert received.mail_from == "team@example.org"
        assert message["From"] == "Running 4 Heroes <team@example.org>"
        assert message["To"] == received.rcpt_tos[0]
        assert message["Subject"] == "Flag received: Officer Julian Becerra"
        assert message["Auto-Submitted"] == "auto-generated"
        body = received.body
        assert "The family confirmed that the flag arrived." in body
        assert "Flag for Officer Julian Becerra → Chief Chris Deisler" in body
        assert "Mile 1,294, run by Zechariah." in body
        # The family's words, every line of them, quoted as they wrote them.
        assert (
            "  Thank you, Zechariah.\n  His mother cried when she opened it.\n\n"
            "  God bless you all."
        ) in body
        assert f"https://r4h.test/admin/shipments/{story.shipment_id}" in body
        # An email is no place for the family's address, nor for the page's secret link.
        for private in (ADDRESS["address_line1"], ADDRESS["postal_code"], story.family_token):
            assert private not in body
    assert [(e.status, e.attempts, e.last_error) for e in _outbox(db)] == [("sent", 1, "")] * 2


def test_an_opted_in_runner_gets_a_copy_without_the_familys_name_or_address(
    client, db, story, smtp_server
):
    _opt_in(db, story)

    _ack(client, story, MESSAGE)

    [received] = smtp_server.to(story.runner_email)
    assert received.rcpt_tos == [story.runner_email]
    assert received.message["Subject"] == "The flag you carried for Officer Julian Becerra arrived"
    body = received.body
    assert body.startswith("Dear Zechariah,")
    assert "(mile 1,294, run by Zechariah) has arrived." in body
    assert "  His mother cried when she opened it." in body
    for private in (*ADDRESS.values(), story.family_token, "/admin/", *ADMINS):
        assert private not in body
    assert private not in received.message.as_string()
    assert len(smtp_server.received) == 3


def test_a_runner_who_did_not_opt_in_gets_nothing(client, story, smtp_server):
    _ack(client, story, MESSAGE)

    assert smtp_server.to(story.runner_email) == []
    assert len(smtp_server.received) == 2


def test_a_second_message_is_told_but_a_repeat_is_not(client, db, story, smtp_server):
    _ack(client, story)
    _ack(client, story, "From his sister: thank you.")
    _ack(client, story, "From his sister: thank you.")
    _ack(client, story, "")

    subjects = [r.message["Subject"] for r in smtp_server.to(ADMINS[0])]
    assert subjects == [
        "Flag received: Officer Julian Becerra",
        "A message from the family of Officer Julian Becerra",
    ]
    second = smtp_server.to(ADMINS[0])[1].body
    assert "The family wrote a new message about the flag." in second
    assert "  From his sister: thank you." in second
    assert "Their message" not in smtp_server.to(ADMINS[0])[0].body  # no words, none quoted


def test_removing_the_page_tells_the_admins_and_the_opted_in_runner(client, db, story, smtp_server):
    _opt_in(db, story)

    response = _hide(client, story)

    assert response.status_code == 303
    admin_copy = smtp_server.to(ADMINS[1])[0]
    assert admin_copy.message["Subject"] == "Family page taken down: Officer Julian Becerra"
    assert f"/admin/shipments/{story.shipment_id}" in admin_copy.body
    runner_copy = smtp_server.to(story.runner_email)[0]
    assert "At the family's wish, the page about the mile you ran" in runner_copy.body
    assert ADDRESS["recipient_name"] not in runner_copy.body
    _hide(client, story)  # gone already: 410, and no second email
    assert len(smtp_server.received) == 3


def test_a_refused_message_sends_nothing(client, db, story, smtp_server):
    response = _ack(client, story, "x" * 2001)

    assert response.status_code == 422
    assert smtp_server.received == [] and _outbox(db) == []


def test_with_the_server_down_the_family_succeeds_and_the_email_waits_then_goes(
    app, client, db, story, smtp_server
):
    smtp_server.stop()

    response = _ack(client, story, MESSAGE)

    assert response.status_code == 303  # the family's page, as always
    assert reload(db, story.shipment_id).status == "received"
    with client.get(response.headers["Location"]) as thanks:
        assert thanks.status_code == 200
    emails = _outbox(db)
    assert [(e.status, e.attempts) for e in emails] == [("pending", 1)] * 2
    assert all("ConnectionRefusedError" in e.last_error for e in emails)
    first_wait = emails[0].next_attempt_at - utcnow()
    assert timedelta(seconds=50) < first_wait <= timedelta(seconds=60)

    with app.app_context():  # not due yet: the timer's pass leaves it alone
        assert mail.deliver_due() == mail.Delivery(sent=0, failed=0, pending=2)
    assert smtp_server.received == []

    smtp_server.start()
    result = app.test_cli_runner().invoke(args=["send-email"])  # the timer, a minute later
    assert result.exit_code == 0, result.output
    assert "Sent 0" in result.output  # still not due
    with app.app_context():
        report = mail.deliver_due(now=utcnow() + timedelta(seconds=61))
    assert report == mail.Delivery(sent=2, failed=0, pending=0)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ADMINS
    assert "  His mother cried when she opened it." in smtp_server.received[0].body
    assert [(e.status, e.attempts, e.last_error) for e in _outbox(db)] == [("sent", 2, "")] * 2


def test_the_timer_command_sends_what_is_due(app, client, db, story, smtp_server):
    smtp_server.stop()
    _ack(client, story, MESSAGE)
    db.session.execute(sa.update(OutboxEmail).values(next_attempt_at=utcnow()))
    db.session.commit()
    smtp_server.start()

    result = app.test_cli_runner().invoke(args=["send-email"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 2, failed 0, pending 0."
    assert len(smtp_server.received) == 2


def test_a_later_request_retries_what_is_due(app, client, db, story, smtp_server):
    smtp_server.stop()
    _ack(client, story, MESSAGE)
    db.session.execute(sa.update(OutboxEmail).values(next_attempt_at=utcnow()))
    db.session.commit()
    smtp_server.start()
    app.config["EMAIL_RETRY_EVERY"] = 0  # the next request may look (in production, a minute)

    with client.get("/honor") as page:
        assert page.status_code == 200
    mail.wait_for_senders(app)

    assert len(smtp_server.received) == 2
    assert {e.status for e in _outbox(db)} == {"sent"}


def test_the_wait_doubles_and_the_email_fails_after_the_last_attempt(
    app, client, db, story, smtp_server
):
    app.config["EMAIL_MAX_ATTEMPTS"] = 3
    smtp_server.stop()
    _ack(client, story)  # attempt 1 fails
    waits = []
    with app.app_context():
        for _ in range(2):
            [email, *_rest] = _outbox(db)
            now = email.next_attempt_at
            mail.deliver_due(now=now)
            waits.append(_outbox(db)[0].next_attempt_at - now)
    assert waits[0] == timedelta(seconds=120)  # after attempt 2: 60 s doubled
    assert waits[1] == timedelta(0)  # attempt 3 was the last: no next try
    assert [(e.status, e.attempts) for e in _outbox(db)] == [("failed", 3)] * 2


def test_the_dashboard_shows_unsent_emails_and_retries_them(app, client, db, story, smtp_server):
    app.config["EMAIL_MAX_ATTEMPTS"] = 1
    smtp_server.stop()
    _ack(client, story, MESSAGE)
    admin = app.test_client()
    sign_in(admin, story.admin_email)

    html = admin.get("/admin/").get_data(as_text=True)
    assert 'data-testid="work-emails"' in html
    assert html.count('data-testid="unsent-email" data-status="failed"') == 2
    assert "Flag received: Officer Julian Becerra" in html
    assert "Gave up after 1 try." in html and "ConnectionRefusedError" in html

    smtp_server.start()
    with admin.post("/admin/emails/retry") as response:
        assert response.status_code == 303
    mail.wait_for_senders(app)
    assert len(smtp_server.received) == 2
    assert "Every email went out." in admin.get("/admin/").get_data(as_text=True)


def test_a_runner_cannot_retry_emails(runner_client):
    assert runner_client.post("/admin/emails/retry").status_code in (302, 403)


def test_an_admin_sets_the_runners_opt_in_on_the_account_form(app, db, story, admin_client):
    runner = db.session.get(Runner, story.runner_id)
    form = {
        "name": runner.name,
        "email": runner.email,
        "role": "runner",
        "is_active_account": "y",
        "runs_miles": "y",
        "starting_mile_count": "1293",
        "notify_by_email": "y",
    }

    response = admin_client.post(f"/admin/runners/{runner.id}/edit", data=form)

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Runner, story.runner_id).notify_by_email is True
    html = admin_client.get(f"/admin/runners/{runner.id}/edit").get_data(as_text=True)
    assert 'name="notify_by_email"' in html and "checked" in html
    del form["notify_by_email"]
    admin_client.post(f"/admin/runners/{runner.id}/edit", data=form)
    db.session.expire_all()
    assert db.session.get(Runner, story.runner_id).notify_by_email is False
    changes = db.session.scalars(
        sa.select(AuditEntry.new_values)
        .where(
            AuditEntry.object_type == "runner",
            AuditEntry.object_id == str(runner.id),
            AuditEntry.action == "updated",
        )
        .order_by(AuditEntry.id)
    ).all()
    assert changes == [{"notify_by_email": True}, {"notify_by_email": False}]


def test_a_runner_who_is_also_an_admin_or_inactive_gets_no_second_copy(
    app, client, db, story, smtp_server
):
    runner = db.session.get(Runner, story.runner_id)
    runner.notify_by_email, runner.email = True, ADMINS[0]
    db.session.commit()
    _ack(client, story, MESSAGE)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ADMINS  # the admin's copy

    runner.email, runner.is_active_account = "gone@example.org", False
    db.session.commit()
    _ack(client, story, "From his sister: thank you.")
    assert smtp_server.to("gone@example.org") == []


@pytest.mark.postgres_only
def test_two_senders_at_once_send_each_email_once(app, db, smtp_server):
    with app.test_request_context():
        addresses = [f"team{n}@example.org" for n in range(30)]
        mail.queue(addresses, "Flag received: Officer Test", "Arrived.", "family_received")
        db.session.commit()
    start = threading.Barrier(2)
    reports = []

    def sender():
        with app.app_context():
            start.wait()
            reports.append(mail.deliver_due())
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(addresses)
    assert sum(r.sent for r in reports) == 30
    assert {e.status for e in _outbox(db)} == {"sent"}


def test_with_the_server_down_removing_the_page_still_works(client, db, story, smtp_server):
    smtp_server.stop()

    response = _hide(client, story)

    assert response.status_code == 303
    with client.get(story.family_path) as page:
        assert page.status_code == 410
    assert [(e.reason, e.status, e.attempts) for e in _outbox(db)] == [
        ("family_hidden", "pending", 1)
    ] * 2
