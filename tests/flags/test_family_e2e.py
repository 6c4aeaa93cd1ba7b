"""The family page in a real Chromium against a live server: contents, headers, the ack.

The live server and Chromium fixtures are tests/conftest.py's. Screenshots go to shots/flags/
(gitignored) for people to look at.
"""

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from r4h_pwa.models import Photo, Runner, Shipment
from r4h_pwa.runs.photos import clean_photo
from tests.e2e.harness import DEMO_PASSWORD
from tests.e2e.steps import enter_admin_code
from tests.factories import TOTP_SECRET, TRACKING, make_runner, make_shipment, make_synced_run
from tests.helpers import decode_qr

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "shots" / "flags"


def _seed(server) -> dict:
    """A synced run of Zechariah's with laps, two escorts (one not public) and a shipment."""
    with server.db() as db:
        # The demo admin, enrolled in two-factor sign-in with the test authenticator.
        db.session.execute(
            sa.update(Runner)
            .where(Runner.email == "admin@example.org")
            .values(totp_secret=TOTP_SECRET)
        )
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
        run = make_synced_run(
            runner, prayer_before=True, silence_seconds=60, flag_carried=True, prayer_after=False
        )
        db.session.add(
            Photo(
                id="6f0a3b1e-0c1d-4e2f-9a3b-5c6d7e8f9a0b",
                run=run,
                **vars(clean_photo(_photo_bytes(), "image/jpeg")),
            )
        )
        shipment = make_shipment(run)
        second = make_shipment(
            run,
            recipient_kind="family",
            recipient_name="The Becerra family",
            address_line1="12 Elm Street",
            address_line2="",
        )
        db.session.commit()
        return {"id": shipment.id, "token": shipment.family_token, "second": second.id}


