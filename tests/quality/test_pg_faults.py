"""Faults on PostgreSQL: database connections killed in the middle of syncs and check-ins.

Clients behave like the real ones: the phone's outbox pushes again after any failed push
until the server acknowledges the run, and an officer taps Check in again until the page
says so. Afterwards every run, lap and check-in is stored exactly once, per-runner mile
numbers are gapless, and the same app object answers the next request without a restart.

Faults come from a separate admin connection: pg_terminate_backend on every other backend of
the test database, over and over during a burst, or on the request's own backend at a chosen
statement, or ALLOW_CONNECTIONS false for the moments a restarting server refuses clients.
Only the test database's own connections are touched; the shared server keeps running.
"""

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Lap, Run, Runner
from tests.factories import (
    PASSWORD,
    escort,
    make_admin,
    make_hero,
    make_phone,
    make_run,
    make_runner,
    make_track,
    run_payload,
)
from tests.helpers import counts, csrf_token, pass_second_factor, sync

pytestmark = [pytest.mark.postgres, pytest.mark.postgres_only]

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
# pg_terminate_backend's second argument: how long to wait for each backend to end (0: not).
KILL_ALL = (
    "SELECT count(pg_terminate_backend(pid, %(wait_ms)s)) FROM pg_stat_activity "
    "WHERE datname = %(database)s AND pid <> pg_backend_pid()"
)
CLIENT_DEADLINE_S = 30  # a client that is never acknowledged in this long fails the test
CHECKED_IN = "You're checked in"


@pytest.fixture
def app_config(app_config):
    """CSRF on, as for a real officer's phone; the engine keeps create_app's own options."""
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


class Admin:
    """A connection of its own, to the server's maintenance database, that kills the others."""

    def __init__(self, database_url: str):
        self.database = conninfo_to_dict(database_url)["dbname"]
        # From another database, so that ALLOW_CONNECTIONS may be switched for the test one.
        self.conn = psycopg.connect(database_url, dbname="postgres", autocommit=True)

    def kill_all(self, wait_ms: int = 0) -> int:
        """Terminate every backend of the test database; with wait_ms, wait until they end."""
        params = {"wait_ms": wait_ms, "database": self.database}
        return self.conn.execute(KILL_ALL, params).fetchone()[0]

    def terminate(self, pid: int) -> None:
        """Terminate one backend and wait until it is gone."""
        assert self.conn.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]

    @contextmanager
    def refusing_connections(self):
        """The test database refuses new connections and loses its open ones, as in a restart."""
        name = sql.Identifier(self.database)
        self.conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        try:
            self.kill_all(wait_ms=5000)
            yield
        finally:
            self.conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))


@pytest.fixture(autouse=True)
def postgres_only(database_url):
    """Skip the SQLite parameter before any app is built: these faults are PostgreSQL's."""
    if database_url.startswith("sqlite"):
        pytest.skip("killing server connections needs PostgreSQL")


@pytest.fixture
def admin(database_url):
    """The fault injector for the test database."""
    admin = Admin(database_url)
    yield admin
    admin.conn.close()


class OwnContextClient:
    """A test client whose requests each get their own app context and session, as in production.

    The requests run on a thread of their own, away from the app context the test holds.
    """

    def __init__(self, app):
        self.client = app.test_client()
        self.thread = ThreadPoolExecutor(max_workers=1)

    def get(self, *args, **kwargs):
        return self.thread.submit(self.client.get, *args, **kwargs).result(timeout=60)

    def post(self, *args, **kwargs):
        return self.thread.submit(self.client.post, *args, **kwargs).result(timeout=60)


@pytest.fixture
def client(app):
    """A client whose requests end their own session, as in production."""
    own = OwnContextClient(app)
    yield own
    own.thread.shutdown()


@pytest.fixture
def phone(db):
    """A signed-in runner starting from mile 0, with a hero and a 7-lap track."""
    return make_phone(db)


@pytest.fixture
def disconnects(app):
    """Counts the statements that failed because their connection dropped, as the app saw it."""
    seen = Counter()

    def on_error(context):
        if context.is_disconnect:
            seen["disconnects"] += 1

    with app.app_context():
        engine = _db.engine
    sa.event.listen(engine, "handle_error", on_error)
    yield seen
    sa.event.remove(engine, "handle_error", on_error)


