"""GET /shipments/<id>/label.pdf and friends: decodable, 4x6, and only for the right people."""

import pytest

from tests.helpers import decode_qr, page_sizes, page_text, reload, sign_in


def test_label_qr_code_decodes_to_the_shipments_family_url(client, story):
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert page_sizes(response.data) == [(288.0, 432.0)]
    assert decode_qr(response.data) == [f"https://r4h.test/f/{story.family_token}"]


def test_label_text_has_return_address_recipient_and_honor_line(client, story):
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    text = " ".join(page_text(response.data).split())
    assert "Winter Springs, FL 32708" in text  # ORG_RETURN_ADDRESS
    assert "Chief Chris Deisler" in text
    assert "Woodland Park, CO 80863" in text
    assert (
        "Flag carried in honor of Officer Julian Becerra, Fountain Police Department: "
        "mile 1,294, run by Zechariah on February 14, 2023"
    ) in text
    assert f"r4h.test/f/{story.family_token}" in text


def test_first_print_marks_a_draft_label_printed_once(client, db, story):
    client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    first = reload(db, story.shipment_id)
    assert first.status == "label_printed"
    printed_at = first.label_printed_at
    assert printed_at is not None
    client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    again = reload(db, story.shipment_id)
    assert again.status == "label_printed" and again.label_printed_at == printed_at


def test_printing_does_not_move_a_shipped_flag_back(client, db, story):
    shipment = reload(db, story.shipment_id)
    shipment.status = "shipped"
    db.session.commit()
    client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    assert reload(db, story.shipment_id).status == "shipped"


def test_letter_version_is_us_letter_with_a_decodable_code(client, db, story):
    response = client.get(f"/shipments/{story.shipment_id}/label-letter.pdf", headers=story.headers)
    assert response.status_code == 200
    assert page_sizes(response.data) == [(612.0, 792.0)]
    assert decode_qr(response.data, scale=3) == [f"https://r4h.test/f/{story.family_token}"]


def test_keepsake_card_is_4x6_and_does_not_mark_the_label_printed(client, db, story):
    response = client.get(f"/shipments/{story.shipment_id}/card.pdf", headers=story.headers)
    assert response.status_code == 200
    assert page_sizes(response.data) == [(288.0, 432.0)]
    assert decode_qr(response.data) == [f"https://r4h.test/f/{story.family_token}"]
    text = " ".join(page_text(response.data).split())
    assert "Officer Julian Becerra" in text and "800 Research" not in text
    assert reload(db, story.shipment_id).status == "draft"


def test_the_runner_can_print_by_session(client, story):
    sign_in(client, story.runner_email)
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_an_admin_can_print_by_session(client, story):
    sign_in(client, story.admin_email)
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_label_is_not_cached_by_shared_caches(client, story):
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["label.pdf", "label-letter.pdf", "card.pdf"])
def test_another_runner_gets_404_by_bearer(client, db, story, path):
    response = client.get(
        f"/shipments/{story.shipment_id}/{path}",
        headers={"Authorization": f"Bearer {story.other_token}"},
    )
    assert response.status_code == 404
    assert response.mimetype != "application/pdf"
    assert reload(db, story.shipment_id).status == "draft"


def test_another_runner_gets_a_404_page_by_session(client, story):
    sign_in(client, story.other_email)
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_another_runner_asking_for_json_gets_json_404(client, story):
    response = client.get(
        f"/shipments/{story.shipment_id}/label.pdf",
        headers={"Authorization": f"Bearer {story.other_token}", "Accept": "application/json"},
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_anonymous_browser_is_sent_to_login(client, db, story):
    response = client.get(f"/shipments/{story.shipment_id}/label.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert reload(db, story.shipment_id).status == "draft"


def test_anonymous_json_client_gets_401(client, story):
    response = client.get(
        f"/shipments/{story.shipment_id}/label.pdf", headers={"Accept": "application/json"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_bad_bearer_token_gets_401(client, story):
    response = client.get(
        f"/shipments/{story.shipment_id}/label.pdf",
        headers={"Authorization": "Bearer not-a-real-token"},
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"


def test_unknown_shipment_is_404(client, story):
    response = client.get(
        "/shipments/00000000-0000-0000-0000-000000000000/label.pdf", headers=story.headers
    )
    assert response.status_code == 404


def test_a_head_request_does_not_mark_the_label_printed(client, db, story):
    response = client.head(f"/shipments/{story.shipment_id}/label.pdf", headers=story.headers)
    assert response.status_code == 200
    assert reload(db, story.shipment_id).status == "draft"
