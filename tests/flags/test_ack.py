"""POST /f/<token>/ack: the family says the flag arrived, with an optional message."""

from r4h_pwa.extensions import db as _db
from tests.helpers import csrf_token, reload, sign_in


def _ack(client, story, message="", **kw):
    return client.post(f"{story.family_path}/ack", data={"message": message, **kw})


def test_ack_marks_the_shipment_received_and_keeps_the_message(client, db, story):
    response = _ack(client, story, "Thank you so much, Zechariah.")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{story.family_path}/thanks"
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "received"
    assert shipment.received_at is not None
    assert shipment.ack_message == "Thank you so much, Zechariah."


def test_ack_without_a_message_still_marks_received(client, db, story):
    assert _ack(client, story).status_code == 303
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "received" and shipment.ack_message == ""


def test_a_repeat_does_not_duplicate_the_message_or_move_the_time(client, db, story):
    _ack(client, story, "Thank you.")
    first = reload(db, story.shipment_id).received_at
    _ack(client, story, "  Thank you.  ")
    _ack(client, story, "")
    shipment = reload(db, story.shipment_id)
    assert shipment.ack_message == "Thank you."
    assert shipment.received_at == first


def test_a_different_second_message_is_added_not_replacing_the_first(client, db, story):
    _ack(client, story, "Thank you.")
    _ack(client, story, "From his mother: God bless you.")
    _ack(client, story, "Thank you.")
    shipment = reload(db, story.shipment_id)
    assert shipment.ack_message == "Thank you.\n\nFrom his mother: God bless you."


def test_thanks_page_follows(client, story):
    response = _ack(client, story, "Thank you.")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="ack-done"' in html and "Zechariah" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_family_page_says_it_arrived_after_ack(client, story):
    _ack(client, story)
    html = client.get(story.family_path).get_data(as_text=True)
    assert 'data-testid="received"' in html


def test_message_over_2000_characters_is_refused_and_nothing_changes(client, db, story):
    response = _ack(client, story, "x" * 2001)
    assert response.status_code == 422
    assert "At most 2000 characters" in response.get_data(as_text=True)
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "draft" and shipment.ack_message == "" and not shipment.received_at


def test_script_in_the_message_is_stored_as_text_and_shown_escaped_to_admins(client, db, story):
    _ack(client, story, "<script>alert(1)</script>")
    assert reload(db, story.shipment_id).ack_message == "<script>alert(1)</script>"
    sign_in(client, story.admin_email)
    html = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_unknown_token_ack_is_404(client, story):
    assert client.post("/f/" + "B" * 32 + "/ack", data={"message": "hi"}).status_code == 404


def test_ack_without_csrf_token_is_refused(strict_app, strict_story):
    client = strict_app.test_client()
    response = client.post(f"{strict_story.family_path}/ack", data={"message": "hi"})
    assert response.status_code == 400
    with strict_app.app_context():
        assert reload(_db, strict_story.shipment_id).status == "draft"


def test_ack_with_the_pages_csrf_token_works(strict_app, strict_story):
    client = strict_app.test_client()
    token = csrf_token(client.get(strict_story.family_path).get_data(as_text=True))
    response = client.post(
        f"{strict_story.family_path}/ack", data={"message": "hi", "csrf_token": token}
    )
    assert response.status_code == 303


def test_ack_is_rate_limited(strict_app, strict_story):
    client = strict_app.test_client()
    token = csrf_token(client.get(strict_story.family_path).get_data(as_text=True))
    codes = [
        client.post(
            f"{strict_story.family_path}/ack", data={"message": "", "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]