class Killer:
    """Terminates every other backend of the test database every `every` seconds, in a thread."""

    def __init__(self, admin: Admin, every: float, max_seconds: float):
        self.admin = admin
        self.every = every
        self.max_seconds = max_seconds
        self.stopped = threading.Event()
        self.rounds = 0
        self.terminated = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self.stopped.is_set() and time.monotonic() < deadline:
            self.terminated += self.admin.kill_all()
            self.rounds += 1
            self.stopped.wait(self.every * random.uniform(0.5, 1.5))

    def __enter__(self) -> "Killer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


@contextmanager
def kill_own_connection(
    app, admin, pattern: str, times: int = 1, skip: int = 0, after: bool = False
):
    """Terminate the request's own backend just before matching statements, `times` times.

    `pattern` is searched in each statement's SQL ("COMMIT" means the commit itself); the
    first `skip` matches run normally; with `after`, the kill comes just after the statement.
    pg_terminate_backend waits until the backend is gone, so the next statement meets a dead
    connection every time: no race with the kill.
    """
    matches = [0]
    cuts = []

    def cut(dbapi_connection) -> None:
        matches[0] += 1
        if matches[0] > skip and len(cuts) < times:
            admin.terminate(dbapi_connection.info.backend_pid)
            cuts.append(dbapi_connection.info.backend_pid)

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if pattern != "COMMIT" and re.search(pattern, statement, re.IGNORECASE):
            cut(cursor.connection)

    def before_commit(conn):
        if pattern == "COMMIT":
            cut(conn.connection.dbapi_connection)

    with app.app_context():
        engine = _db.engine
    execute_event = "after_cursor_execute" if after else "before_cursor_execute"
    sa.event.listen(engine, execute_event, on_execute)
    sa.event.listen(engine, "commit", before_commit)
    try:
        yield cuts
    finally:
        sa.event.remove(engine, execute_event, on_execute)
        sa.event.remove(engine, "commit", before_commit)


def assert_unavailable_json(response) -> None:
    """A JSON client gets a 503 in the API's error shape, never an HTML page or a 500."""
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.is_json, response.content_type
    error = response.json["error"]
    assert error["code"] == "database_unavailable"
    assert error["message"] and error["fields"] == {}
    assert response.headers["Retry-After"] == "1"


