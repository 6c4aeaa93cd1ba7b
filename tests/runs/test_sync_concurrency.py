"""Concurrent pushes on PostgreSQL: one run per id, gapless per-runner mile numbers.

Each thread has its own test client, so each request runs in its own app context, session
and database connection, as under gunicorn with several workers.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Hero, Run, Runner
from tests.factories import escort, make_phone, make_run, run_payload
from tests.helpers import counts

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_config(app_config):
    """Enough pooled connections for every thread at once."""
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 20, "max_overflow": 25}
    return app_config


@pytest.fixture
def concurrent(database_url, app):
    """Run callables at the same moment, each on its own thread with its own test client."""
    if database_url.startswith("sqlite"):
        pytest.skip("row locks and concurrent writers need PostgreSQL")

    def run_all(pushes: list) -> list:
        barrier = threading.Barrier(len(pushes))

        def one(push):
            client = app.test_client()
            barrier.wait(timeout=30)
            return push(client)

        with ThreadPoolExecutor(max_workers=len(pushes)) as pool:
            return [f.result(timeout=60) for f in [pool.submit(one, p) for p in pushes]]

    return run_all


def _push(phone, *runs, statuses=(200,)):
    def push(client):
        body = {"device_id": phone.device_id, "runs": list(runs)}
        response = client.post("/api/v1/sync", json=body, headers=phone.headers)
        assert response.status_code in statuses, response.json
        return response.json["results"]

    return push


def _mile_numbers(runner_id: int) -> list[int]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            sa.select(Run.mile_number)
            .where(Run.runner_id == runner_id, Run.mile_number.is_not(None))
            .order_by(Run.mile_number)
        )
    )


@pytest.mark.postgres_only
def test_20_concurrent_pushes_of_one_run_store_it_once(concurrent, db, phone):
    run = run_payload(phone, checkins=[escort(), escort(name="Second escort")])
    replies = concurrent([_push(phone, run) for _ in range(20)])
    results = [reply[0] for reply in replies]
    assert Counter(r["status"] for r in results) == {"created": 1, "duplicate": 19}
    assert {r["mile_number"] for r in results} == {1}
    assert counts(db) == (1, 7, 2)
    assert _mile_numbers(phone.runner_id) == [1]
    assert _db.session.get(Runner, phone.runner_id).miles_logged == 1


@pytest.mark.postgres_only
def test_20_concurrent_pushes_of_one_planned_run_fill_it_once(concurrent, db, phone):
    planned = make_run(
        _db.session.get(Runner, phone.runner_id), hero=_db.session.get(Hero, phone.hero_id)
    )
    _db.session.commit()
    run = run_payload(phone, id=planned.id, checkins=[escort()])
    replies = concurrent([_push(phone, run) for _ in range(20)])
    results = [reply[0] for reply in replies]
    assert Counter(r["status"] for r in results) == {"created": 1, "duplicate": 19}
    assert {r["mile_number"] for r in results} == {1}
    assert counts(db) == (1, 7, 1)
    assert _db.session.get(Runner, phone.runner_id).miles_logged == 1


@pytest.mark.postgres_only
def test_concurrent_pushes_of_one_id_with_two_contents_keep_one(concurrent, db, phone):
    first = run_payload(phone, words="First")
    second = {**first, "words": "Second"}
    pushes = [_push(phone, first if n % 2 else second, statuses=(200, 422)) for n in range(20)]
    replies = concurrent(pushes)
    stored = _db.session.get(Run, first["id"])
    winner = first if stored.words == "First" else second
    for n, reply in enumerate(replies):
        sent = first if n % 2 else second
        expected = {"created", "duplicate"} if sent is winner else {"conflict"}
        assert reply[0]["status"] in expected
    assert sum(reply[0]["status"] == "created" for reply in replies) == 1
    assert counts(db) == (1, 7, 0)
    assert _mile_numbers(phone.runner_id) == [1]


@pytest.mark.postgres_only
def test_40_runs_from_4_runners_pushed_concurrently_get_gapless_numbers(concurrent, db):
    starts = [0, 1293, 7, 100]
    phones = [make_phone(db, starting_mile_count=start) for start in starts]
    runs = {phone.runner_id: [run_payload(phone) for _ in range(10)] for phone in phones}
    pushes = [_push(phone, run) for phone in phones for run in runs[phone.runner_id]]
    replies = concurrent(pushes)
    assert all(reply[0]["status"] == "created" for reply in replies)
    for phone, start in zip(phones, starts, strict=True):
        expected = list(range(start + 1, start + 11))
        assert _mile_numbers(phone.runner_id) == expected
        numbers = sorted(
            reply[0]["mile_number"]
            for reply in replies
            if reply[0]["id"] in {run["id"] for run in runs[phone.runner_id]}
        )
        assert numbers == expected
        assert _db.session.get(Runner, phone.runner_id).total_miles == start + 10
    assert counts(db) == (40, 280, 0)


@pytest.mark.postgres_only
def test_concurrent_batches_with_repeats_and_short_runs_stay_gapless(concurrent, db):
    phones = [make_phone(db, starting_mile_count=start) for start in (0, 50)]
    pushes = []
    for phone in phones:
        full = [run_payload(phone) for _ in range(12)]
        short = [run_payload(phone, laps=3) for _ in range(4)]
        batches = [full[0:4] + short[0:2], full[4:8] + short[2:4], full[8:12]]
        # Every batch is pushed twice at once, as a phone retrying after a timeout would.
        pushes += [_push(phone, *batch) for batch in batches for _ in range(2)]
    replies = concurrent(pushes)
    statuses = Counter(result["status"] for reply in replies for result in reply)
    assert statuses == {"created": 32, "duplicate": 32}
    for phone, start in zip(phones, (0, 50), strict=True):
        assert _mile_numbers(phone.runner_id) == list(range(start + 1, start + 13))
    assert counts(db) == (32, 2 * (12 * 7 + 4 * 3), 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("laps", "mile_number"), [(7, 1), (0, None)])
def test_concurrent_pushes_of_one_planned_run_on_sqlite_fill_it_once(
    app, db, phone, laps, mile_number
):
    # SQLite ignores FOR UPDATE: the conditional claim of the planned run holds it here
    # (with no laps, no unique lap key is there to catch the second writer).
    planned = make_run(
        _db.session.get(Runner, phone.runner_id), hero=_db.session.get(Hero, phone.hero_id)
    )
    _db.session.commit()
    run = run_payload(phone, id=planned.id, laps=laps)
    barrier = threading.Barrier(8)

    def one(_):
        client = app.test_client()
        barrier.wait(timeout=30)
        return _push(phone, run)(client)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8), timeout=60))
    assert Counter(r["status"] for r in results) == {"created": 1, "duplicate": 7}
    assert {r["mile_number"] for r in results} == {mile_number}
    assert _db.session.get(Runner, phone.runner_id).miles_logged == (1 if mile_number else 0)
