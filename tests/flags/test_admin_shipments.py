"""Admin shipment pages: list, create, edit, advance, revoke, reissue and batch printing."""

import base64
import json

import pytest

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Shipment
from tests.factories import ADDRESS, build_story, make_synced_run
from tests.helpers import (
    csrf_token,
    decode_qr,
    page_sizes,
    pass_second_factor,
    reload,
    shipment_count,
    sign_in,
)


@pytest.fixture
def admin(client, story):
    """The test client, signed in as the story's admin."""
    sign_in(client, story.admin_email)
    return client


def _form(run_id=None, **overrides) -> dict:
    data = {**ADDRESS, "handwritten_note": "y", "carrier": "", "tracking_number": ""}
    if run_id:
        data["run_id"] = run_id
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


ADMIN_GETS = [
    "/admin/shipments",
    "/admin/shipments/new",
    "/admin/shipments/{id}",
    "/admin/shipments/{id}/edit",
]
ADMIN_POSTS = [
    "/admin/shipments/new",
    "/admin/shipments/{id}/edit",
    "/admin/shipments/{id}/advance",
    "/admin/shipments/{id}/revoke",
    "/admin/shipments/{id}/reissue",
    "/admin/shipments/print",
]


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_anonymous_is_sent_to_login(client, story, path):
    response = client.get(path.format(id=story.shipment_id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("method", "path"), [("get", p) for p in ADMIN_GETS] + [("post", p) for p in ADMIN_POSTS]
)
def test_a_runner_is_refused(client, db, story, method, path):
    sign_in(client, story.runner_email)
    url = path.format(id=story.shipment_id)
    if method == "post":
        data = {**_form(story.run_id), "ids": [story.shipment_id], "format": "label"}
        response = client.post(url, data=data)
    else:
        response = client.get(url)
    assert response.status_code == 403
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "draft" and shipment.family_token == story.family_token
    assert shipment.family_token_revoked_at is None and shipment.city == "Woodland Park"
    assert shipment_count(db) == 1


def test_list_shows_each_shipment_with_its_status(admin, story):
    html = admin.get("/admin/shipments").get_data(as_text=True)
    assert html.count('data-testid="shipment-row"') == 1
    assert "Chief Chris Deisler" in html and "Draft" in html
    assert f'value="{story.shipment_id}"' in html  # a checkbox to select it for printing


def test_list_filters_by_status(admin, story):
    assert 'data-testid="shipment-row"' not in admin.get(
        "/admin/shipments?status=shipped"
    ).get_data(as_text=True)
    assert 'data-testid="shipment-row"' in admin.get("/admin/shipments?status=draft").get_data(
        as_text=True
    )


def test_new_form_offers_synced_runs_only(admin, db, story):
    runner = reload(db, story.shipment_id).run.runner
    planned = make_synced_run(runner, mile_number=None, status="planned")
    db.session.commit()
    html = admin.get("/admin/shipments/new").get_data(as_text=True)
    assert f'value="{story.run_id}"' in html
    assert f'value="{planned.id}"' not in html
    assert 'name="csrf_token"' in html


def test_create_from_the_form(admin, db, story):
    before = shipment_count(db)
    response = admin.post("/admin/shipments/new", data=_form(story.run_id, postal_code="80863 "))
    assert response.status_code == 303
    assert shipment_count(db) == before + 1
    new_id = response.headers["Location"].rsplit("/", 1)[-1]
    shipment = reload(db, new_id)
    assert shipment.run_id == story.run_id and shipment.status == "draft"
    assert shipment.postal_code == "80863" and shipment.handwritten_note is True
    assert shipment.recipient_kind == "intermediary"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recipient_name": ""}, "This field is required."),
        ({"address_line1": "  "}, "This field is required."),
        ({"city": None}, "This field is required."),
        ({"state": ""}, "This field is required."),
        ({"postal_code": "1234"}, "ZIP code"),
        ({"note": "n" * 2001}, "At most 2000 characters."),
        ({"recipient_kind": "cousin"}, "Must be one of"),
        ({"run_id": ""}, "Choose a run."),
        ({"run_id": "00000000-0000-4000-8000-000000000000"}, "Choose a run."),
    ],
)
def test_bad_form_input_is_refused_and_nothing_is_stored(admin, db, story, overrides, message):
    before = shipment_count(db)
    response = admin.post(
        "/admin/shipments/new", data=_form(**{"run_id": story.run_id, **overrides})
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert 'data-testid="error-summary"' in response.get_data(as_text=True)
    assert shipment_count(db) == before


def test_form_refuses_a_run_that_has_not_synced(admin, db, story):
    runner = reload(db, story.shipment_id).run.runner
    finished = make_synced_run(runner, mile_number=None, status="planned")
    db.session.commit()
    before = shipment_count(db)
    response = admin.post("/admin/shipments/new", data=_form(finished.id))
    assert response.status_code == 422
    assert "has not synced yet" in response.get_data(as_text=True)
    assert shipment_count(db) == before


def test_script_in_a_refused_form_comes_back_escaped(admin, db, story):
    script = "<script>alert(1)</script>"
    response = admin.post(
        "/admin/shipments/new", data=_form(story.run_id, recipient_name=script, city="")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert script not in html


@pytest.mark.parametrize(
    "field", ["recipient_name", "address_line1", "address_line2", "city", "note"]
)
def test_script_in_any_stored_field_is_shown_escaped(admin, db, story, field):
    script = "<script>alert(1)</script>"
    response = admin.post("/admin/shipments/new", data=_form(story.run_id, **{field: script}))
    assert response.status_code == 303
    for path in (response.headers["Location"], "/admin/shipments"):
        html = admin.get(path).get_data(as_text=True)
        assert script not in html
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_edit_saves_changes(admin, db, story):
    response = admin.post(
        f"/admin/shipments/{story.shipment_id}/edit",
        data=_form(city="Fountain", carrier="ups", tracking_number="1z 999 aa1 0123456784"),
    )
    assert response.status_code == 303
    shipment = reload(db, story.shipment_id)
    assert (shipment.city, shipment.carrier, shipment.tracking_number) == (
        "Fountain",
        "UPS",
        "1Z999AA10123456784",
    )
    assert shipment.status == "shipped" and shipment.shipped_at is not None


def test_edit_with_bad_input_changes_nothing(admin, db, story):
    response = admin.post(
        f"/admin/shipments/{story.shipment_id}/edit", data=_form(city="Fountain", state="ZZ")
    )
    assert response.status_code == 422
    assert reload(db, story.shipment_id).city == "Woodland Park"


def test_advance_walks_every_status_and_stamps_each_time(admin, db, story):
    expected = ["label_printed", "shipped", "delivered", "received"]
    for status in expected:
        response = admin.post(
            f"/admin/shipments/{story.shipment_id}/advance", data={"expected": status}
        )
        assert response.status_code == 303
        shipment = reload(db, story.shipment_id)
        assert shipment.status == status
        assert getattr(shipment, f"{status}_at") is not None
    html = admin.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert 'data-testid="advance"' not in html  # nothing after received


def test_advance_after_received_changes_nothing(admin, db, story):
    admin.post(f"/f/{story.family_token}/ack", data={"message": ""})
    received_at = reload(db, story.shipment_id).received_at
    admin.post(f"/admin/shipments/{story.shipment_id}/advance", data={"expected": ""})
    shipment = reload(db, story.shipment_id)
    assert shipment.status == "received" and shipment.received_at == received_at


def test_a_double_click_advances_only_once(admin, db, story):
    for _ in range(2):
        admin.post(
            f"/admin/shipments/{story.shipment_id}/advance", data={"expected": "label_printed"}
        )
    assert reload(db, story.shipment_id).status == "label_printed"


def test_revoke_then_reissue_the_family_link(admin, db, client, story):
    admin.post(f"/admin/shipments/{story.shipment_id}/revoke", data={"confirmed": "yes"})
    assert reload(db, story.shipment_id).family_token_revoked_at is not None
    assert admin.get(story.family_path).status_code == 404
    html = admin.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert 'data-testid="link-off"' in html

    admin.post(f"/admin/shipments/{story.shipment_id}/reissue", data={"confirmed": "yes"})
    shipment = reload(db, story.shipment_id)
    assert shipment.family_token != story.family_token
    assert shipment.family_token_revoked_at is None
    assert admin.get(story.family_path).status_code == 404
    assert admin.get(f"/f/{shipment.family_token}").status_code == 200


def test_admin_page_shows_the_family_message(admin, story):
    admin.post(f"/f/{story.family_token}/ack", data={"message": "Thank you from his wife."})
    html = admin.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert "Thank you from his wife." in html


def _second_shipment(admin, story) -> str:
    response = admin.post(
        "/admin/shipments/new", data=_form(story.run_id, recipient_name="The Becerra family")
    )
    return response.headers["Location"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("fmt", "size", "pages"),
    [("label", (288.0, 432.0), 2), ("card", (288.0, 432.0), 2), ("letter", (612.0, 792.0), 1)],
)
def test_batch_print_gives_one_pdf_of_the_selection(admin, db, story, fmt, size, pages):
    second = _second_shipment(admin, story)
    response = admin.post(
        "/admin/shipments/print", data={"ids": [story.shipment_id, second], "format": fmt}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert page_sizes(response.data) == [size] * pages
    statuses = {reload(db, i).status for i in (story.shipment_id, second)}
    assert statuses == ({"draft"} if fmt == "card" else {"label_printed"})


def test_batch_print_streams_progress_then_the_pdf(admin, db, story):
    second = _second_shipment(admin, story)
    response = admin.post(
        "/admin/shipments/print",
        data={"ids": [story.shipment_id, second], "format": "label"},
        headers={"Accept": "application/x-ndjson"},
    )
    assert response.mimetype == "application/x-ndjson"
    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [(e["done"], e["total"]) for e in events] == [(0, 2), (1, 2), (2, 2), (2, 2)]
    pdf = base64.b64decode(events[-1]["pdf"])
    tokens = {reload(db, i).family_token for i in (story.shipment_id, second)}
    assert {decode_qr(pdf, 0)[0], decode_qr(pdf, 1)[0]} == {
        f"https://r4h.test/f/{t}" for t in tokens
    }
    assert reload(db, second).status == "label_printed"
    assert events[-1]["made"] == {"format": "label", "items": 2, "pages": 2}
    printed = {"status": "label_printed", "label": "Label printed"}
    assert events[-1]["statuses"] == {i: printed for i in (story.shipment_id, second)}


def test_batch_print_with_nothing_selected_says_so(admin, story):
    response = admin.post("/admin/shipments/print", data={"format": "label"})
    assert response.status_code == 303
    assert "Select at least one" in admin.get(response.headers["Location"]).get_data(as_text=True)
    streamed = admin.post(
        "/admin/shipments/print",
        data={"format": "label"},
        headers={"Accept": "application/x-ndjson"},
    )
    assert streamed.status_code == 422 and streamed.json["error"]["code"] == "invalid"


def test_batch_print_refuses_an_unknown_format(admin, story):
    response = admin.post(
        "/admin/shipments/print", data={"ids": [story.shipment_id], "format": "poster"}
    )
    assert response.status_code == 400


@pytest.fixture
def csrf_app(app_config, request):
    """The app with CSRF on, as in production."""
    app_config["WTF_CSRF_ENABLED"] = True
    return request.getfixturevalue("app")


def test_admin_forms_need_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        story = build_story()
    client = csrf_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    pass_second_factor(
        client,
        client.post(
            "/login",
            data={
                "email": story.admin_email,
                "password": "correct horse battery",
                "csrf_token": csrf_token(login),
            },
        ),
    )
    url = f"/admin/shipments/{story.shipment_id}/advance"
    assert client.post(url, data={"expected": "label_printed"}).status_code == 400
    with csrf_app.app_context():
        assert _db.session.get(Shipment, story.shipment_id).status == "draft"
    page = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    response = client.post(url, data={"expected": "label_printed", "csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert client.post("/admin/shipments/new", data=_form(story.run_id)).status_code == 400


def test_a_form_with_no_run_and_no_address_names_every_problem(admin, db, story):
    response = admin.post("/admin/shipments/new", data={"recipient_kind": "family"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for label in (
        "Run: Choose a run.",
        "Recipient&#39;s name: This field is required.",
        "Address: This field is required.",
        "City: This field is required.",
    ):
        assert label in html
    assert shipment_count(db) == 1
