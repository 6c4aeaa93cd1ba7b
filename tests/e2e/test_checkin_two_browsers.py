"""Issue 4, end to end in two browsers: the runner's phone shows the run's QR code, an
officer scans it (decoded from a screenshot by zxing-cpp) and checks in from their own
phone, the runner's roster shows them, and the family page names only those who consented.
"""

import io
import time

import sqlalchemy as sa
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from r4h_pwa.models import Run, Shipment

from .steps import finish, open_app, sign_in, tap_laps, wait_for_service_worker

PHONE = {"width": 390, "height": 844}


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a screenshot."""
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code.text


def wait_for_synced_run(server_db, seconds: float = 60) -> str:
    """The id of the first run the server has as synced, polling until it arrives."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with server_db() as db:
            run_id = db.session.scalar(sa.select(Run.id).where(Run.status == "synced"))
        if run_id:
            return run_id
        time.sleep(0.25)
    raise AssertionError("the phone never synced the run")


def check_in(browser, url: str, name: str, agency: str, public: bool) -> None:
    """An officer opens the scanned URL on their own phone and checks in."""
    officer = browser.new_context(viewport=PHONE)
    page = officer.new_page()
    page.goto(url)
    expect(page.locator("h1")).to_contain_text("Jordan Avery")
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=agency]").fill(agency)
    page.locator("input[name=badge]").fill("K-12")
    page.locator("input[name=role][value=escort]").check()
    if public:
        page.locator("input[name=public]").check()
    page.get_by_test_id("checkin-submit").click()
    expect(page.locator("h1")).to_have_text("You're checked in")
    expect(page.locator("main")).to_contain_text("Jordan Avery")
    officer.close()


def test_officers_scan_the_phone_check_in_and_only_consenting_ones_reach_the_family(
    browser, context, page, server, server_db
):
    context.clock.install()
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    page.get_by_test_id("planned-run").filter(has_text="Jordan Avery").click()
    qr = page.locator("#hero-qr")
    expect(qr).to_be_visible()

    url = decode_qr(qr.screenshot())
    assert url.startswith(f"{server.url}/c/")

    check_in(browser, url, "Sgt. Ada Park", "Example County Sheriff", public=True)
    check_in(browser, url, "Deputy Quiet Person", "Example County Sheriff", public=False)

    roster = page.locator("#hero-roster")
    expect(roster).to_contain_text("Sgt. Ada Park", timeout=15_000)
    expect(roster).to_contain_text("Deputy Quiet Person")

    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 7)
    finish(page)
    # Online, the count can read 0 before the run even enters the outbox: wait for the server.
    run_id = wait_for_synced_run(server_db)

    with server_db() as db:
        run = db.session.get(Run, run_id)
        assert run.hero.name == "Jordan Avery"
        assert run.mile_number is not None
        names = sorted(c.name for c in run.checkins)
        assert names == ["Deputy Quiet Person", "Sgt. Ada Park"]  # merged, no duplicates
        shipment = Shipment(
            run=run,
            recipient_name="The Avery family",
            address_line1="12 Private Lane",
            city="Winter Springs",
            state="FL",
            postal_code="32708",
        )
        db.session.add(shipment)
        db.session.commit()
        family_path = f"/f/{shipment.family_token}"

    family = browser.new_context(viewport=PHONE, base_url=server.url).new_page()
    family.goto(family_path)
    body = family.locator("body")
    expect(body).to_contain_text("Jordan Avery")
    expect(body).to_contain_text("Sgt. Ada Park")
    expect(body).not_to_contain_text("Deputy Quiet Person")
    expect(body).not_to_contain_text("12 Private Lane")
    family.context.close()
