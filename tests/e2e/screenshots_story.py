"""Screenshots of issue 11 on the phone and the family page, at 320x568 and 390x844, light
and dark: the ceremony steps, the run's photos, the families' messages, the family page.

Run: .venv/bin/python -m tests.e2e.screenshots_story [out_dir]   (default: shots/story/)
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from r4h_pwa.models import Run
from tests.factories import make_shipment

from .harness import REPO, LiveServer, launch_chromium, prepare_database
from .screenshots import PHONE, SMALL, shoot
from .steps import open_app, sign_in, stored_runs, tap_laps
from .test_ceremony_photos import photo_with_gps


def phone(browser, server: LiveServer, out: Path, scheme: str, screen: dict) -> str | None:
    """A run with the ceremony and two photos, then the family's message on the phone."""
    context = browser.new_context(base_url=server.url, viewport=screen, color_scheme=scheme)
    context.clock.install()
    page = context.new_page()
    suffix = f"-{scheme}-{screen['width']}"
    open_app(page)
    sign_in(page)
    page.get_by_test_id("planned-run").first.click()  # with the escorts' code: 5 actions
    page.get_by_test_id("flag-carried").check()
    page.get_by_test_id("flag-carried").scroll_into_view_if_needed()
    shoot(page, out, f"01-hero-ceremony{suffix}")
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 3)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("counter-photo-button").click()
    chooser.value.set_files(
        {"name": "start.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps((1600, 1200))}
    )
    expect(page.locator("#notice")).to_have_text("Photo kept with the run.")
    shoot(page, out, f"01b-counter-photo{suffix}")
    tap_laps(page, 4)
    page.locator("#finish-mile").click()
    page.get_by_test_id("after-silence").click()
    page.clock.run_for(17_000)
    page.get_by_test_id("prayer-after").check()
    shoot(page, out, f"02-finish-after-steps{suffix}")
    page.clock.run_for(45_000)
    page.get_by_test_id("confirm-finish").click()
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    for name, size in (("flag.jpg", (2400, 1800)), ("escort.jpg", (1200, 1600))):
        page.get_by_test_id("photo-pick").set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": photo_with_gps(size)}
        )
    expect(page.get_by_test_id("photo-status")).to_have_text(["Sent."] * 3, timeout=15_000)
    page.get_by_test_id("photo-hide").nth(2).click()
    expect(page.get_by_test_id("photo-status").nth(2)).to_have_text(
        "Hidden from the family page.", timeout=15_000
    )
    page.get_by_role("heading", name="Photos").scroll_into_view_if_needed()
    shoot(page, out, f"03-photos{suffix}")
    shoot(page, out, f"03-done-full{suffix}", full=True)
    [run] = stored_runs(page)
    with server.db() as db:
        shipment = make_shipment(db.session.get(Run, run["id"]))
        db.session.commit()
        token = shipment.family_token
    family = context.browser.new_context(base_url=server.url)
    ack = family.new_page()
    ack.goto(f"/f/{token}")
    ack.get_by_test_id("ack-message").fill(
        "Thank you for carrying his flag. Our son sleeps with it folded by his bed."
    )
    ack.get_by_test_id("ack-submit").click()
    ack.wait_for_url("**/thanks")
    family.close()
    page.get_by_role("button", name="Back to runs").click()
    page.reload()
    expect(page.get_by_test_id("family-messages")).to_be_visible()
    shoot(page, out, f"04-messages{suffix}")
    context.close()
    return token


def family_page(browser, server: LiveServer, out: Path, token: str) -> None:
    """The family page with its photos at 390x844, light and dark, top and whole."""
    for scheme in ("light", "dark"):
        context = browser.new_context(base_url=server.url, viewport=PHONE, color_scheme=scheme)
        page = context.new_page()
        page.goto(f"/f/{token}")
        for photo in page.get_by_test_id("family-photo").all():
            photo.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
            )
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, out, f"05-family-{scheme}")
        shoot(page, out, f"05-family-{scheme}-full", full=True)
        context.close()


def main() -> None:
    """A fresh demo server per phone size and scheme; every screenshot."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "shots" / "story"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="r4h-story-"))
    demo = prepare_database(work / "demo.sqlite")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        n = 0
        for screen in (PHONE, SMALL):
            for scheme in ("light", "dark"):
                n += 1
                (work / str(n)).mkdir()
                server = LiveServer(work / str(n), demo).start()
                try:
                    token = phone(browser, server, out, scheme, screen)
                    if n == 1:
                        family_page(browser, server, out, token)
                finally:
                    server.stop()
        browser.close()


if __name__ == "__main__":
    main()
