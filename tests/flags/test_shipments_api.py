"""POST /api/v1/runs/<id>/shipments and GET /api/v1/shipments/<id>."""

import pytest

from r4h_pwa.models import Shipment
from tests.factories import ADDRESS, bearer, make_device_token, make_runner, make_synced_run
from tests.helpers import reload, shipment_count


def _post(client, story, body, run_id=None, headers=None):
    return client.post(
        f"/api/v1/runs/{run_id or story.run_id}/shipments",
        json=body,
        headers=headers or story.headers,
    )


def test_create_answers_201_with_id_and_absolute_urls(client, db, story):
    response = _post(client, story, ADDRESS)
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "family_url", "label_url"}
    shipment = reload(db, body["id"])
    assert body["family_url"] == f"https://r4h.test/f/{shipment.family_token}"
    assert body["label_url"] == f"https://r4h.test/shipments/{shipment.id}/label.pdf"
    assert response.headers["Location"] == f"https://r4h.test/api/v1/shipments/{shipment.id}"


def test_create_stores_every_field_as_a_draft(client, db, story):
    body = {
        **ADDRESS,
        "carrier": "",
        "tracking_number": "",
        "handwritten_note": False,
        "state": "co",
        "postal_code": "808631234",
    }
    shipment = reload(db, _post(client, story, body).json["id"])
    assert shipment.run_id == story.run_id
    assert shipment.status == "draft"
    assert (shipment.recipient_name, shipment.recipient_kind) == (
        "Chief Chris Deisler",
        "intermediary",
    )
    assert (shipment.address_line1, shipment.address_line2) == ("800 Research Drive", "Suite 9")
    assert (shipment.city, shipment.state, shipment.postal_code) == (
        "Woodland Park",
        "CO",
        "80863-1234",
    )
    assert shipment.note == "Deliver with the chief's letter."
    assert (shipment.carrier, shipment.tracking_number) == ("", "")
    assert shipment.handwritten_note is False


def test_family_token_carries_at_least_128_bits(client, db, story):
    first = reload(db, _post(client, story, ADDRESS).json["id"]).family_token
    second = reload(db, _post(client, story, ADDRESS).json["id"]).family_token
    assert first != second
    assert len(first) == 32  # 24 random bytes (192 bits), base64url


def test_recipient_kind_defaults_to_family(client, db, story):
    body = {k: v for k, v in ADDRESS.items() if k != "recipient_kind"}
    assert reload(db, _post(client, story, body).json["id"]).recipient_kind == "family"


def test_get_returns_the_shipment_with_status_and_times(client, story):
    response = client.get(f"/api/v1/shipments/{story.shipment_id}", headers=story.headers)
    assert response.status_code == 200
    body = response.json
    assert body["id"] == story.shipment_id and body["run_id"] == story.run_id
    assert body["status"] == "draft"
    assert body["status_times"]["draft"] is not None
    assert body["status_times"]["received"] is None and body["received_at"] is None
    assert body["mile_number"] == 1294
    assert body["family_url"] == f"https://r4h.test/f/{story.family_token}"
    assert body["family_link_active"] is True
    assert body["ack_message"] is None


def test_get_shows_the_family_message_once_acknowledged(client, db, story):
    client.post(f"/f/{story.family_token}/ack", data={"message": "Thank you, Zechariah."})
    body = client.get(f"/api/v1/shipments/{story.shipment_id}", headers=story.headers).json
    assert body["status"] == "received"
    assert body["received_at"] is not None and body["status_times"]["received"] is not None
    assert body["ack_message"] == "Thank you, Zechariah."


def test_run_shipments_lists_them(client, story):
    response = client.get(f"/api/v1/runs/{story.run_id}/shipments", headers=story.headers)
    assert response.status_code == 200
    assert [s["id"] for s in response.json["shipments"]] == [story.shipment_id]


