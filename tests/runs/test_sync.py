"""POST /api/v1/sync: created, duplicate, conflict, planned runs and mile numbers."""

import sqlalchemy as sa

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Hero, Lap, Run, Runner
from tests.factories import escort, make_phone, make_run, run_payload
from tests.helpers import counts, sync


def _stored(run_id: str) -> Run:
    _db.session.expire_all()
    return _db.session.get(Run, run_id)


def _miles_logged(runner_id: int) -> int:
    _db.session.expire_all()
    return _db.session.get(Runner, runner_id).miles_logged


def test_a_finished_mile_is_created_with_the_next_mile_number(client, db, phone):
    run = run_payload(phone, checkins=[escort()])
    response = sync(client, phone, run)
    assert response.status_code == 200
    assert response.json == {
        "results": [{"id": run["id"], "status": "created", "mile_number": 1, "errors": {}}]
    }
    stored = _stored(run["id"])
    assert stored.status == "synced"
    assert stored.synced_at is not None
    assert stored.device_id == phone.device_id
    assert stored.mile_number == 1
    assert stored.words == "For Officer Hero."
    assert stored.started_at.isoformat() == "2025-03-01T14:00:00+00:00"
    assert [(lap.seq, lap.elapsed_ms) for lap in stored.laps] == [
        (n, n * 90_000) for n in range(1, 8)
    ]
    assert [(c.name, c.badge, c.role, c.public, c.source) for c in stored.checkins] == [
        ("Sgt. Dana Reyes", "1234", "escort", True, "phone")
    ]
    assert counts(db) == (1, 7, 1)
    assert _miles_logged(phone.runner_id) == 1


def test_a_repeat_is_a_duplicate_with_the_same_mile_number(client, db, phone):
    run = run_payload(phone, checkins=[escort(), escort(name="Runner Two", role="runner")])
    first = sync(client, phone, run).json["results"][0]
    second = sync(client, phone, run)
    assert first["status"] == "created"
    assert second.status_code == 200
    assert second.json["results"][0] == {**first, "status": "duplicate"}
    assert counts(db) == (1, 7, 2)
    assert _miles_logged(phone.runner_id) == 1


def test_a_repeat_with_check_ins_in_another_order_is_still_a_duplicate(client, db, phone):
    checkins = [escort(), escort(name="Runner Two", role="runner")]
    run = run_payload(phone, checkins=checkins)
    sync(client, phone, run)
    again = {**run, "checkins": list(reversed(checkins))}
    assert sync(client, phone, again).json["results"][0]["status"] == "duplicate"


def test_the_same_id_with_other_content_is_a_conflict_and_the_server_keeps_its_copy(
    client, db, phone
):
    run = run_payload(phone)
    sync(client, phone, run)
    changed = run_payload(phone, laps=8, id=run["id"], words="Edited")
    response = sync(client, phone, changed)
    assert response.status_code == 422
    result = response.json["results"][0]
    assert result["status"] == "conflict"
    assert result["mile_number"] == 1
    assert "id" in result["errors"]
    assert response.json["error"]["code"] == "invalid"
    assert response.json["error"]["fields"] == result["errors"]
    stored = _stored(run["id"])
    assert len(stored.laps) == 7
    assert stored.words == "For Officer Hero."
    assert counts(db) == (1, 7, 0)


def test_a_planned_run_keeps_its_id_and_its_first_sync_is_created(client, db, phone):
    planned = make_run(
        _db.session.get(Runner, phone.runner_id),
        hero=_db.session.get(Hero, phone.hero_id),
        words="Words the team wrote.",
    )
    qr_escort = Checkin(run=planned, name="Chief Lee", source="qr")
    _db.session.add(qr_escort)
    _db.session.commit()
    run = run_payload(phone, id=planned.id, words="", checkins=[escort()])
    response = sync(client, phone, run)
    assert response.json["results"][0] == {
        "id": planned.id,
        "status": "created",
        "mile_number": 1,
        "errors": {},
    }
    stored = _stored(planned.id)
    assert stored.status == "synced"
    assert stored.track_id == phone.track_id  # the track the mile was actually run on
    assert stored.words == "Words the team wrote."
    assert len(stored.laps) == 7
    assert sorted(c.name for c in stored.checkins) == ["Chief Lee", "Sgt. Dana Reyes"]
    assert counts(db) == (1, 7, 2)
    assert sync(client, phone, run).json["results"][0]["status"] == "duplicate"


