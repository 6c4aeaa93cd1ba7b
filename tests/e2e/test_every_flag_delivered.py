"""Issue 14's end-to-end story, in Chromium against `flask run` and a real SMTP server.

An admin plans a waiting hero's mile from the coverage queue; the runner's phone runs it
offline and syncs it; the admin ships the flag by USPS with a tracking number; the family
page says the flag is on its way and links to USPS's tracking page; the family confirms
with a message; and the admins' email, with the message in it, reaches the SMTP server.
"""

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Hero, OutboxEmail, Run, Runner, Shipment
from tests.factories import TOTP_SECRET
from tests.helpers import LocalSmtp

from .harness import RUNNER_EMAIL, LiveServer
from .steps import (
    MIDDLE_SCHOOL,
    finish,
    open_app,
    sign_in,
    sign_in_admin,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "shots" / "mail"  # to look at; not in git
ADMINS = ["ada.admin@example.org", "bo.admin@example.org"]
TRACKING = "9400 1118 9922 3344 5566 77"  # as printed on the receipt, with its spaces
MESSAGE = "Thank you for running for Alex.\nHis mother keeps the flag by his photo."


@pytest.fixture
def server(tmp_path, demo_database, smtp_server: LocalSmtp):
    """The app under `flask run`, sending its email to the test's SMTP server."""
    live = LiveServer(
        tmp_path,
        demo_database,
        env={
            "R4H_MAIL_SERVER": "127.0.0.1",
            "R4H_MAIL_PORT": str(smtp_server.port),
            "R4H_MAIL_SECURITY": "none",
            "R4H_MAIL_FROM": "Running 4 Heroes <team@example.org>",
            "R4H_ADMIN_EMAILS": ", ".join(ADMINS),
        },
    ).start()
    yield live
    live.stop()


@pytest.fixture
def admin_page(browser, server):
    """A second browser profile, the admin's, at phone size."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def family_page(browser, server):
    """A third profile: the family's, who only ever has the link on the card."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    yield ctx.new_page()
    ctx.close()


def _seed(server) -> int:
    """A hero waiting for a mile for 400 days; the demo admin's authenticator secret."""
    from tests.factories import make_hero

    with server.db() as db:
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        hero = make_hero(
            name="Alex Waiting",
            agency="Example Borough Police",
            state="PA",
            end_of_watch=date.today() - timedelta(days=400),
        )
        db.session.commit()
        return hero.id


def _wait_for_attempts(server, attempts: int, timeout: float = 20) -> None:
    """Wait until every email in the server's outbox has been tried this many times."""
    deadline = time.monotonic() + timeout
    while True:
        with server.db() as db:
            tries = db.session.scalars(sa.select(OutboxEmail.attempts)).all()
        if tries and all(n >= attempts for n in tries):
            return
        assert time.monotonic() < deadline, f"outbox attempts {tries}, waiting for {attempts}"
        time.sleep(0.1)


def test_plan_run_offline_ship_track_confirm_and_the_admins_are_emailed(
    server, context, page, admin_page, family_page, smtp_server
):
    hero_id = _seed(server)

    # The admin plans the waiting hero's mile from the coverage queue.
    sign_in_admin(admin_page)
    admin_page.goto("/admin/coverage")
    row = admin_page.locator(f'[data-hero-id="{hero_id}"]')
    row.get_by_test_id("plan-open").click()
    row.get_by_label("Runner").select_option(label="Demo Runner")
    row.get_by_label("Track").select_option(label=MIDDLE_SCHOOL)
    row.get_by_label("Date and time").fill(f"{date.today() + timedelta(days=1)}T18:00")
    row.get_by_test_id("plan-save").click()
    expect(admin_page.locator(".flash").first).to_contain_text("Planned: Demo Runner runs for")

    # The runner's phone gets it, goes offline and runs the mile.
    context.clock.install()
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    context.set_offline(True)
    planned = page.get_by_test_id("planned-run").filter(has_text="Alex Waiting")
    planned.click()
    expect(page.locator(".hero-card").get_by_role("heading", level=1)).to_have_text(
        "Officer Alex Waiting"
    )
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 7)
    finish(page)
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    [run_on_phone] = [r for r in stored_runs(page) if r["hero_id"] == hero_id]
    assert run_on_phone["status"] == "outbox"

    # Back online, the phone syncs it: the planned run becomes the runner's next mile.
    context.set_offline(False)
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    with server.db() as db:
        run = db.session.scalar(sa.select(Run).where(Run.hero_id == hero_id))
        assert run.id == run_on_phone["id"]
        assert (run.status, run.mile_number, len(run.laps)) == ("synced", 1294, 7)
        assert run.runner.email == RUNNER_EMAIL
        run_id = run.id

    # The admin ships the flag from the run's page, by USPS with a tracking number.
    admin_page.goto(f"/admin/runs/{run_id}")
    admin_page.get_by_test_id("flag-panel").get_by_test_id("ship-flag").click()
    expect(admin_page.get_by_label("Recipient's name")).to_have_value("Example Borough Police")
    admin_page.get_by_label("Recipient's name").fill("The Waiting family")
    admin_page.get_by_label("Address", exact=True).fill("12 Elm Street")
    admin_page.get_by_label("City").fill("Scranton")
    admin_page.get_by_label("State").select_option("PA")
    admin_page.get_by_label("ZIP code").fill("18503")
    admin_page.get_by_label("Carrier").select_option("USPS")
    admin_page.get_by_label("Tracking number (optional)").fill(TRACKING)
    admin_page.get_by_test_id("save-shipment").click()
    expect(admin_page.get_by_test_id("shipment-title")).to_have_text(
        "Flag for Officer Alex Waiting → The Waiting family"
    )
    with server.db() as db:
        shipment = db.session.scalar(sa.select(Shipment).where(Shipment.run_id == run_id))
        assert (shipment.status, shipment.carrier, shipment.tracking_number) == (
            "shipped",
            "USPS",
            "9400111899223344556677",
        )
        family_path, shipment_id = f"/f/{shipment.family_token}", shipment.id

    # The family page says the flag is on its way, with USPS's tracking page, and no address.
    family_page.goto(family_path)
    on_its_way = family_page.get_by_test_id("on-its-way")
    expect(on_its_way).to_contain_text("Your flag is on its way")
    expect(on_its_way.get_by_test_id("tracking-link")).to_have_attribute(
        "href", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677"
    )
    expect(family_page.locator("body")).not_to_contain_text("12 Elm Street")

    # The family confirms, with a message; the page thanks them at once.
    family_page.get_by_test_id("ack-message").fill(MESSAGE)
    family_page.get_by_test_id("ack-submit").click()
    expect(family_page.get_by_test_id("ack-done")).to_be_visible()

    # The admins' email reaches the SMTP server, one for each admin, with the message in it.
    received = smtp_server.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ADMINS
    for email in received:
        assert email.message["Subject"] == "Flag received: Officer Alex Waiting"
        assert "Flag for Officer Alex Waiting → The Waiting family" in email.body
        assert "Mile 1,294, run by Demo Runner." in email.body
        assert (
            "  Thank you for running for Alex.\n  His mother keeps the flag by his photo."
        ) in email.body
        assert f"{server.url}/admin/shipments/{shipment_id}" in email.body
        assert "12 Elm Street" not in email.body and family_path not in email.body

    # And the server's rows say the same.
    with server.db() as db:
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.status == "received" and shipment.received_at is not None
        assert shipment.ack_message == MESSAGE
        emails = db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.recipient)).all()
        assert [(e.recipient, e.status, e.attempts, e.reason, e.shipment_id) for e in emails] == [
            (address, "sent", 1, "family_received", shipment_id) for address in ADMINS
        ]
        assert db.session.get(Hero, hero_id).runs[0].id == run_id


