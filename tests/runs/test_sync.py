"""POST /api/v1/sync: created, duplicate, conflict, and mile numbers."""

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Run
from tests.runs.conftest import counts, escort, run_payload, sync


def test_a_finished_mile_is_created_with_the_next_mile_number(client, db, phone):
    run = run_payload(phone, checkins=[escort()])
    response = sync(client, phone, run)
    assert response.status_code == 200
    assert response.json == {
        "results": [{"id": run["id"], "status": "created", "mile_number": 1, "errors": {}}]
    }
    stored = _db.session.get(Run, run["id"])
    assert stored.status == "synced"
    assert stored.synced_at is not None
    assert stored.device_id == phone.device_id
    assert [(lap.seq, lap.elapsed_ms) for lap in stored.laps] == [
        (n, n * 90_000) for n in range(1, 8)
    ]
    assert [(c.name, c.source) for c in stored.checkins] == [("Sgt. Dana Reyes", "phone")]
    assert counts(db) == (1, 7, 1)


def test_a_repeat_is_a_duplicate_with_the_same_mile_number(client, db, phone):
    run = run_payload(phone)
    first = sync(client, phone, run).json["results"][0]
    second = sync(client, phone, run).json["results"][0]
    assert first["status"] == "created"
    assert second == {**first, "status": "duplicate"}
    assert counts(db) == (1, 7, 0)
