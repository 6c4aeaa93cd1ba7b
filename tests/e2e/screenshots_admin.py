"""Screenshots of the team's operations and the wall at 390x844 and 320x568, light and dark:
/admin/coverage (and its plan form), the dashboard's work queue, a synced run's flag panel,
a planned-run form refusing a time the clocks skip, the account form, the home page and the
wall of honor with a search. The team is in America/Denver, so every time reads MST/MDT.

Run: .venv/bin/python -m tests.e2e.screenshots_admin [out_dir]   (default: shots/time/)
"""

import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright

from .harness import REPO, LiveServer, launch_chromium, prepare_database
from .steps import sign_in_admin

PHONE = {"width": 390, "height": 844}
SMALL = {"width": 320, "height": 568}


def seed(server: LiveServer) -> dict:
    """The demo data plus a runner with miles, unshipped and printed flags, heroes waiting."""
    from r4h_pwa.models import Runner, utcnow
    from tests.factories import (
        TOTP_SECRET,
        make_hero,
        make_ruiz,
        make_runner,
        make_shipment,
        make_synced_run,
    )

    with server.db() as db:
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=3)
        unshipped = make_synced_run(runner)
        printed = make_synced_run(
            runner,
            mile_number=1295,
            hero=make_ruiz(),
        )
        make_shipment(
            printed,
            status="label_printed",
            label_printed_at=utcnow(),
            recipient_name="The Ruiz family",
        )
        make_synced_run(
            runner,
            mile_number=1296,
            started_at=utcnow() - timedelta(days=2),
            hero=make_hero(
                name="Tom Hale", rank="Deputy", state="CO", agency="Teller County Sheriff's Office"
            ),
        )
        waiting = make_hero(
            name="Alex Waiting",
            agency="Example Borough Police",
            state="CO",
            end_of_watch=date.today() - timedelta(days=400),
        )
        db.session.commit()
        return {"run": unshipped.id, "hero": waiting.id}


def shoot(target, out: Path, name: str, full: bool = False) -> None:
    """Save one screenshot (a page, or one element) and say where."""
    path = out / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=path, full_page=full)
    else:
        target.screenshot(path=path)
    print(path)


def pages(browser, server: LiveServer, seeded: dict, out: Path, scheme: str, screen: dict):
    """Every screen of this change, in one colour scheme at one size."""
    context = browser.new_context(base_url=server.url, viewport=screen, color_scheme=scheme)
    page = context.new_page()
    suffix = ("" if scheme == "light" else "-dark") + ("" if screen == PHONE else "-320")

    page.goto("/")
    shoot(page, out, f"01-home{suffix}", full=True)
    page.get_by_test_id("wall-link").click()
    page.get_by_label("State").select_option("CO")
    page.get_by_label("Agency").fill("police")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("search-result")).to_contain_text("1 mile")
    shoot(page, out, f"02-wall-search{suffix}", full=True)
    page.goto("/honor")
    shoot(page, out, f"03-wall-totals{suffix}")

    sign_in_admin(page)
    page.goto("/admin/coverage")
    shoot(page, out, f"04-coverage{suffix}", full=True)
    row = page.locator(f'[data-hero-id="{seeded["hero"]}"]')
    row.get_by_test_id("plan-open").click()
    row.get_by_label("Runner").select_option(label="Zechariah")
    row.get_by_label("Track").select_option(index=1)
    row.get_by_label("Date and time").fill("2027-03-14T02:30")
    row.scroll_into_view_if_needed()
    shoot(row, out, f"05-coverage-plan-form{suffix}")
    row.get_by_test_id("plan-save").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("does not exist")
    shoot(page, out, f"06-plan-dst-error{suffix}", full=True)
    page.get_by_label("Date and time").fill("2026-12-01T18:00")
    page.get_by_test_id("plan-save").click()
    expect(page.locator(".flash").first).to_contain_text("18:00 MST")
    shoot(page, out, f"07-coverage-planned{suffix}")

    page.goto("/admin/")
    work = page.get_by_test_id("work-waiting")
    expect(work.get_by_test_id("work-unshipped")).to_be_visible()
    shoot(work, out, f"08-dashboard-queue{suffix}")
    page.goto(f"/admin/runs/{seeded['run']}")
    panel = page.get_by_test_id("flag-panel")
    panel.scroll_into_view_if_needed()
    shoot(page, out, f"09-run-flag-panel{suffix}")
    page.goto("/admin/runs/new")
    shoot(page, out, f"10-run-form{suffix}", full=True)
    page.goto("/admin/runners/new")
    shoot(page, out, f"11-account-form{suffix}", full=True)
    context.close()


def main() -> None:
    """A fresh demo database per run of the screens, the team in Denver."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "shots" / "time"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["R4H_TIMEZONE"] = "America/Denver"
    work = Path(tempfile.mkdtemp(prefix="r4h-shots-"))
    demo = prepare_database(work / "demo.sqlite")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for n, (scheme, screen) in enumerate(
            [("light", PHONE), ("dark", PHONE), ("light", SMALL), ("dark", SMALL)]
        ):
            (work / str(n)).mkdir()
            server = LiveServer(work / str(n), demo).start()
            try:
                pages(browser, server, seed(server), out, scheme, screen)
            finally:
                server.stop()
        browser.close()


if __name__ == "__main__":
    main()