def _backoff(attempt: int) -> float:
    """The phone's backoff with equal jitter, scaled down from seconds to milliseconds."""
    ceiling = min(0.2, 0.01 * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def push_until_acknowledged(client, phone, runs: list[dict], statuses: Counter) -> list[dict]:
    """POST the runs again after every failed push, as the outbox does, until answered 200."""
    body = {"device_id": phone.device_id, "runs": runs}
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    attempt = 0
    while time.monotonic() < deadline:
        response = client.post("/api/v1/sync", json=body, headers=phone.headers)
        statuses[("sync", response.status_code)] += 1
        if response.status_code == 200:
            return response.json["results"]
        assert_unavailable_json(response)
        attempt += 1
        time.sleep(_backoff(attempt))
    raise AssertionError(f"a push of {len(runs)} runs was never acknowledged")


def until_ok(request, kind: str, statuses: Counter):
    """Repeat a browser request until it answers 200; a failure is a 503 page, never a 500."""
    deadline = time.monotonic() + CLIENT_DEADLINE_S
    attempt = 0
    while time.monotonic() < deadline:
        response = request()
        statuses[(kind, response.status_code)] += 1
        if response.status_code == 200:
            return response
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        assert response.mimetype == "text/html"
        attempt += 1
        time.sleep(_backoff(attempt))
    raise AssertionError(f"{kind} never answered 200")


def officer_checks_in(client, token: str, form: dict, taps: int, statuses: Counter) -> None:
    """Open the check-in page, then tap Check in until it says so; `taps` times in all."""
    page = until_ok(lambda: client.get(f"/c/{token}", headers=BROWSER), "checkin_form", statuses)
    data = {**form, "csrf_token": csrf_token(page.get_data(as_text=True))}
    for _ in range(taps):
        done = until_ok(
            lambda: client.post(f"/c/{token}", data=data, headers=BROWSER), "checkin", statuses
        )
        assert CHECKED_IN in done.get_data(as_text=True)


def _stored_runs(runner_id: int) -> dict[str, Run]:
    _db.session.expire_all()
    return {
        run.id: run for run in _db.session.scalars(sa.select(Run).where(Run.runner_id == runner_id))
    }


def _lap_rows(run_id: str) -> list[tuple[int, int]]:
    return [
        tuple(row)
        for row in _db.session.execute(
            sa.select(Lap.seq, Lap.elapsed_ms).where(Lap.run_id == run_id).order_by(Lap.seq)
        )
    ]


# ---- a burst of syncs and check-ins while every connection is killed, over and over ------


def test_a_burst_of_syncs_and_checkins_survives_repeated_connection_kills(
    app, db, admin, disconnects, client
):
    starts = (0, 1293, 40)
    phones = [make_phone(db, starting_mile_count=start) for start in starts]
    outboxes = {}
    for phone in phones:
        full = [run_payload(phone, checkins=[escort()] if n % 3 == 0 else []) for n in range(7)]
        short = [run_payload(phone, laps=3, checkins=[escort(), escort()]) for _ in range(2)]
        outbox = full[:3] + short[:1] + full[3:] + short[1:]
        outboxes[phone.runner_id] = [outbox[i : i + 3] for i in range(0, len(outbox), 3)]
    planned = make_run(make_runner(), hero=make_hero(name="Jane Doe"), track=make_track())
    db.session.commit()
    token = planned.checkin_token
    db.session.remove()  # the test's own connection is killed too; it reconnects afterwards
    officers = [
        {
            "name": f"Officer {n}",
            "agency": "Example County Sheriff",
            "badge": str(1000 + n),
            "role": "escort",
            "public": "y",
        }
        for n in range(8)
    ]
    statuses: Counter = Counter()
    acknowledged: dict[str, dict] = {}  # run id -> the first result that acknowledged it
    repeats: list[tuple[dict, dict]] = []  # (first result, result of the repeat)

    def phone_pushes(phone) -> None:
        client = app.test_client()
        rng = random.Random(phone.runner_id)
        for batch in outboxes[phone.runner_id]:
            results = push_until_acknowledged(client, phone, batch, statuses)
            assert [r["id"] for r in results] == [run["id"] for run in batch]
            for result in results:
                assert result["status"] in ("created", "duplicate"), result
                acknowledged[result["id"]] = result
            if rng.random() < 0.3:  # the answer was lost on the way: the phone pushes again
                again = push_until_acknowledged(client, phone, batch, statuses)
                repeats.extend(zip(results, again, strict=True))

    def officer(n: int) -> None:
        taps = 2 if n % 3 == 0 else 1  # a double tap updates the same check-in
        officer_checks_in(app.test_client(), token, officers[n], taps, statuses)

    jobs = [lambda p=p: phone_pushes(p) for p in phones]
    jobs += [lambda n=n: officer(n) for n in range(len(officers))]
    with (
        Killer(admin, every=0.04, max_seconds=20) as killer,
        ThreadPoolExecutor(max_workers=len(jobs)) as pool,
    ):
        for future in [pool.submit(job) for job in jobs]:
            future.result(timeout=CLIENT_DEADLINE_S * 3)

    print(
        f"\nfaults: {killer.rounds} kill rounds, {killer.terminated} backends terminated, "
        f"{disconnects['disconnects']} statements hit a dead connection; answers {statuses}"
    )
    # The faults were real: backends died in the middle of the app's statements.
    assert killer.terminated > 0
    assert disconnects["disconnects"] > 0, (killer.rounds, killer.terminated, statuses)
    assert {status for _, status in statuses} <= {200, 503}

    for phone, start in zip(phones, starts, strict=True):
        sent = [run for batch in outboxes[phone.runner_id] for run in batch]
        stored = _stored_runs(phone.runner_id)
        assert set(stored) == {run["id"] for run in sent}  # none lost, none added
        for run in sent:
            assert _lap_rows(run["id"]) == [(lap["seq"], lap["elapsed_ms"]) for lap in run["laps"]]
            ids = set(db.session.scalars(sa.select(Checkin.id).where(Checkin.run_id == run["id"])))
            assert ids == {checkin["id"] for checkin in run["checkins"]}
            assert stored[run["id"]].mile_number == acknowledged[run["id"]]["mile_number"]
        numbers = sorted(r.mile_number for r in stored.values() if r.mile_number is not None)
        assert numbers == list(range(start + 1, start + 8))  # gapless from the starting count
        assert all(stored[run["id"]].mile_number is None for run in sent if len(run["laps"]) < 7)
        assert db.session.get(Runner, phone.runner_id).miles_logged == 7
    for first, again in repeats:
        assert again["status"] == "duplicate"
        assert again["mile_number"] == first["mile_number"]

    qr = list(db.session.scalars(sa.select(Checkin).where(Checkin.run_id == planned.id)))
    assert sorted(c.name for c in qr) == sorted(o["name"] for o in officers)  # once each
    assert all(c.source == "qr" and c.public for c in qr)
    assert counts(db) == (3 * 9 + 1, 3 * (7 * 7 + 2 * 3), 3 * (3 + 4) + len(officers))

    # The same app object, never restarted, answers at once.
    assert client.get("/healthz").json == {"status": "ok"}
    reply = sync(client, phones[0], run_payload(phones[0]))
    assert reply.status_code == 200
    assert reply.json["results"][0]["mile_number"] == 8


def test_every_pooled_connection_killed_the_next_requests_succeed_at_once(
    app, admin, phone, client
):
    # Fill the pool with several connections, kill them all while idle: pre-ping replaces
    # each dead one on checkout, so not one request fails.
    barrier = threading.Barrier(6)

    def hold_a_connection(_):
        with app.app_context():
            _db.session.execute(sa.text("SELECT 1"))
            barrier.wait(timeout=10)
            _db.session.remove()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(hold_a_connection, range(6)))
    assert admin.kill_all(wait_ms=5000) >= 5  # every one is gone before the next request
    for _ in range(8):
        assert client.get("/healthz").status_code == 200
    assert sync(client, phone, run_payload(phone)).json["results"][0]["status"] == "created"