def _photo_bytes() -> bytes:
    """A 1600 x 1200 photo with EXIF and GPS, as a phone would send it: a flag on a field."""
    image = Image.new("RGB", (1600, 1200), (46, 125, 50))
    image.paste((20, 20, 20), (300, 250, 1300, 850))
    image.paste((31, 86, 199), (300, 520, 1300, 580))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (28.0, 41.0, 30.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _shipment(server, shipment_id: str) -> dict:
    with server.db() as db:
        shipment = db.session.get(Shipment, shipment_id)
        return {
            "status": shipment.status,
            "message": shipment.ack_message,
            "received_at": shipment.received_at,
        }


def test_family_page_shows_the_mile_and_nothing_private_and_takes_the_ack(server, page):
    seeded = _seed(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    response = page.goto(f"/f/{seeded['token']}")
    assert response.status == 200
    headers = response.headers
    assert "noindex" in headers["x-robots-tag"]
    assert headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self'" in headers["content-security-policy"]

    assert page.get_by_test_id("hero-name").inner_text() == "Officer Julian Becerra"
    assert page.get_by_test_id("mile-line").inner_text().startswith("Mile 1,294, run by Zechariah")
    assert page.get_by_test_id("mile-sentence").inner_text() == (
        "On February 14, 2023, Zechariah ran mile 1,294 for Officer Julian Becerra at Winter "
        "Springs High School, carrying the thin blue line flag, escorted by officers of Winter "
        "Springs Police. Before the run they prayed; after it they kept a minute of silence."
    )
    photo = page.get_by_test_id("family-photo")
    photo.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    served = page.request.get(photo.get_attribute("src"))
    assert served.status == 200
    assert dict(Image.open(io.BytesIO(served.body())).getexif()) == {}
    assert b"\xff\xe1" not in served.body()
    chart = page.get_by_test_id("splits-chart")
    assert not chart.is_visible()  # lap times wait behind a closed disclosure
    page.get_by_test_id("lap-times").locator("summary").click()
    assert chart.is_visible()
    assert chart.locator("rect.bar").count() == 7
    assert page.get_by_test_id("total-time").inner_text() == "10:12.4"
    text = page.locator("body").inner_text()
    assert "Sgt. Dana Reyes" in text
    for private in ("Ofc. Quiet Person", "800 Research Drive", "Woodland Park", TRACKING):
        assert private not in page.content()
    assert page.locator('meta[name="robots"]').get_attribute("content").startswith("noindex")
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requests)
    page.screenshot(path=str(SHOTS / "family.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "family-top.png"))

    page.get_by_test_id("ack-message").fill("Thank you, Zechariah. He would have loved this.")
    page.get_by_test_id("ack-submit").click()
    page.wait_for_url(f"**/f/{seeded['token']}/thanks")
    assert page.get_by_test_id("ack-done").is_visible()
    page.screenshot(path=str(SHOTS / "ack-done.png"), full_page=True)
    stored = _shipment(server, seeded["id"])
    assert stored["status"] == "received" and stored["received_at"] is not None
    assert stored["message"] == "Thank you, Zechariah. He would have loved this."

    # Back on the page and again: the message is not stored twice.
    page.goto(f"/f/{seeded['token']}")
    assert page.get_by_test_id("received").is_visible()
    page.get_by_test_id("ack-message").fill("Thank you, Zechariah. He would have loved this.")
    page.get_by_test_id("ack-submit").click()
    page.wait_for_url("**/thanks")
    assert _shipment(server, seeded["id"])["message"] == stored["message"]


def test_family_page_screenshots_light_and_dark_with_a_photo(server, browser):
    seeded = _seed(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(
            base_url=server.url, viewport={"width": 390, "height": 844}, color_scheme=scheme
        )
        page = context.new_page()
        assert page.goto(f"/f/{seeded['token']}").status == 200
        photo = page.get_by_test_id("family-photo")
        photo.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
        )
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"family-{scheme}-top.png"))
        page.screenshot(path=str(SHOTS / f"family-{scheme}.png"), full_page=True)
        context.close()


def test_the_family_removes_the_page_and_it_answers_410(server, page):
    seeded = _seed(server)
    page.goto(f"/f/{seeded['token']}")
    page.get_by_test_id("remove-page").click()
    page.get_by_test_id("remove-confirm").click()
    page.wait_for_url(f"**/f/{seeded['token']}")
    assert page.get_by_test_id("page-removed").is_visible()
    assert "Becerra" not in page.content()
    assert page.request.get(f"/f/{seeded['token']}").status == 410
    with server.db() as db:
        assert db.session.get(Shipment, seeded["id"]).family_hidden_at is not None


def test_unknown_and_revoked_tokens_get_404(server, page):
    seeded = _seed(server)
    assert page.goto("/f/" + "Z" * 32).status == 404
    with server.db() as db:
        shipment = db.session.get(Shipment, seeded["id"])
        from r4h_pwa.flags.service import revoke_family_link

        revoke_family_link(shipment)
        db.session.commit()
    response = page.goto(f"/f/{seeded['token']}")
    assert response.status == 404
    assert response.headers["referrer-policy"] == "no-referrer"


def test_admin_prints_a_batch_with_progress_and_the_label_decodes(server, page):
    seeded = _seed(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/login")
    page.fill('input[name="email"]', "admin@example.org")
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('form [type="submit"]').last.click()
    enter_admin_code(page)
    page.wait_for_url("**/admin/**")

    page.goto("/admin/shipments")
    assert page.get_by_test_id("shipment-row").count() == 2
    page.get_by_role("button", name="Select all").click()
    page.get_by_test_id("print-selected").click()
    download_link = page.get_by_test_id("print-download")
    download_link.wait_for(state="visible")
    expect(page.get_by_test_id("print-progress")).to_contain_text("Made 2 labels (a 2-page PDF).")
    # The list's badges update without a reload.
    expect(page.locator("[data-status-badge]")).to_have_text(["Label printed", "Label printed"])
    page.screenshot(path=str(SHOTS / "admin-batch.png"), full_page=True)
    with page.expect_download() as info:
        download_link.click()
    pdf = Path(info.value.path()).read_bytes()
    with server.db() as db:
        tokens = {s.id: s.family_token for s in db.session.scalars(sa.select(Shipment))}
        statuses = {s.status for s in db.session.scalars(sa.select(Shipment))}
    assert statuses == {"label_printed"}
    decoded = {decode_qr(pdf, 0)[0], decode_qr(pdf, 1)[0]}
    assert decoded == {f"{server.url}/f/{token}" for token in tokens.values()}

    page.goto(f"/admin/shipments/{seeded['id']}")
    page.screenshot(path=str(SHOTS / "admin-shipment.png"), full_page=True)
    for name, path in (
        ("label", "label.pdf"),
        ("card", "card.pdf"),
        ("letter", "label-letter.pdf"),
    ):
        reply = page.request.get(f"/shipments/{seeded['id']}/{path}")
        assert reply.status == 200 and reply.headers["content-type"] == "application/pdf"
        _render(reply.body(), SHOTS / f"{name}.png")
        assert decode_qr(reply.body(), scale=3) == [f"{server.url}/f/{seeded['token']}"]


def _render(pdf: bytes, target: Path) -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        document[0].render(scale=2.5).to_pil().save(target)
    finally:
        document.close()
