"""What a sync may not do: change an officer's check-in, date a run in the future, or count
laps the run's own clock cannot hold (issue 12, points 1, 4 and 5)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from r4h_pwa.checkin import service as checkin_service
from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Hero, Run, Runner, Track, utcnow
from tests.factories import escort, make_phone, make_run, make_shipment, run_payload
from tests.helpers import counts, sync

QUIET = {"name": "Ofc. Quiet Person", "agency": "Seminole County Sheriff", "badge": "999"}


def _stored(run_id: str) -> Run:
    _db.session.expire_all()
    return _db.session.get(Run, run_id)


def _miles_logged(runner_id: int) -> int:
    _db.session.expire_all()
    return _db.session.get(Runner, runner_id).miles_logged


def _planned(phone) -> Run:
    run = make_run(
        _db.session.get(Runner, phone.runner_id),
        hero=_db.session.get(Hero, phone.hero_id),
        track=_db.session.get(Track, phone.track_id),
    )
    _db.session.commit()
    return run


def _laps(*elapsed_ms: int) -> list[dict]:
    return [{"seq": n, "elapsed_ms": ms} for n, ms in enumerate(elapsed_ms, start=1)]


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


# ---- point 1: a check-in belongs to whoever made it -----------------------------------------


def test_a_sync_cannot_change_an_officers_own_checkin(app, client, db, phone):
    run = _planned(phone)
    family_token = make_shipment(run).family_token
    db.session.commit()
    officer = app.test_client()
    assert officer.post(f"/c/{run.checkin_token}", data=QUIET).status_code == 200
    [seen] = client.get(f"/api/v1/runs/{run.id}/checkins", headers=phone.headers).json["checkins"]
    assert (seen["public"], seen["source"]) == (False, "qr")

    forged = {
        "id": seen["id"],
        "name": "Renamed Officer",
        "agency": "Other Agency",
        "badge": "1",
        "role": "runner",
        "public": True,
    }
    payload = run_payload(phone, id=run.id, checkins=[forged, escort()])
    [result] = sync(client, phone, payload).json["results"]

    assert result["status"] == "created"
    assert result["mile_number"] == 1
    assert list(result["errors"]) == ["checkins[0]"]
    assert "belongs to the officer" in result["errors"]["checkins[0]"]
    db.session.expire_all()
    stored = db.session.get(Checkin, seen["id"])
    assert (
        stored.name,
        stored.agency,
        stored.badge,
        stored.role,
        stored.public,
        stored.source,
    ) == ("Ofc. Quiet Person", "Seminole County Sheriff", "999", "escort", False, "qr")
    # The rest of the run is stored: its laps, its mile number and the phone's own escort.
    assert counts(db) == (1, 7, 2)
    assert _stored(run.id).status == "synced"
    family = client.get(f"/f/{family_token}").get_data(as_text=True)
    assert "Quiet Person" not in family and "Renamed Officer" not in family
    assert "Sgt. Dana Reyes" in family

    again = sync(client, phone, payload).json["results"][0]
    assert (again["status"], again["mile_number"]) == ("duplicate", 1)
    assert _miles_logged(phone.runner_id) == 1


def test_a_phone_cannot_change_a_checkin_another_phone_added(client, db, phone):
    run = _planned(phone)
    other = make_phone(db)
    added = Checkin(run_id=run.id, name="Deputy Lee", source="phone", device_id=other.device_id)
    db.session.add(added)
    db.session.commit()
    payload = run_payload(
        phone, id=run.id, checkins=[escort(id=added.id, name="Mallory", public=True)]
    )
    [result] = sync(client, phone, payload).json["results"]
    assert result["status"] == "created"
    assert list(result["errors"]) == ["checkins[0]"]
    db.session.expire_all()
    stored = db.session.get(Checkin, added.id)
    assert (stored.name, stored.public, stored.device_id) == ("Deputy Lee", False, other.device_id)


def test_a_phone_records_itself_as_the_maker_of_its_checkins(client, db, phone):
    added = escort()
    assert (
        sync(client, phone, run_payload(phone, checkins=[added])).json["results"][0]["errors"] == {}
    )
    db.session.expire_all()
    stored = db.session.get(Checkin, added["id"])
    assert (stored.source, stored.device_id) == ("phone", phone.device_id)


# ---- point 4: nothing dated from the future --------------------------------------------------


@pytest.mark.parametrize("field", ["started_at", "finished_at"])
def test_a_run_dated_more_than_a_day_ahead_is_refused(client, db, phone, field):
    payload = run_payload(
        phone, started_at="2099-06-01T14:00:00Z", finished_at="2099-06-01T14:12:00Z"
    )
    if field == "finished_at":
        start = utcnow() - timedelta(minutes=12)
        payload.update(started_at=_iso(start), finished_at="2099-06-01T14:12:00Z")
    [result] = sync(client, phone, payload).json["results"]
    assert result["status"] == "rejected"
    assert result["mile_number"] is None
    assert "24 hours" in result["errors"][field]
    assert counts(db) == (0, 0, 0)
    assert _miles_logged(phone.runner_id) == 0


def test_a_phone_clock_a_few_hours_fast_is_still_accepted(client, db, phone):
    start = utcnow() + timedelta(hours=3)
    payload = run_payload(
        phone, started_at=_iso(start), finished_at=_iso(start + timedelta(minutes=12))
    )
    assert sync(client, phone, payload).json["results"][0]["status"] == "created"


def test_the_checkin_link_closes_24_hours_after_the_server_got_the_run(client, db, phone):
    run = _planned(phone)
    start = utcnow() + timedelta(hours=20)  # a phone clock 20 hours fast
    payload = run_payload(
        phone, id=run.id, started_at=_iso(start), finished_at=_iso(start + timedelta(minutes=12))
    )
    assert sync(client, phone, payload).json["results"][0]["status"] == "created"
    stored = _stored(run.id)
    assert checkin_service.closes_at(stored) <= stored.synced_at + timedelta(hours=24)
    later = utcnow() + timedelta(hours=24, minutes=5)
    assert checkin_service.token_state(stored, now=later) == checkin_service.CLOSED


# ---- point 5: laps must fit the run -----------------------------------------------------------


def test_laps_longer_than_the_run_are_refused(client, db, phone):
    hours = 3 * 60 * 60 * 1000
    payload = run_payload(
        phone, started_at="2025-03-01T14:00:00Z", finished_at="2025-03-01T14:01:00Z"
    )
    payload["laps"] = _laps(*(n * hours for n in range(1, 8)))
    [result] = sync(client, phone, payload).json["results"]
    assert result["status"] == "rejected"
    assert "run's own time" in result["errors"]["laps[6].elapsed_ms"]
    assert counts(db) == (0, 0, 0)
    assert _miles_logged(phone.runner_id) == 0


def test_a_last_lap_a_few_seconds_past_the_finish_is_within_tolerance(client, db, phone):
    # 14:00 to 14:10:30 is 630 s; the phone's monotonic clock says 634 s.
    payload = run_payload(phone, finished_at="2025-03-01T14:10:30Z")
    payload["laps"] = _laps(*(n * 90_000 + (4_000 if n == 7 else 0) for n in range(1, 8)))
    assert sync(client, phone, payload).json["results"][0]["status"] == "created"


def test_a_mile_with_a_lap_under_the_minimum_is_stored_unnumbered_and_flagged(client, db, phone):
    payload = run_payload(phone)
    payload["laps"] = _laps(*range(1, 8))
    [result] = sync(client, phone, payload).json["results"]
    assert result["status"] == "created"
    assert result["mile_number"] is None
    assert "shortest lap" in result["errors"]["laps"]
    stored = _stored(payload["id"])
    assert stored.mile_number is None
    assert stored.status == "synced"
    assert "Lap 1" in stored.review_reason
    assert len(stored.laps) == 7
    assert _miles_logged(phone.runner_id) == 0
    again = sync(client, phone, payload).json["results"][0]
    assert (again["status"], again["mile_number"]) == ("duplicate", None)


def test_an_honest_mile_is_not_flagged(client, db, phone):
    payload = run_payload(phone)
    [result] = sync(client, phone, payload).json["results"]
    assert (result["status"], result["mile_number"], result["errors"]) == ("created", 1, {})
    assert _stored(payload["id"]).review_reason is None


def test_an_admin_confirms_a_flagged_mile_and_it_gets_the_next_number(
    admin_client, client, db, phone
):
    first = run_payload(phone)
    sync(client, phone, first)
    flagged = run_payload(phone)
    flagged["laps"] = _laps(*(n * 1000 for n in range(1, 8)))
    sync(client, phone, flagged)
    page = admin_client.get(f"/admin/runs/{flagged['id']}").get_data(as_text=True)
    assert 'data-testid="review-reason"' in page
    assert 'data-testid="confirm-mile"' in page

    response = admin_client.post(f"/admin/runs/{flagged['id']}/confirm-mile")
    assert response.status_code == 303
    stored = _stored(flagged["id"])
    assert (stored.mile_number, stored.review_reason) == (2, None)
    assert _miles_logged(phone.runner_id) == 2
    # A second confirmation (a double click) numbers nothing again.
    admin_client.post(f"/admin/runs/{flagged['id']}/confirm-mile")
    assert _stored(flagged["id"]).mile_number == 2
    assert _miles_logged(phone.runner_id) == 2
    page = admin_client.get(f"/admin/runs/{flagged['id']}").get_data(as_text=True)
    assert 'data-testid="confirm-mile"' not in page


def test_confirming_a_run_that_is_not_flagged_numbers_nothing(admin_client, client, db, phone):
    short = run_payload(phone, laps=3)
    sync(client, phone, short)
    admin_client.post(f"/admin/runs/{short['id']}/confirm-mile")
    assert _stored(short["id"]).mile_number is None
    assert _miles_logged(phone.runner_id) == 0
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Run))
    assert count == 1
