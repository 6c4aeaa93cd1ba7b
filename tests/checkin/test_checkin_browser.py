"""Check-in in a real Chromium at 390x844: scan the printed sheet, check in, see the pages.

Set R4H_SHOTS_DIR to keep the screenshots (for example shots/checkin); else they go to tmp.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from r4h_pwa.models import Checkin, utcnow
from tests.e2e.steps import enter_admin_code
from tests.factories import PASSWORD, make_admin, make_hero, make_run, make_runner, make_track

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def database_url(tmp_path):
    """One database is enough for a browser test: a SQLite file the server thread shares."""
    return f"sqlite:///{tmp_path / 'e2e.sqlite'}"


@pytest.fixture
def scene(db):
    """A planned run for a fallen deputy, an admin, and a run whose code was revoked."""
    hero = make_hero(
        name="Jonathan R. Miller",
        rank="Deputy Sheriff",
        agency="Seminole County Sheriff's Office",
        kind="police",
    )
    runner = make_runner(name="Caleb")
    run = make_run(
        runner,
        hero=hero,
        track=make_track(name="Winter Springs High School"),
        scheduled_at=datetime(2026, 3, 14, 11, 30, tzinfo=UTC),
    )
    revoked = make_run(runner, checkin_revoked_at=utcnow())
    admin = make_admin()
    db.session.commit()
    return {"run": run, "revoked": revoked, "admin": admin}


@pytest.fixture
def open_page(browser, live_server):
    """Opens a phone-sized tab on the live server: (page, console errors); closed after."""
    contexts = []

    def open_one(**options):
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, base_url=live_server, **options
        )
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        return page, errors

    yield open_one
    for context in contexts:
        context.close()


def _check_printed_sheet(page, shots: Path, url: str) -> None:
    """Printed on letter paper, the sheet is one page and its code still scans."""
    import pypdfium2 as pdfium
    import zxingcpp

    pdf_path = shots / "sheet.pdf"
    page.pdf(path=str(pdf_path), format="Letter", print_background=True)
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        assert len(document) == 1
        bitmap = document[0].render(scale=2)
        image = bitmap.to_pil()
        image.save(shots / "sheet-print.png")
        [code] = zxingcpp.read_barcodes(image)
        assert code.text == url
    finally:
        document.close()


def test_officer_scans_the_printed_sheet_and_checks_in(open_page, live_server, db, scene, shots):
    import zxingcpp
    from PIL import Image as image_module

    run = scene["run"]

    # The admin prints the sheet.
    admin, admin_errors = open_page()
    admin.goto("/login")
    admin.fill("#email", scene["admin"].email)
    admin.fill("#password", PASSWORD)
    admin.click("[data-testid=login-submit]")
    enter_admin_code(admin)
    admin.goto(f"/admin/runs/{run.id}/checkin-sheet")
    sheet = shots / "sheet.png"
    admin.screenshot(path=str(sheet), full_page=True)
    assert admin_errors == []
    _check_printed_sheet(admin, shots, f"{live_server}/c/{run.checkin_token}")

    # A real decoder reads the code from the screenshot, and the officer's phone opens it.
    with image_module.open(sheet) as image:
        [code] = zxingcpp.read_barcodes(image)
    assert code.text == f"{live_server}/c/{run.checkin_token}"

    officer, errors = open_page()
    officer.goto(code.text)
    assert "Deputy Sheriff Jonathan R. Miller" in officer.inner_text("[data-testid=checkin-hero]")
    officer.screenshot(path=str(shots / "form.png"), full_page=True)
    officer.fill("#name", "Sgt. Maria Lopez")
    officer.fill("#agency", "Winter Springs Police Department")
    officer.fill("#badge", "1432")
    officer.check("#public")
    officer.click("[data-testid=checkin-submit]")
    officer.wait_for_selector("[data-testid=checkin-done]")
    assert "You're checked in" in officer.inner_text("h1")
    officer.screenshot(path=str(shots / "done.png"), full_page=True)
    assert errors == []  # no CSP violation, no missing file

    [stored] = db.session.scalars(db.select(Checkin)).all()
    assert (stored.name, stored.public, stored.source) == ("Sgt. Maria Lopez", True, "qr")

    # The same phone changes its mind: still one check-in.
    officer.click("[data-testid=checkin-edit]")
    officer.uncheck("#public")
    officer.click("[data-testid=checkin-submit]")
    officer.wait_for_selector("[data-testid=checkin-done]")
    db.session.expire_all()
    [again] = db.session.scalars(db.select(Checkin)).all()
    assert again.id == stored.id and again.public is False

    admin.emulate_media(media="screen")
    admin.goto(f"/admin/runs/{run.id}/checkins")
    assert "Sgt. Maria Lopez" in admin.inner_text("[data-testid=checkin-roster]")
    admin.screenshot(path=str(shots / "admin-roster.png"), full_page=True)


def test_revoked_code_page(open_page, scene, shots):
    page, errors = open_page()
    response = page.goto(f"/c/{scene['revoked'].checkin_token}")
    assert response.status == 404
    assert "This check-in code isn" in page.inner_text("h1")
    page.screenshot(path=str(shots / "revoked.png"), full_page=True)
    # The page's own 404 is the only console error: no CSP violation, no missing file.
    assert errors == [
        "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    ]


def test_bad_input_in_the_browser_keeps_what_was_typed(open_page, db, scene, shots):
    page, _errors = open_page()
    page.goto(f"/c/{scene['run'].checkin_token}")
    page.fill("#agency", "Oviedo PD")
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector("[data-testid=checkin-errors]")
    assert page.input_value("#agency") == "Oviedo PD"
    assert "Please enter your name." in page.inner_text("form")
    page.screenshot(path=str(shots / "form-error.png"), full_page=True)
    assert db.session.scalars(db.select(Checkin)).all() == []


def test_form_reads_well_in_dark_mode(open_page, scene, shots):
    page, _errors = open_page(color_scheme="dark")
    page.goto(f"/c/{scene['run'].checkin_token}")
    colors = page.evaluate(
        """() => {
            const style = (selector) => getComputedStyle(document.querySelector(selector));
            return {
              inputInk: style('#name').color, inputPaper: style('#name').backgroundColor,
              labelInk: style('label[for=name]').color,
              bodyPaper: style('body').backgroundColor,
            };
        }"""
    )
    page.screenshot(path=str(shots / "form-dark.png"), full_page=True)
    assert colors["inputInk"] != colors["inputPaper"]
    assert colors["labelInk"] != colors["bodyPaper"]
    assert colors["bodyPaper"] != "rgb(255, 255, 255)"
