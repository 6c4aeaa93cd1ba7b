"""The database enforces the idempotency keys and invariants, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from r4h_pwa.models import Checkin, Lap, Run, Shipment
from tests.factories import make_hero, make_run, make_runner, make_track


def test_run_uuid_is_unique(db):
    runner = make_runner()
    run = make_run(runner)
    db.session.commit()
    values = {
        "id": run.id,
        "runner_id": runner.id,
        "hero_id": run.hero_id,
        "track_id": run.track_id,
        "checkin_token": "another-token",
    }
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.insert(Run).values(**values))


def test_lap_seq_is_unique_per_run(db):
    run = make_run(make_runner())
    db.session.add_all(
        [Lap(run=run, seq=1, elapsed_ms=90_000), Lap(run=run, seq=1, elapsed_ms=95_000)]
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()


def test_mile_number_is_unique_per_runner(db):
    runner = make_runner()
    make_run(runner, mile_number=5)
    with pytest.raises(sa.exc.IntegrityError):
        make_run(runner, mile_number=5)


def test_two_runners_may_share_a_mile_number(db):
    make_run(make_runner(), mile_number=5)
    make_run(make_runner(), mile_number=5)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Run)) == 2


def test_checkin_uuid_is_unique(db):
    run = make_run(make_runner())
    db.session.add(Checkin(id="00000000-0000-4000-8000-000000000001", run=run, name="A"))
    db.session.commit()
    db.session.add(Checkin(id="00000000-0000-4000-8000-000000000001", run=run, name="B"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()


def test_checkin_tokens_are_unique(db):
    first = make_run(make_runner())
    second = make_run(make_runner())
    db.session.commit()
    second.checkin_token = first.checkin_token
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()


def _shipment(run, **kw):
    return Shipment(
        run=run,
        recipient_name="Family",
        address_line1="1 Main St",
        city="Springfield",
        state="FL",
        postal_code="32708",
        **kw,
    )


def test_family_tokens_are_unique(db):
    run = make_run(make_runner())
    first = _shipment(run)
    db.session.add(first)
    db.session.commit()
    db.session.add(_shipment(run, family_token=first.family_token))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()


def test_tokens_are_long_and_distinct(db):
    runs = [make_run(make_runner()) for _ in range(20)]
    tokens = {r.checkin_token for r in runs}
    assert len(tokens) == 20
    assert all(len(t) == 32 for t in tokens)  # 24 random bytes, base64url


def test_hero_kind_is_constrained(db):
    with pytest.raises(sa.exc.IntegrityError):
        make_hero(kind="astronaut")


@pytest.mark.parametrize(
    ("kind", "flag"),
    [
        ("police", "Thin blue line"),
        ("k9", "Thin blue line"),
        ("fire", "Thin red line"),
        ("ems", "Thin white line"),
    ],
)
def test_flag_type_follows_kind(db, kind, flag):
    assert make_hero(kind=kind).flag_type == flag


def test_track_laps_per_mile_must_be_positive(db):
    with pytest.raises(sa.exc.IntegrityError):
        make_track(laps_per_mile=0)


def test_timestamps_read_back_in_utc(db):
    run = make_run(make_runner(), started_at=datetime(2024, 2, 13, 23, 0, tzinfo=UTC))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Run, run.id).started_at == datetime(2024, 2, 13, 23, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused(db):
    runner = make_runner()
    with pytest.raises(sa.exc.StatementError):
        make_run(runner, started_at=datetime(2024, 2, 13, 23, 0))


def test_default_timestamps_are_fresh_per_row(db):
    a = make_runner()
    b = make_runner()
    db.session.commit()
    assert a.created_at <= b.created_at
    assert a.created_at.tzinfo is not None


def test_a_synced_runs_completeness_survives_a_track_edit(db):
    track = make_track(laps_per_mile=7)
    runner = make_runner()
    short = make_run(runner, track=track, status="synced")
    db.session.add_all([Lap(run=short, seq=n, elapsed_ms=n * 90_000) for n in range(1, 5)])
    full = make_run(runner, track=track, status="synced", mile_number=1)
    db.session.add_all([Lap(run=full, seq=n, elapsed_ms=n * 90_000) for n in range(1, 8)])
    db.session.flush()
    track.laps_per_mile = 4
    assert short.is_complete is False
    assert full.is_complete is True
    planned = make_run(runner, track=track)
    assert planned.is_complete is False
