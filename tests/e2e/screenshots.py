"""Screenshots of every step of the lap counter at 390x844 and 320x568, light and dark.

Run: .venv/bin/python -m tests.e2e.screenshots [out_dir]   (default: shots/app/)
"""

import sys
import tempfile
from datetime import datetime
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from .harness import REPO, LiveServer, launch_chromium, prepare_database
from .steps import (
    finish,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)
from .test_flow import TAMPER

PHONE = {"width": 390, "height": 844}
SMALL = {"width": 320, "height": 568}


def shoot(page, out: Path, name: str, full: bool = False) -> None:
    """Save one screenshot and say so."""
    path = out / f"{name}.png"
    page.screenshot(path=path, full_page=full)
    print(path)


def flow(browser, server: LiveServer, out: Path, scheme: str, screen: dict = PHONE) -> None:
    """The whole flow of a planned run, one screenshot a step."""
    context = browser.new_context(
        base_url=server.url, viewport=screen, color_scheme=scheme, accept_downloads=True
    )
    context.clock.install(time=datetime(2025, 3, 1, 18, 30))
    page = context.new_page()
    suffix = ("" if scheme == "light" else "-dark") + ("" if screen == PHONE else "-320")
    open_app(page)
    shoot(page, out, f"01-sign-in{suffix}")
    sign_in(page)
    wait_for_service_worker(page)
    shoot(page, out, f"02-pick-run{suffix}", full=True)
    page.get_by_test_id("planned-run").first.click()
    shoot(page, out, f"03-hero-card{suffix}", full=True)
    page.get_by_role("button", name="Prayer").click()
    shoot(page, out, f"04-prayer{suffix}")
    page.get_by_role("button", name="Amen").click()
    page.get_by_role("button", name="Start").click()
    page.clock.run_for(17_000)
    shoot(page, out, f"05-silence-timer{suffix}")
    page.get_by_role("button", name="Skip").click()
    context.set_offline(True)
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 3, lap_ms=95_000)
    page.clock.run_for(30_000)
    shoot(page, out, f"06-counter{suffix}")
    page.clock.fast_forward(5_000)
    page.get_by_test_id("lap-button").click()
    expect(page.locator("#notice")).to_contain_text("Too soon")
    shoot(page, out, f"07-guard-notice{suffix}")
    page.clock.run_for(3_000)
    page.get_by_test_id("undo-lap").click()
    expect(page.get_by_test_id("undo-lap")).to_contain_text("Tap again")
    shoot(page, out, f"08-undo-confirm{suffix}")
    page.clock.run_for(5_000)
    page.get_by_role("button", name="Add escort").click()
    page.get_by_label("Name", exact=True).fill("Sgt. Dana Reyes")
    page.get_by_label("Agency").fill("Example County Sheriff")
    page.get_by_label("Badge or unit").fill("1234")
    page.get_by_label("May be named on the family page").check()
    shoot(page, out, f"09-add-escort{suffix}")
    page.get_by_test_id("save-escort").click()
    tap_laps(page, 4, lap_ms=92_000)
    page.clock.run_for(10_000)
    shoot(page, out, f"10-mile-complete{suffix}")
    page.locator("#finish-mile").click()
    shoot(page, out, f"11-finish-confirm{suffix}")
    page.get_by_test_id("confirm-finish").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#last-error")).to_be_visible()
    shoot(page, out, f"12a-done-before-sync{suffix}")
    page.clock.run_for(3_000)
    shoot(page, out, f"12-sync-waiting-offline{suffix}", full=True)
    context.set_offline(False)
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    shoot(page, out, f"13-synced{suffix}", full=True)
    page.evaluate("window.scrollTo(0, 0)")  # the full-page shot leaves the page scrolled
    shoot(page, out, f"13a-done-after-sync{suffix}")
    [run] = stored_runs(page)
    page.evaluate(TAMPER, run["id"])
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#done-status")).to_contain_text("conflict")
    page.get_by_role("button", name="Back to runs").click()
    page.clock.run_for(3_000)
    shoot(page, out, f"14-parked-conflict{suffix}", full=True)
    context.close()


def signin_expired(browser, server: LiveServer, out: Path) -> None:
    """The prompt after a device token ended, with a run waiting."""
    from datetime import timedelta

    import sqlalchemy as sa

    from r4h_pwa.models import Device, utcnow

    context = browser.new_context(base_url=server.url, viewport=PHONE)
    context.clock.install()
    page = context.new_page()
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 7)
    with server.db() as db:
        for device in db.session.scalars(sa.select(Device)):
            device.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    finish(page)
    expect(page.locator("body")).to_have_attribute("data-screen", "signin")
    shoot(page, out, "15-sign-in-again", full=True)
    context.set_offline(True)
    page.goto("/login")
    shoot(page, out, "16-offline-fallback")
    context.close()


def main() -> None:
    """Start a server on a fresh demo database and take every screenshot."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "shots" / "app"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="r4h-shots-"))
    demo = prepare_database(work / "demo.sqlite")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for n, step in enumerate([
            lambda server: flow(browser, server, out, "light"),
            lambda server: flow(browser, server, out, "dark"),
            lambda server: flow(browser, server, out, "light", SMALL),
            lambda server: flow(browser, server, out, "dark", SMALL),
            lambda server: signin_expired(browser, server, out),
        ]):  # fmt: skip
            (work / str(n)).mkdir()
            server = LiveServer(work / str(n), demo).start()  # a fresh database each
            try:
                step(server)
            finally:
                server.stop()
        browser.close()


if __name__ == "__main__":
    main()