def test_a_planned_run_pushed_for_another_hero_is_a_conflict(client, db, phone):
    planned = make_run(_db.session.get(Runner, phone.runner_id))
    _db.session.commit()
    response = sync(client, phone, run_payload(phone, id=planned.id))
    assert response.status_code == 422
    assert response.json["results"][0]["status"] == "conflict"
    assert "hero_id" in response.json["results"][0]["errors"]
    stored = _stored(planned.id)
    assert stored.status == "planned"
    assert stored.laps == []
    assert _miles_logged(phone.runner_id) == 0


def test_another_runners_run_id_is_a_conflict_and_is_left_alone(client, db, phone):
    other = make_phone(db)
    theirs = run_payload(other, words="Theirs")
    assert sync(client, other, theirs).json["results"][0]["mile_number"] == 1
    their_plan = make_run(_db.session.get(Runner, other.runner_id))
    _db.session.commit()

    for run_id in (theirs["id"], their_plan.id):
        response = sync(client, phone, run_payload(phone, id=run_id, words="Mine"))
        assert response.status_code == 422
        assert response.json["results"][0] == {
            "id": run_id,
            "status": "conflict",
            "mile_number": None,
            "errors": {"id": "This run id is already used by another run."},
        }
    assert _stored(theirs["id"]).words == "Theirs"
    assert _stored(their_plan.id).status == "planned"
    assert _miles_logged(phone.runner_id) == 0
    assert counts(db) == (2, 7, 0)


def test_a_short_run_is_stored_unnumbered_and_the_next_mile_takes_the_number(client, db, phone):
    short = run_payload(phone, laps=6)
    empty = run_payload(phone, laps=0)
    full = run_payload(phone, laps=7)
    longer = run_payload(phone, laps=9)
    results = sync(client, phone, short, empty, full, longer).json["results"]
    assert [(r["status"], r["mile_number"]) for r in results] == [
        ("created", None),
        ("created", None),
        ("created", 1),
        ("created", 2),
    ]
    stored = _stored(short["id"])
    assert stored.status == "synced"
    assert stored.mile_number is None
    assert not stored.is_complete
    assert sync(client, phone, short).json["results"][0] == {**results[0], "status": "duplicate"}


def test_mile_numbers_continue_from_the_starting_count(client, db):
    phone = make_phone(db, starting_mile_count=1293)
    results = sync(client, phone, run_payload(phone), run_payload(phone)).json["results"]
    assert [r["mile_number"] for r in results] == [1294, 1295]
    _db.session.expire_all()
    assert _db.session.get(Runner, phone.runner_id).total_miles == 1295


def test_mile_numbers_stay_gapless_around_rejected_runs_and_conflicts(client, db, phone):
    first = run_payload(phone)
    bad = run_payload(phone, laps=7)
    bad["laps"][6]["elapsed_ms"] = 1  # the last lap goes back in time
    sync(client, phone, first)
    conflict = run_payload(phone, id=first["id"], words="changed")
    unknown_hero = run_payload(phone, hero_id=999_999)
    last = run_payload(phone)
    results = sync(client, phone, bad, conflict, unknown_hero, last).json["results"]
    assert [r["status"] for r in results] == ["rejected", "conflict", "rejected", "created"]
    assert results[3]["mile_number"] == 2
    numbers = _db.session.scalars(
        sa.select(Run.mile_number).where(Run.runner_id == phone.runner_id).order_by(Run.mile_number)
    ).all()
    assert numbers == [1, 2]
    assert _miles_logged(phone.runner_id) == 2


def test_mile_numbers_are_per_runner(client, db, phone):
    other = make_phone(db, starting_mile_count=10)
    assert sync(client, phone, run_payload(phone)).json["results"][0]["mile_number"] == 1
    assert sync(client, other, run_payload(other)).json["results"][0]["mile_number"] == 11
    assert sync(client, phone, run_payload(phone)).json["results"][0]["mile_number"] == 2


def test_one_result_per_run_in_order_and_200_when_any_run_is_accepted(client, db, phone):
    good = run_payload(phone)
    bad = run_payload(phone, track_id=999_999)
    response = sync(client, phone, bad, good)
    assert response.status_code == 200
    assert "error" not in response.json
    assert [(r["id"], r["status"]) for r in response.json["results"]] == [
        (bad["id"], "rejected"),
        (good["id"], "created"),
    ]
    assert response.json["results"][0]["errors"] == {"track_id": "No track has this id."}
    assert _stored(bad["id"]) is None