def test_another_runners_shipment_is_404(client, story):
    response = client.get(
        f"/api/v1/shipments/{story.shipment_id}", headers=bearer(story.other_token)
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_another_runners_run_shipments_are_404(client, story):
    response = client.get(
        f"/api/v1/runs/{story.run_id}/shipments", headers=bearer(story.other_token)
    )
    assert response.status_code == 404


def test_unknown_shipment_is_404(client, story):
    response = client.get("/api/v1/shipments/nope", headers=story.headers)
    assert response.status_code == 404


def test_without_a_token_it_is_401(client, story):
    assert client.post(f"/api/v1/runs/{story.run_id}/shipments", json=ADDRESS).status_code == 401
    assert client.get(f"/api/v1/shipments/{story.shipment_id}").status_code == 401


def test_run_of_another_runner_is_404_and_stores_nothing(client, db, story):
    before = shipment_count(db)
    response = _post(client, story, ADDRESS, headers=bearer(story.other_token))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert shipment_count(db) == before


def test_unknown_run_is_404_and_stores_nothing(client, db, story):
    before = shipment_count(db)
    response = _post(client, story, ADDRESS, run_id="00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert shipment_count(db) == before


def test_run_not_yet_synced_is_409_and_stores_nothing(client, db, story):
    runner = db.session.get(type(reload(db, story.shipment_id).run.runner), story.runner_id)
    run = make_synced_run(runner, mile_number=None, status="planned")
    db.session.commit()
    before = shipment_count(db)
    response = _post(client, story, ADDRESS, run_id=run.id)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "run_not_synced"
    assert shipment_count(db) == before


def _without(key):
    return {k: v for k, v in ADDRESS.items() if k != key}


BAD_BODIES = [
    ("recipient_name", _without("recipient_name")),
    ("recipient_name", {**ADDRESS, "recipient_name": "   "}),
    ("address_line1", _without("address_line1")),
    ("city", _without("city")),
    ("state", _without("state")),
    ("postal_code", _without("postal_code")),
    ("state", {**ADDRESS, "state": "Colorado"}),
    ("state", {**ADDRESS, "state": "XX"}),
    ("postal_code", {**ADDRESS, "postal_code": "8086"}),
    ("postal_code", {**ADDRESS, "postal_code": "80863-12"}),
    ("postal_code", {**ADDRESS, "postal_code": "ABCDE"}),
    ("recipient_kind", {**ADDRESS, "recipient_kind": "neighbour"}),
    ("note", {**ADDRESS, "note": "x" * 2001}),
    ("recipient_name", {**ADDRESS, "recipient_name": "x" * 121}),
    ("address_line1", {**ADDRESS, "address_line1": 42}),
    ("handwritten_note", {**ADDRESS, "handwritten_note": "yes"}),
    ("tracking_number", {**ADDRESS, "tracking_number": "1" * 61}),
    ("city", {**ADDRESS, "city": "Woodland\nPark"}),
    ("recipient_name", {**ADDRESS, "recipient_name": "Chief\x00"}),
]


@pytest.mark.parametrize(("field", "body"), BAD_BODIES)
def test_bad_fields_are_422_naming_the_field_and_store_nothing(client, db, story, field, body):
    before = shipment_count(db)
    response = _post(client, story, body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert shipment_count(db) == before


def test_every_bad_field_is_named_at_once(client, story):
    response = _post(client, story, {"recipient_name": "", "state": "Q", "note": "x" * 3000})
    assert {"recipient_name", "address_line1", "city", "state", "postal_code", "note"} <= set(
        response.json["error"]["fields"]
    )


def test_note_of_exactly_2000_characters_is_fine(client, story):
    assert _post(client, story, {**ADDRESS, "note": "x" * 2000}).status_code == 201


def test_body_that_is_not_json_is_415(client, db, story):
    response = client.post(
        f"/api/v1/runs/{story.run_id}/shipments", data="recipient_name=x", headers=story.headers
    )
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_json_that_is_not_an_object_is_400(client, story):
    response = _post(client, story, ["not", "an", "object"])
    assert response.status_code == 400


def test_body_over_the_limit_is_413_and_stores_nothing(client, db, story):
    before = shipment_count(db)
    response = _post(client, story, {**ADDRESS, "note": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert shipment_count(db) == before


def test_script_is_stored_as_text_and_returned_as_json_text(client, db, story):
    script = "<script>alert(1)</script>"
    response = _post(client, story, {**ADDRESS, "recipient_name": script})
    assert response.status_code == 201
    got = client.get(f"/api/v1/shipments/{response.json['id']}", headers=story.headers)
    assert got.mimetype == "application/json"
    assert got.json["recipient_name"] == script


def test_a_second_runner_of_their_own_synced_run_can_ship(client, db):
    runner = make_runner()
    token = make_device_token(runner)
    run = make_synced_run(runner, mile_number=7)
    db.session.commit()
    response = client.post(f"/api/v1/runs/{run.id}/shipments", json=ADDRESS, headers=bearer(token))
    assert response.status_code == 201
    assert db.session.get(Shipment, response.json["id"]) is not None


def test_openapi_documents_the_shipment_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/runs/{run_id}/shipments"]
    assert paths["/api/v1/shipments/{shipment_id}"]["get"]["security"]
