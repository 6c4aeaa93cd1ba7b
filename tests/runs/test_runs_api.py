"""GET /api/v1/runs and /api/v1/runs/<id>: the runner's own runs, newest first."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Device, Hero, Run, Runner, Track, utcnow
from tests.factories import escort, make_phone, make_run, run_payload
from tests.helpers import sync

T0 = datetime(2025, 3, 1, 14, 0, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _synced(client, phone, start: int, laps: int = 7, **kw) -> str:
    run = run_payload(phone, laps=laps, started_at=_at(start), finished_at=_at(start + 12), **kw)
    assert sync(client, phone, run).json["results"][0]["status"] == "created"
    return run["id"]


def _planned(phone, scheduled_at: datetime) -> str:
    run = make_run(
        _db.session.get(Runner, phone.runner_id),
        hero=_db.session.get(Hero, phone.hero_id),
        track=_db.session.get(Track, phone.track_id),
        scheduled_at=scheduled_at,
    )
    _db.session.commit()
    return run.id


def test_runs_are_listed_newest_first_without_lap_details(client, db, phone):
    oldest = _synced(client, phone, start=0)
    newest = _synced(client, phone, start=600)
    middle = _synced(client, phone, start=300, laps=3)
    upcoming = _planned(phone, scheduled_at=T0 + timedelta(days=30))
    past_plan = _planned(phone, scheduled_at=T0 - timedelta(days=30))
    response = client.get("/api/v1/runs", headers=phone.headers)
    assert response.status_code == 200
    runs = response.json["runs"]
    assert [r["id"] for r in runs] == [upcoming, newest, middle, oldest, past_plan]
    by_id = {r["id"]: r for r in runs}
    assert by_id[newest]["mile_number"] == 2
    assert by_id[middle]["mile_number"] is None
    assert by_id[middle]["lap_count"] == 3
    assert by_id[upcoming]["status"] == "planned"
    assert all("laps" not in r and "checkins" not in r for r in runs)


def test_the_list_holds_only_the_runners_own_runs(client, db, phone):
    other = make_phone(db)
    mine = _synced(client, phone, start=0)
    _synced(client, other, start=10)
    _planned(other, scheduled_at=T0)
    assert [r["id"] for r in client.get("/api/v1/runs", headers=phone.headers).json["runs"]] == [
        mine
    ]


def test_a_runner_with_no_runs_gets_an_empty_list(client, db, phone):
    assert client.get("/api/v1/runs", headers=phone.headers).json == {"runs": []}


def test_a_run_comes_with_mile_number_laps_check_ins_and_check_in_url(client, db, phone):
    run_id = _synced(client, phone, start=0, checkins=[escort(public=False)])
    response = client.get(f"/api/v1/runs/{run_id}", headers=phone.headers)
    assert response.status_code == 200
    run = response.json
    assert run["id"] == run_id
    assert run["status"] == "synced"
    assert run["mile_number"] == 1
    assert run["complete"] is True
    assert run["laps"] == [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, 8)]
    assert [(c["name"], c["public"], c["source"]) for c in run["checkins"]] == [
        ("Sgt. Dana Reyes", False, "phone")
    ]
    token = _db.session.get(Run, run_id).checkin_token
    assert run["checkin_url"] == f"https://r4h.test/c/{token}"
    assert run["started_at"] == "2025-03-01T14:00:00Z"


def test_a_planned_run_can_be_fetched_by_its_id(client, db, phone):
    run_id = _planned(phone, scheduled_at=T0)
    _db.session.add(Checkin(run_id=run_id, name="Chief Lee"))
    _db.session.commit()
    run = client.get(f"/api/v1/runs/{run_id.upper()}", headers=phone.headers).json
    assert (run["id"], run["status"], run["mile_number"], run["laps"]) == (
        run_id,
        "planned",
        None,
        [],
    )
    assert [c["name"] for c in run["checkins"]] == ["Chief Lee"]


@pytest.mark.parametrize("whose", ["another runner's", "unknown", "not a uuid"])
def test_a_run_that_is_not_the_runners_is_a_json_404(client, db, phone, whose):
    other = make_phone(db)
    run_id = {
        "another runner's": _synced(client, other, start=0),
        "unknown": str(uuid.uuid4()),
        "not a uuid": "run-1",
    }[whose]
    response = client.get(f"/api/v1/runs/{run_id}", headers=phone.headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert "run" not in response.json


@pytest.mark.parametrize("path", ["/api/v1/runs", "/api/v1/runs/{run_id}", "/api/v1/sync"])
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("missing", "token_missing"),
        ("expired", "token_expired"),
        ("revoked", "token_revoked"),
        ("garbage", "token_invalid"),
    ],
)
def test_every_runs_endpoint_needs_a_good_token(client, db, phone, path, change, code):
    run_id = _synced(client, phone, start=0)
    device = _db.session.get(Device, phone.device_id)
    headers = phone.headers
    if change == "missing":
        headers = {}
    elif change == "garbage":
        headers = {"Authorization": "Bearer nope"}
    elif change == "expired":
        device.expires_at = utcnow() - timedelta(seconds=1)
    else:
        device.revoked_at = utcnow()
    _db.session.commit()
    url = path.format(run_id=run_id)
    if path.endswith("sync"):
        response = client.post(
            url, json={"device_id": phone.device_id, "runs": []}, headers=headers
        )
    else:
        response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert response.content_type == "application/json"