def test_with_the_mail_server_down_the_family_is_thanked_and_the_admin_sees_the_email_wait(
    server, admin_page, family_page, smtp_server
):
    _seed(server)
    from tests.factories import make_runner, make_shipment, make_synced_run

    with server.db() as db:
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
        shipment = make_shipment(make_synced_run(runner))
        db.session.commit()
        family_path, runner_id = f"/f/{shipment.family_token}", runner.id
    smtp_server.stop()

    family_page.goto(family_path)
    family_page.get_by_test_id("ack-message").fill(MESSAGE)
    family_page.get_by_test_id("ack-submit").click()
    expect(family_page.get_by_test_id("ack-done")).to_be_visible()

    SHOTS.mkdir(parents=True, exist_ok=True)
    _wait_for_attempts(server, 1)  # the sender thread tried, and the server was down
    sign_in_admin(admin_page)
    admin_page.goto("/admin/")
    emails = admin_page.get_by_test_id("work-emails")
    expect(emails.get_by_test_id("unsent-email")).to_have_count(2)
    expect(emails.get_by_test_id("unsent-email").first).to_contain_text(
        "Flag received: Officer Julian Becerra"
    )
    expect(emails.get_by_test_id("email-error").first).to_contain_text("ConnectionRefusedError")
    for width, height in ((320, 568), (390, 844)):
        for scheme in ("light", "dark"):
            admin_page.set_viewport_size({"width": width, "height": height})
            admin_page.emulate_media(color_scheme=scheme)
            emails.scroll_into_view_if_needed()
            admin_page.screenshot(path=str(SHOTS / f"dashboard-emails-{width}-{scheme}.png"))
            admin_page.goto(f"/admin/runners/{runner_id}/edit")
            admin_page.get_by_label("Email them when a family replies").scroll_into_view_if_needed()
            admin_page.screenshot(path=str(SHOTS / f"runner-opt-in-{width}-{scheme}.png"))
            admin_page.goto("/admin/")

    smtp_server.start()
    admin_page.get_by_test_id("retry-emails").click()
    received = smtp_server.wait_for(2)
    assert "  His mother keeps the flag by his photo." in received[0].body
    admin_page.reload()
    expect(admin_page.get_by_test_id("work-emails")).to_contain_text("Every email went out.")
    with server.db() as db:
        rows = db.session.scalars(sa.select(OutboxEmail)).all()
        assert [(e.status, e.attempts) for e in rows] == [("sent", 2)] * 2