def test_a_sync_with_no_runs_answers_200_with_no_results(client, db, phone):
    response = sync(client, phone)
    assert response.status_code == 200
    assert response.json == {"results": []}


def test_a_duplicate_among_rejections_answers_200(client, db, phone):
    run = run_payload(phone)
    sync(client, phone, run)
    response = sync(client, phone, run_payload(phone, hero_id=999_999), run)
    assert response.status_code == 200
    assert [r["status"] for r in response.json["results"]] == ["rejected", "duplicate"]


def test_a_check_in_id_already_used_by_another_run_rejects_the_run(client, db, phone):
    shared = escort()
    first = run_payload(phone, checkins=[shared])
    sync(client, phone, first)
    second = run_payload(phone, checkins=[escort(), {**shared, "name": "Someone else"}])
    response = sync(client, phone, second)
    assert response.status_code == 422
    assert response.json["results"][0] == {
        "id": second["id"],
        "status": "rejected",
        "mile_number": None,
        "errors": {"checkins[1].id": "This check-in id belongs to another run."},
    }
    assert _stored(second["id"]) is None
    assert counts(db) == (1, 7, 1)
    assert _db.session.get(Checkin, shared["id"]).name == "Sgt. Dana Reyes"
    assert _miles_logged(phone.runner_id) == 1


def test_the_same_check_in_in_two_runs_of_one_request_keeps_the_first(client, db, phone):
    shared = escort()
    results = sync(
        client,
        phone,
        run_payload(phone, checkins=[shared]),
        run_payload(phone, checkins=[shared]),
    ).json["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert counts(db) == (1, 7, 1)


def test_an_uppercase_uuid_is_answered_as_sent_and_stored_canonical(client, db, phone):
    run = run_payload(phone)
    upper = {**run, "id": run["id"].upper()}
    assert sync(client, phone, upper).json["results"][0]["id"] == upper["id"]
    assert sync(client, phone, run).json["results"][0]["status"] == "duplicate"
    assert _stored(run["id"]) is not None


def test_timestamps_with_offsets_are_stored_in_utc(client, db, phone):
    run = run_payload(
        phone, started_at="2025-03-01T09:00:00-05:00", finished_at="2025-03-01T09:12:30.250-05:00"
    )
    sync(client, phone, run)
    stored = _stored(run["id"])
    assert stored.started_at.isoformat() == "2025-03-01T14:00:00+00:00"
    assert stored.finished_at.isoformat() == "2025-03-01T14:12:30.250000+00:00"
    same_instant = {
        **run,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:12:30.25Z",
    }
    assert sync(client, phone, same_instant).json["results"][0]["status"] == "duplicate"


def test_a_planned_run_with_laps_entered_by_hand_takes_the_phones_laps(client, db, phone):
    planned = make_run(
        _db.session.get(Runner, phone.runner_id), hero=_db.session.get(Hero, phone.hero_id)
    )
    _db.session.add_all(Lap(run=planned, seq=n, elapsed_ms=n * 1000) for n in (1, 2, 3))
    _db.session.commit()
    run = run_payload(phone, id=planned.id, laps=8, words="The phone's words")
    assert sync(client, phone, run).json["results"][0]["mile_number"] == 1
    stored = _stored(planned.id)
    assert [(lap.seq, lap.elapsed_ms) for lap in stored.laps] == [
        (n, n * 90_000) for n in range(1, 9)
    ]
    assert stored.words == "The phone's words"


def test_a_check_in_keeps_the_time_the_phone_recorded(client, db, phone):
    recorded = escort(checked_in_at="2025-03-01T14:03:00.500Z")
    unrecorded = escort(name="Later escort")
    run = run_payload(phone, checkins=[recorded, unrecorded])
    sync(client, phone, run)
    assert _db.session.get(Checkin, recorded["id"]).checked_in_at.isoformat() == (
        "2025-03-01T14:03:00.500000+00:00"
    )
    assert _db.session.get(Checkin, unrecorded["id"]).checked_in_at.year >= 2025
    # The time is not content: a repeat without it is still a duplicate.
    del recorded["checked_in_at"]
    assert sync(client, phone, run).json["results"][0]["status"] == "duplicate"
