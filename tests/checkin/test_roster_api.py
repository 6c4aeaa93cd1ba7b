"""GET /api/v1/runs/<id>/checkins: the runner's phone polls its run's roster."""

import pytest

from r4h_pwa.models import Checkin
from tests.factories import bearer, make_device_token, make_run, make_runner


@pytest.fixture
def phone(db, run):
    """The bearer headers of the run's runner's phone."""
    headers = bearer(make_device_token(run.runner))
    db.session.commit()
    return headers


def _url(run) -> str:
    return f"/api/v1/runs/{run.id}/checkins"


def test_roster_needs_a_token(client, run):
    response = client.get(_url(run))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_missing"


def test_roster_refuses_a_bad_token(client, run):
    response = client.get(_url(run), headers=bearer("not-a-real-token"))
    assert response.status_code == 401
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_roster_of_another_runners_run_is_404(client, db, run, phone):
    other = make_run(make_runner())
    db.session.add(Checkin(run=other, name="Not yours"))
    db.session.commit()
    response = client.get(_url(other), headers=phone)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert "Not yours" not in response.get_data(as_text=True)


def test_roster_of_an_unknown_run_is_404(client, phone):
    response = client.get(
        "/api/v1/runs/00000000-0000-4000-8000-000000000009/checkins", headers=phone
    )
    assert response.status_code == 404


def test_roster_merges_qr_and_phone_checkins(client, db, run, phone):
    client.post(f"/c/{run.checkin_token}", data={"name": "Sgt. Lopez", "public": "y"})
    db.session.add(
        Checkin(
            id="6f1c1c9e-1d7a-4a51-9a55-3b1a4a4f0c01",
            run=run,
            name="Ofc. Added On Phone",
            source="phone",
        )
    )
    db.session.commit()
    response = client.get(_url(run), headers=phone)
    assert response.status_code == 200
    roster = response.get_json()["checkins"]
    assert [c["name"] for c in roster] == ["Sgt. Lopez", "Ofc. Added On Phone"]
    assert [c["source"] for c in roster] == ["qr", "phone"]
    assert roster[0]["public"] is True and roster[1]["public"] is False
    assert set(roster[0]) == {
        "id",
        "name",
        "agency",
        "badge",
        "role",
        "public",
        "source",
        "checked_in_at",
    }
    assert len({c["id"] for c in roster}) == 2


def test_roster_is_empty_before_anyone_checks_in(client, run, phone):
    assert client.get(_url(run), headers=phone).get_json() == {"checkins": []}


def test_roster_answers_304_while_unchanged(client, db, run, phone):
    first = client.get(_url(run), headers=phone)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-store"  # escorts' names: never kept
    again = client.get(_url(run), headers={**phone, "If-None-Match": etag})
    assert again.status_code == 304
    client.post(f"/c/{run.checkin_token}", data={"name": "Deputy New"})
    changed = client.get(_url(run), headers={**phone, "If-None-Match": etag})
    assert changed.status_code == 200
    assert [c["name"] for c in changed.get_json()["checkins"]] == ["Deputy New"]


def test_roster_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/runs/{run_id}/checkins"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert {"200", "304", "401", "404"} <= set(operation["responses"])
    assert "CheckinRoster" in document["components"]["schemas"]