# ---- a connection that drops at a chosen statement ----------------------------------------


@pytest.fixture
def used_phone(phone, client):
    """The phone after one request, so its hourly last-used touch is not in the measured one."""
    assert client.get("/api/v1/runs", headers=phone.headers).status_code == 200
    return phone


# Each statement of the run's transaction, from its first read to its commit.
@pytest.mark.parametrize(
    "pattern",
    [
        "laps_per_mile",
        "FOR UPDATE",
        "INSERT INTO checkins",
        "INSERT INTO laps",
        "UPDATE runners",
        "COMMIT",
    ],
)
def test_a_run_whose_connection_drops_once_is_retried_and_stored_once(
    app, db, admin, disconnects, used_phone, client, pattern
):
    phone = used_phone
    run = run_payload(phone, checkins=[escort()])
    with kill_own_connection(app, admin, pattern) as cuts:
        response = sync(client, phone, run)
    assert len(cuts) == 1
    assert disconnects["disconnects"] >= 1
    assert response.status_code == 200, response.json
    assert response.json["results"][0] == {
        "id": run["id"],
        "status": "created",
        "mile_number": 1,
        "errors": {},
    }
    assert counts(db) == (1, 7, 1)
    assert db.session.get(Runner, phone.runner_id).miles_logged == 1


def test_a_run_that_keeps_losing_its_connection_is_a_503_and_stores_nothing(
    app, db, admin, used_phone, client
):
    phone = used_phone
    run = run_payload(phone)
    with kill_own_connection(app, admin, "INSERT INTO laps", times=5) as cuts:
        response = sync(client, phone, run)
    assert len(cuts) == 2  # the first try and one retry, then the phone is told to try again
    assert_unavailable_json(response)
    assert counts(db) == (0, 0, 0)
    assert db.session.get(Runner, phone.runner_id).miles_logged == 0
    # The phone pushes again later: the run gets mile 1, no number was used up by the fault.
    again = sync(client, phone, run)
    assert again.json["results"][0]["status"] == "created"
    assert again.json["results"][0]["mile_number"] == 1


def test_a_batch_cut_in_the_middle_keeps_the_runs_before_and_the_retry_completes_it(
    app, db, admin, used_phone, client
):
    phone = used_phone
    runs = [run_payload(phone) for _ in range(3)]
    # The first run commits; every attempt at the second loses its connection.
    with kill_own_connection(app, admin, "INSERT INTO laps", times=5, skip=1):
        response = sync(client, phone, *runs)
    assert_unavailable_json(response)
    assert counts(db) == (1, 7, 0)  # the first run, whole; nothing of the second
    again = sync(client, phone, *runs)
    assert [r["status"] for r in again.json["results"]] == ["duplicate", "created", "created"]
    assert [r["mile_number"] for r in again.json["results"]] == [1, 2, 3]
    assert counts(db) == (3, 21, 0)


