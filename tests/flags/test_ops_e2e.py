"""The team's operations in Chromium at 390x844: coverage, planning from the queue, the
dashboard's work waiting and the run's flag panel. Screenshots go to shots/ops/ to look at."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from r4h_pwa.models import Run, Runner, Track, utcnow
from tests.e2e.steps import sign_in_admin
from tests.factories import make_shipment, make_synced_run

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "shots" / "ops"


def _seed(server) -> dict:
    from tests.factories import TOTP_SECRET, make_hero, make_runner

    with server.db() as db:
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
        unshipped = make_synced_run(runner)
        printed = make_synced_run(runner, mile_number=1295)
        make_shipment(
            printed,
            status="label_printed",
            label_printed_at=utcnow(),
            recipient_name="The Becerra family",
        )
        waiting = make_hero(
            name="Alex Waiting",
            agency="Example Borough Police",
            end_of_watch=date.today() - timedelta(days=400),
        )
        db.session.commit()
        return {"run": unshipped.id, "hero": waiting.id, "runner": runner.id}


def test_plan_from_the_queue_and_see_the_flag_work(server, page):
    seeded = _seed(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in_admin(page)

    page.goto("/admin/coverage")
    row = page.locator(f'[data-hero-id="{seeded["hero"]}"]')
    expect(row).to_contain_text("Alex Waiting")
    page.screenshot(path=str(SHOTS / "coverage.png"), full_page=True)
    row.get_by_test_id("plan-open").click()
    row.get_by_label("Runner").select_option(label="Zechariah")
    row.get_by_label("Track").select_option(index=1)
    row.get_by_label("Date and time").fill("2026-12-01T18:00")
    page.screenshot(path=str(SHOTS / "coverage-plan.png"), full_page=True)
    row.get_by_test_id("plan-save").click()
    expect(page.locator(".flash").first).to_contain_text("Planned: Zechariah runs for")
    expect(page.locator(f'[data-hero-id="{seeded["hero"]}"]')).to_contain_text("Planned: Zechariah")
    with server.db() as db:
        run = db.session.scalar(sa.select(Run).where(Run.hero_id == seeded["hero"]))
        assert (run.status, run.runner_id) == ("planned", seeded["runner"])
        assert db.session.get(Track, run.track_id) is not None

    page.goto("/admin/")
    work = page.get_by_test_id("work-waiting")
    expect(work.get_by_test_id("work-unshipped")).to_contain_text("Officer Julian Becerra")
    expect(work.get_by_test_id("work-printed")).to_contain_text("The Becerra family")
    work.screenshot(path=str(SHOTS / "dashboard-queue.png"))

    work.get_by_test_id("work-unshipped").get_by_role("link").first.click()
    panel = page.get_by_test_id("flag-panel")
    expect(panel).to_contain_text("Not shipped yet.")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "run-flag-panel.png"))
    panel.get_by_test_id("ship-flag").click()
    expect(page.get_by_label("Recipient's name")).to_have_value("Fountain Police Department")
