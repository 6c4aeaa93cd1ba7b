"""The family page in a real Chromium against a live server: contents, headers, the ack.

The live server and Chromium fixtures are tests/e2e/conftest.py's, imported by
tests/flags/conftest.py. Screenshots go to shots/flags/ (gitignored) for people to look at.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa

from r4h_pwa.models import Runner, Shipment
from tests.e2e.harness import DEMO_PASSWORD
from tests.e2e.steps import enter_admin_code
from tests.flags.conftest import TRACKING, decode_qr, make_shipment, make_synced_run

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "shots" / "flags"


def _seed(server) -> dict:
    """A synced run of Zechariah's with laps, two escorts (one not public) and a shipment."""
    from tests.factories import TOTP_SECRET, make_runner

    with server.db() as db:
        # The demo admin, enrolled in two-factor sign-in with the test authenticator.
        db.session.execute(sa.update(Runner).where(Runner.email == "admin@example.org")
                           .values(totp_secret=TOTP_SECRET))
        runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=1)
        run = make_synced_run(runner)
        shipment = make_shipment(run)
        second = make_shipment(run, recipient_kind="family", recipient_name="The Becerra family",
                               address_line1="12 Elm Street", address_line2="")
        db.session.commit()
        return {"id": shipment.id, "token": shipment.family_token, "second": second.id}


def _shipment(server, shipment_id: str) -> dict:
    with server.db() as db:
        shipment = db.session.get(Shipment, shipment_id)
        return {"status": shipment.status, "message": shipment.ack_message,
                "received_at": shipment.received_at}


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
    chart = page.get_by_test_id("splits-chart")
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
    assert "Made 2 labels (a 2-page PDF)." in page.get_by_test_id("print-progress").inner_text()
    badges = page.locator("[data-status-badge]").all_inner_texts()
    assert badges == ["Label printed", "Label printed"]  # updated without a reload
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
    for name, path in (("label", "label.pdf"), ("card", "card.pdf"),
                       ("letter", "label-letter.pdf")):
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