@pytest.fixture
def checkin_page(db, client):
    """An officer's phone with the check-in form of a planned run open: (client, url, form)."""
    planned = make_run(make_runner())
    db.session.commit()
    url = f"/c/{planned.checkin_token}"
    page = client.get(url, headers=BROWSER)
    form = {"name": "Sgt. Dana Reyes", "csrf_token": csrf_token(page.get_data(as_text=True))}
    return client, url, form


def _checkin_names(db) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Checkin.name)))


@pytest.mark.parametrize("pattern", ["INSERT INTO checkins", "COMMIT"])
def test_a_checkin_whose_connection_drops_once_is_stored_once(
    app, db, admin, checkin_page, pattern
):
    client, url, form = checkin_page
    with kill_own_connection(app, admin, pattern) as cuts:
        response = client.post(url, data=form, headers=BROWSER)
    assert len(cuts) == 1
    assert response.status_code == 200
    assert CHECKED_IN in response.get_data(as_text=True)
    assert _checkin_names(db) == ["Sgt. Dana Reyes"]


def test_a_checkin_that_keeps_losing_its_connection_shows_a_page_and_the_next_tap_works(
    app, db, admin, checkin_page
):
    client, url, form = checkin_page
    with kill_own_connection(app, admin, "INSERT INTO checkins", times=5):
        response = client.post(url, data=form, headers=BROWSER)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "try again" in response.get_data(as_text=True).lower()
    assert _checkin_names(db) == []
    again = client.post(url, data=form, headers=BROWSER)
    assert CHECKED_IN in again.get_data(as_text=True)
    assert _checkin_names(db) == ["Sgt. Dana Reyes"]


@pytest.mark.parametrize("path", ["/api/v1/bootstrap", "/api/v1/runs"])
def test_a_json_read_whose_connection_drops_is_a_503_in_the_error_shape(
    app, db, admin, used_phone, client, path
):
    # The bearer check's SELECT runs; the view's own first query meets a dead connection.
    with kill_own_connection(app, admin, "SELECT", skip=1) as cuts:
        response = client.get(path, headers=used_phone.headers)
    assert len(cuts) == 1
    assert_unavailable_json(response)
    assert client.get(path, headers=used_phone.headers).status_code == 200


def test_a_connection_that_dies_after_the_last_statement_does_not_spoil_the_answer(
    app, db, admin, used_phone, client
):
    # The view has its rows; the session's closing ROLLBACK meets the dead connection.
    with kill_own_connection(app, admin, "FROM runs", after=True) as cuts:
        response = client.get("/api/v1/runs", headers=used_phone.headers)
    assert len(cuts) == 1
    assert response.status_code == 200
    assert response.json == {"runs": []}
    assert client.get("/healthz").status_code == 200


# ---- a database that refuses connections for a while, as in a restart -----------------------


def test_while_the_database_refuses_connections_clients_get_503_then_the_app_recovers(
    app, db, admin, phone, client
):
    run = run_payload(phone, checkins=[escort()])
    planned = make_run(make_runner())
    admin_account = make_admin()
    db.session.commit()
    token, email = planned.checkin_token, admin_account.email
    db.session.remove()  # the test's own connection is killed too; it reconnects afterwards
    login = client.get("/login", headers=BROWSER).get_data(as_text=True)
    signed_in = pass_second_factor(
        client,
        client.post(
            "/login",
            headers=BROWSER,
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(login)},
        ),
        BROWSER,
    )
    assert signed_in.status_code == 302
    with admin.refusing_connections():
        assert_unavailable_json(sync(client, phone, run))
        assert_unavailable_json(client.get("/api/v1/runs", headers=phone.headers))
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["error"]["code"] == "database_unavailable"
        page = client.get(f"/c/{token}", headers=BROWSER)
        assert page.status_code == 503 and page.mimetype == "text/html"
        # A signed-in admin's page: even the account lookup fails, and still no 500.
        dashboard = client.get("/admin/", headers=BROWSER)
        assert dashboard.status_code == 503 and dashboard.mimetype == "text/html"
        assert "try again" in dashboard.get_data(as_text=True)
    # The database is back: the same app, not restarted, takes the phone's retry.
    assert client.get("/healthz").status_code == 200
    reply = sync(client, phone, run)
    assert reply.json["results"][0] == {
        "id": run["id"],
        "status": "created",
        "mile_number": 1,
        "errors": {},
    }
    assert counts(db) == (2, 7, 1)  # the planned run, and the phone's run once
