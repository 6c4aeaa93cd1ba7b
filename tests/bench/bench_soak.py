"""Soak: gunicorn on PostgreSQL under family readers, syncing phones and escort check-ins.

    .venv/bin/python tests/bench/bench_soak.py [--seconds 60] [--readers 200] [--phones 20]
        [--checkins-per-minute 50] [--workers 4] [--phone-think 0.2] [--kill-every S]

It EMPTIES the tables of BENCH_DATABASE_URL (default postgresql://root@127.0.0.1:5432/t_soak),
seeds 300 synced runs with shipments (the family pages), one runner and device token per phone,
and 5 planned runs whose check-in codes the officers scan. Then it starts gunicorn (wsgi:app,
--workers sync workers, as README's production command) on a free loopback port and, for
--seconds, drives at once:

- --readers family-page readers (GET /f/<token> of a random shipment), each a thread that asks
  again as soon as it has its answer: that many requests are always in flight;
- --phones phones, each a runner with its own bearer token, pushing POST /api/v1/sync with 1-3
  runs (9 in 10 a full 7-lap mile, 1 in 10 a short run; half carry a phone check-in), 30% of
  the runs repeats of runs already acknowledged (each must answer duplicate with the same mile
  number), then --phone-think seconds' pause; a failed push is pushed again, as the outbox does;
- --checkins-per-minute officers, one started every 60/N s, each a new phone: GET /c/<token>,
  read the CSRF token, POST the form; 1 in 10 taps again (must update, not add); a failed step
  is tried again, as a person taps again.

Rate limits stay ON. The limiter keys check-ins on the client address, and every request here
comes from 127.0.0.1; so the server runs with PROXY_FIX (as README's HTTPS deployment does) and
each officer sends its own X-Forwarded-For (TEST-NET strings; no traffic goes anywhere but the
loopback). The limits are then those an officer meets, and the soak measures the app, not the
limiter. Family pages and sync have no rate limit.

With --kill-every S, a fault is added: every S seconds (jittered) every backend of the soak
database is terminated (pg_terminate_backend, from a connection to the maintenance database;
the shared server keeps running). Clients then meet 503 "try again" answers, counted apart
from errors and retried as above; a 500, an HTML answer to the phone or a wrong answer is
still an error, and the database check must still hold.

When the time is up no new work starts; pushes and check-ins in flight finish (a failed one is
retried for up to 30 s). Then it checks the database against what the clients were told: every
acknowledged run stored once with its laps and check-ins, repeats answered duplicate, mile
numbers gapless per runner from the starting count, and every officer's check-in stored once.
It prints p50/p95/p99 per endpoint and the error count, and writes tests/bench/out/soak.json
(soak_faults.json in fault mode).

Honest limits: the load generator is one Python process with ~230 threads sharing the 2
cores with gunicorn and PostgreSQL; its CPU use is reported. Latency here includes waiting in
gunicorn's listen queue behind the readers, which is what a phone would feel on this box. The
PostgreSQL CPU figure sums the server processes alive at the end, so in fault mode it misses
the killed backends.

Loopback only; every request has a timeout; the run is bounded in time and count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
DEFAULT_DB = "postgresql://root@127.0.0.1:5432/t_soak"
SHIPMENTS = 300
CHECKIN_RUNS = 5
TIMEOUT = 30  # per request
DRAIN_SECONDS = 30  # how long unfinished pushes and check-ins may retry after the soak
MAX_REQUESTS = 500_000  # a hard cap on requests, whatever the clock says
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ENDPOINTS = ("GET /f/<token>", "POST /api/v1/sync", "GET /c/<token>", "POST /c/<token>")
sys.path.insert(0, str(ROOT))
from tests.bench._gunicorn import Gunicorn, cpu_of  # noqa: E402
from tests.factories import escort  # noqa: E402


def _app(database_url: str):
    from r4h_pwa import create_app

    uri = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "PASSWORD_HASH_METHOD": "pbkdf2"})


# ---- seed and verify ---------------------------------------------------------------------


def seed(database_url: str, phones: int, shipments: int = SHIPMENTS, reset: bool = True) -> dict:
    """Empty the database (unless reset is False: a migrated, empty one); add family pages,
    one runner and token per phone, and planned runs."""
    from datetime import UTC, date, datetime, timedelta

    from r4h_pwa.auth.service import issue_device_token
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Checkin, Lap, Run, Runner, Shipment, Track
    from tests.factories import make_hero

    app = _app(database_url)
    with app.app_context():
        if reset:
            db.drop_all()
            db.create_all()
        track = Track(name="Winter Springs High School", laps_per_mile=7, min_lap_seconds=40)
        family_runner = Runner(
            email="family-runs@example.org", name="Zechariah", starting_mile_count=1000
        )
        family_runner.set_password("bench-password-123")
        db.session.add_all([track, family_runner])
        started = datetime(2023, 2, 15, 1, 30, tzinfo=UTC)
        family = []
        for n in range(shipments):
            hero = make_hero(
                name=f"Hero Number {n:03d}",
                agency="Example County PD",
                state="CO",
                end_of_watch=date(2023, 2, 11),
                story="He served his community for eleven years.",
            )
            run = Run(
                hero=hero,
                runner=family_runner,
                track=track,
                status="synced",
                started_at=started + timedelta(days=n),
                finished_at=started + timedelta(days=n, minutes=11),
                synced_at=started + timedelta(days=n),
                mile_number=1001 + n,
                words="I ran for him and his family tonight.",
            )
            run.laps = [Lap(seq=s, elapsed_ms=s * 88_000) for s in range(1, 8)]
            run.checkins = [
                Checkin(name="Sgt. Dana Reyes", agency="Winter Springs Police", public=True),
                Checkin(name="Ofc. Quiet Person", agency="Somewhere PD", public=False),
            ]
            shipment = Shipment(
                run=run,
                recipient_name=f"Family {n}",
                address_line1="1 Main Street",
                city="Fountain",
                state="CO",
                postal_code="80817",
            )
            db.session.add(shipment)
            family.append((shipment, hero))
        heroes = [hero for _, hero in family[:20]]
        devices = []
        for n in range(phones):
            runner = Runner(
                email=f"phone{n}@example.org", name=f"Runner {n}", starting_mile_count=100 * n
            )
            runner.set_password("bench-password-123")
            db.session.add(runner)
            token, device = issue_device_token(runner, f"Soak phone {n}", 30)
            devices.append((runner, token, device, heroes[n % len(heroes)]))
        planned = []
        for n in range(CHECKIN_RUNS):
            planned.append(
                Run(
                    hero=heroes[n],
                    runner=family_runner,
                    track=track,
                    scheduled_at=datetime.now(UTC) + timedelta(minutes=30 + n),
                )
            )
        db.session.add_all(planned)
        db.session.commit()
        seeded = {
            "track_id": track.id,
            "family": [(s.family_token, h.name) for s, h in family],
            "phones": [
                {
                    "runner_id": r.id,
                    "start": r.starting_mile_count,
                    "token": t,
                    "device_id": d.id,
                    "hero_id": h.id,
                }
                for r, t, d, h in devices
            ],
            "checkin_runs": [(run.id, run.checkin_token) for run in planned],
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


def verify(database_url: str, seeded: dict, phones: list[Phone], officers: list[Officer]) -> dict:
    """Compare the database with what the clients were told; every problem is listed."""
    import sqlalchemy as sa

    from r4h_pwa.extensions import db
    from r4h_pwa.models import Checkin, Lap, Run, Runner

    problems: list[str] = []
    totals = Counter()
    app = _app(database_url)
    with app.app_context():
        for phone in phones:
            stored = {
                row.id: row
                for row in db.session.execute(
                    sa.select(Run.id, Run.mile_number).where(Run.runner_id == phone.runner_id)
                )
            }
            laps = dict(
                db.session.execute(
                    sa.select(Lap.run_id, sa.func.count())
                    .join(Run)
                    .where(Run.runner_id == phone.runner_id)
                    .group_by(Lap.run_id)
                ).all()
            )
            checkins = Counter(
                db.session.scalars(
                    sa.select(Checkin.run_id).join(Run).where(Run.runner_id == phone.runner_id)
                )
            )
            acked = set(phone.acked)
            sent = set(phone.sent)
            totals["runs_acknowledged"] += len(acked)
            totals["runs_stored"] += len(stored)
            totals["laps_stored"] += sum(laps.values())
            totals["phone_checkins_stored"] += sum(checkins.values())
            if missing := acked - set(stored):
                problems.append(f"runner {phone.runner_id}: {len(missing)} acknowledged runs lost")
            if extra := set(stored) - sent:
                problems.append(f"runner {phone.runner_id}: {len(extra)} runs never sent stored")
            totals["runs_stored_unacknowledged"] += len(set(stored) - acked)
            for run_id in acked & set(stored):
                payload = phone.sent[run_id]
                totals["laps_acknowledged"] += len(payload["laps"])
                totals["phone_checkins_acknowledged"] += len(payload["checkins"])
                if laps.get(run_id, 0) != len(payload["laps"]):
                    problems.append(
                        f"run {run_id}: {laps.get(run_id, 0)} laps stored, "
                        f"{len(payload['laps'])} sent"
                    )
                if checkins.get(run_id, 0) != len(payload["checkins"]):
                    problems.append(
                        f"run {run_id}: {checkins.get(run_id, 0)} check-ins "
                        f"stored, {len(payload['checkins'])} sent"
                    )
                if stored[run_id].mile_number != phone.acked[run_id]:
                    problems.append(
                        f"run {run_id}: mile {stored[run_id].mile_number} stored, "
                        f"{phone.acked[run_id]} acknowledged"
                    )
            numbers = sorted(r.mile_number for r in stored.values() if r.mile_number is not None)
            expected = list(range(phone.start + 1, phone.start + len(numbers) + 1))
            if numbers != expected:
                problems.append(
                    f"runner {phone.runner_id}: mile numbers not gapless from {phone.start + 1}"
                )
            logged = db.session.get(Runner, phone.runner_id).miles_logged
            if logged != len(numbers):
                problems.append(
                    f"runner {phone.runner_id}: miles_logged {logged}, {len(numbers)} numbered runs"
                )
            full = sum(len(phone.sent[r]["laps"]) >= 7 for r in stored if r in phone.sent)
            if full != len(numbers):
                problems.append(
                    f"runner {phone.runner_id}: {full} full runs, {len(numbers)} numbered"
                )
        run_ids = [run_id for run_id, _ in seeded["checkin_runs"]]
        rows = db.session.execute(
            sa.select(Checkin.name, Checkin.run_id).where(Checkin.run_id.in_(run_ids))
        ).all()
        names = Counter(name for name, _ in rows)
        confirmed = [o for o in officers if o.done]
        totals["officers_confirmed"] = len(confirmed)
        totals["officer_checkins_stored"] = len(rows)
        for officer in confirmed:
            if names[officer.name] != 1:
                problems.append(f"{officer.name}: {names[officer.name]} check-ins stored")
        if unconfirmed := [o.name for o in officers if not o.done and names[o.name]]:
            totals["officer_checkins_stored_unconfirmed"] = len(unconfirmed)
        if len(rows) > len(officers) or any(count > 1 for count in names.values()):
            problems.append("a check-in is duplicated")
        db.session.remove()
        db.engine.dispose()
    return {"totals": dict(totals), "problems": problems, "ok": not problems}


# ---- the server --------------------------------------------------------------------------


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (same box, loopback)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return cpu_of(pids)


# ---- the clients -------------------------------------------------------------------------


class Recorder:
    """Latencies and errors per endpoint, shared by every client thread."""

    def __init__(self, port: int, max_requests: int, connect=None):
        self.port = port
        # Plain HTTP to the port, unless connect() makes another connection (the cluster
        # test's HTTPS to nginx).
        self.connect = connect or (
            lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        )
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.unavailable: Counter = Counter()  # 503 "try again" answers in the right shape
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.max_requests = max_requests
        self.count = 0

    def allowed(self) -> bool:
        with self.lock:
            return self.count < self.max_requests

    def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict | None = None,
    ) -> tuple[int | None, dict, str]:
        """One timed request on a fresh connection; (None, {}, error) if it failed outright."""
        began = time.perf_counter()
        conn = self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode()
            got: dict[str, list[str]] = defaultdict(list)
            for name, value in response.getheaders():
                got[name.lower()].append(value)
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status, got, text = None, {}, f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        elapsed = time.perf_counter() - began
        with self.lock:
            self.count += 1
            self.latencies[endpoint].append(elapsed)
            self.statuses[endpoint][str(status)] += 1
        return status, got, text

    def failed(self, endpoint: str, status: int | None, text: str, json_client: bool = False):
        """A request that did not succeed: a 503 "try again" in the right shape, else an error."""
        shaped = status == 503
        if shaped and json_client:
            try:
                shaped = json.loads(text)["error"]["code"] == "database_unavailable"
            except (ValueError, KeyError, TypeError):
                shaped = False
        if shaped:
            with self.lock:
                self.unavailable[endpoint] += 1
        else:
            self.error(endpoint, f"{status}: {text[:150]}")

    def error(self, endpoint: str, problem: str) -> None:
        with self.lock:
            self.errors[endpoint] += 1
            if len(self.examples[endpoint]) < 5:
                self.examples[endpoint].append(problem[:200])


def reader(rec: Recorder, family: list, stop: threading.Event, seed: int) -> None:
    """A family member reloading a family page as fast as the server answers."""
    rng = random.Random(seed)
    while not stop.is_set() and rec.allowed():
        token, hero = rng.choice(family)
        status, headers, text = rec.request(
            "GET /f/<token>", "GET", f"/f/{token}", headers={"Accept": "text/html"}
        )
        if status != 200:
            rec.failed("GET /f/<token>", status, text)
        elif hero not in text or "Ofc. Quiet Person" in text:
            rec.error("GET /f/<token>", f"wrong page: {text[:120]}")
        elif "noindex" not in " ".join(headers.get("x-robots-tag", [])):
            rec.error("GET /f/<token>", "family page without noindex")


class Phone:
    """A runner's phone: its outbox of runs, and what the server acknowledged for each."""

    def __init__(self, seeded_phone: dict, track_id: int, repeat_share: float, seed: int):
        self.runner_id = seeded_phone["runner_id"]
        self.start = seeded_phone["start"]
        self.device_id = seeded_phone["device_id"]
        self.hero_id = seeded_phone["hero_id"]
        self.track_id = track_id
        self.headers = {
            "Authorization": f"Bearer {seeded_phone['token']}",
            "Content-Type": "application/json",
        }
        self.repeat_share = repeat_share
        self.rng = random.Random(seed)
        self.sent: dict[str, dict] = {}  # every run ever sent, by id
        self.acked: dict[str, int | None] = {}  # run id -> the mile number acknowledged
        self.statuses: Counter = Counter()

    def new_run(self) -> dict:
        laps = 7 if self.rng.random() < 0.9 else 3
        checkins = []
        if self.rng.random() < 0.5:
            checkins.append(escort())
        return {
            "id": str(uuid.uuid4()),
            "hero_id": self.hero_id,
            "track_id": self.track_id,
            "started_at": "2025-03-01T14:00:00Z",
            "finished_at": "2025-03-01T14:11:00Z",
            "laps": [{"seq": n, "elapsed_ms": n * 92_345} for n in range(1, laps + 1)],
            "checkins": checkins,
            "words": "For a hero.",
            "video_url": "",
        }

    def batch(self) -> list[tuple[dict, bool]]:
        """1-3 runs; each a repeat of an acknowledged run with probability repeat_share."""
        runs = []
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            if self.acked and self.rng.random() < self.repeat_share:
                run_id = self.rng.choice(list(self.acked))
                if all(run["id"] != run_id for run, _ in runs):
                    runs.append((self.sent[run_id], True))
                    continue
            run = self.new_run()
            self.sent[run["id"]] = run
            runs.append((run, False))
        return runs

    def push(self, rec: Recorder, batch: list[tuple[dict, bool]], retry: bool) -> bool:
        """One POST of the batch; True once acknowledged (every answer checked)."""
        body = json.dumps({"device_id": self.device_id, "runs": [run for run, _ in batch]})
        status, _, text = rec.request(
            "POST /api/v1/sync", "POST", "/api/v1/sync", body, self.headers
        )
        if status != 200:
            rec.failed("POST /api/v1/sync", status, text, json_client=True)
            return False
        results = json.loads(text)["results"]
        for (run, repeat), result in zip(batch, results, strict=True):
            self.statuses[result["status"]] += 1
            allowed = (
                {"duplicate"} if repeat else {"created", "duplicate"} if retry else {"created"}
            )
            if result["id"] != run["id"] or result["status"] not in allowed:
                rec.error(
                    "POST /api/v1/sync",
                    f"{result['status']} for a {'repeat' if repeat else 'new run'}",
                )
            elif repeat and result["mile_number"] != self.acked[run["id"]]:
                rec.error("POST /api/v1/sync", "a repeat answered another mile number")
            elif not repeat:
                self.acked[run["id"]] = result["mile_number"]
        return True

    def work(self, rec: Recorder, stop: threading.Event, think: float) -> None:
        """Push until the soak ends; a failed push is pushed again with backoff until acked."""
        while not stop.is_set() and rec.allowed():
            batch = self.batch()
            attempt = 0
            drain_until = None
            while not self.push(rec, batch, retry=attempt > 0):
                attempt += 1
                if stop.is_set():
                    drain_until = drain_until or time.monotonic() + DRAIN_SECONDS
                    if time.monotonic() > drain_until:
                        return
                time.sleep(min(2.0, 0.05 * 2**attempt) * self.rng.uniform(0.5, 1.0))
            stop.wait(think * self.rng.uniform(0.5, 1.5))


class Officer:
    """An escort with a new phone: opens the check-in page, checks in, maybe taps again."""

    def __init__(self, n: int, token: str, double_tap: bool, origin: str = ""):
        self.name = f"Officer Soak {n:04d}"
        self.origin = origin  # over HTTPS, a browser's Referer (CSRF checks it there)
        self.token = token
        self.double_tap = double_tap
        self.address = f"198.51.{100 + n // 250}.{n % 250 + 1}"  # a header value, not a host
        self.cookies: dict[str, str] = {}
        self.done = False

    def send(self, rec: Recorder, endpoint: str, method: str, form: dict | None = None):
        headers = {"X-Forwarded-For": self.address, "Accept": "text/html"}
        if self.origin:
            headers["Referer"] = f"{self.origin}/c/{self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, got, text = rec.request(endpoint, method, f"/c/{self.token}", body, headers)
        for cookie in got.get("set-cookie", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, text

    def work(self, rec: Recorder) -> None:
        deadline = time.monotonic() + TIMEOUT + DRAIN_SECONDS
        match = None
        while match is None and time.monotonic() < deadline:
            status, page = self.send(rec, "GET /c/<token>", "GET")
            match = CSRF.search(page) if status == 200 else None
            if match is None:
                rec.failed("GET /c/<token>", status, page)
                time.sleep(0.5)
        if match is None:
            return
        form = {
            "name": self.name,
            "agency": "Orange County SO",
            "badge": "77",
            "role": "escort",
            "public": "y",
            "csrf_token": match.group(1),
        }
        for _ in range(2 if self.double_tap else 1):
            while time.monotonic() < deadline:
                status, text = self.send(rec, "POST /c/<token>", "POST", form)
                if status == 200 and "You're checked in" in text:
                    self.done = True
                    break
                rec.failed("POST /c/<token>", status, text)
                time.sleep(0.5)


class Killer:
    """Terminates every backend of the soak database every `every` seconds (jittered)."""

    def __init__(self, database_url: str, every: float):
        import psycopg

        with psycopg.connect(database_url) as conn:
            self.database = conn.info.dbname
        # From the maintenance database, so its own connection is not among the victims.
        self.conn = psycopg.connect(database_url, dbname="postgres", autocommit=True)
        self.every = every
        self.rounds = 0
        self.terminated = 0

    def work(self, stop: threading.Event) -> None:
        rng = random.Random(0)
        while not stop.wait(self.every * rng.uniform(0.5, 1.5)):
            self.terminated += self.conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            ).fetchone()[0]
            self.rounds += 1
        self.conn.close()


# ---- the soak ----------------------------------------------------------------------------


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def soak(args, database_url: str, port: int, seeded: dict):
    """Run every client for args.seconds, then let the unfinished ones finish."""
    rec = Recorder(port, MAX_REQUESTS)
    stop = threading.Event()
    killer = Killer(database_url, args.kill_every) if args.kill_every else None
    phones = [
        Phone(p, seeded["track_id"], args.repeat_share, n) for n, p in enumerate(seeded["phones"])
    ]
    officers_due = round(args.checkins_per_minute * args.seconds / 60)
    officers = [
        Officer(n, seeded["checkin_runs"][n % CHECKIN_RUNS][1], double_tap=n % 10 == 0)
        for n in range(officers_due)
    ]
    threads = [
        threading.Thread(target=reader, args=(rec, seeded["family"], stop, n), daemon=True)
        for n in range(args.readers)
    ]
    threads += [
        threading.Thread(target=p.work, args=(rec, stop, args.phone_think), daemon=True)
        for p in phones
    ]
    officer_threads = [threading.Thread(target=o.work, args=(rec,), daemon=True) for o in officers]
    if killer is not None:
        threads.append(threading.Thread(target=killer.work, args=(stop,), daemon=True))
    cpu_before = (time.process_time(), _postgres_cpu())
    began = time.monotonic()
    for thread in threads:
        thread.start()
    interval = 60 / args.checkins_per_minute
    for n, thread in enumerate(officer_threads):  # one officer every `interval` seconds
        delay = began + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread.start()
    time.sleep(max(0.0, began + args.seconds - time.monotonic()))
    stop.set()
    wall = time.monotonic() - began
    for thread in threads + officer_threads:
        thread.join(timeout=TIMEOUT + DRAIN_SECONDS + 10)
    finished = time.monotonic() - began
    still_running = sum(t.is_alive() for t in threads + officer_threads)
    cpu = {
        "client_cpu_s": round(time.process_time() - cpu_before[0], 1),
        "postgres_cpu_s": round(_postgres_cpu() - cpu_before[1], 1),
    }
    endpoints = {}
    for endpoint in ENDPOINTS:
        ordered = sorted(rec.latencies[endpoint])
        endpoints[endpoint] = {
            "requests": len(ordered),
            "per_second": round(len(ordered) / wall, 1),
            "p50_ms": round(_percentile(ordered, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1) if ordered else None,
            "errors": rec.errors[endpoint],
            "unavailable_503": rec.unavailable[endpoint],
            "statuses": dict(rec.statuses[endpoint]),
            "first_errors": rec.examples[endpoint],
        }
    run = {
        "soak_seconds": round(wall, 1),
        "with_drain_seconds": round(finished, 1),
        "clients_still_running": still_running,
        "requests": rec.count,
        "request_cap_hit": rec.count >= MAX_REQUESTS,
        **cpu,
    }
    if killer is not None:
        run["kill_rounds"], run["backends_terminated"] = killer.rounds, killer.terminated
    return endpoints, phones, officers, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="soak length (default 60)")
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--checkins-per-minute", type=float, default=50.0)
    parser.add_argument("--repeat-share", type=float, default=0.30)
    parser.add_argument(
        "--phone-think",
        type=float,
        default=0.2,
        help="mean pause between a phone's pushes, s (default 0.2)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--kill-every",
        type=float,
        default=0.0,
        metavar="S",
        help="fault mode: terminate the database's backends every S s",
    )
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    if not database_url.startswith("postgres"):
        parser.error("the soak needs PostgreSQL")
    seeded = seed(database_url, args.phones)
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as workdir:
        server = Gunicorn(
            database_url,
            Path(workdir),
            args.workers,
            timeout=60,
            env={"R4H_PROXY_FIX": "true", "R4H_RATELIMIT_ENABLED": "true"},
        )
        try:
            server_cpu_before = server.cpu_seconds()
            endpoints, phones, officers, run = soak(args, database_url, server.port, seeded)
            run["server_cpu_s"] = round(server.cpu_seconds() - server_cpu_before, 1)
        finally:
            server.stop()
        log = Path(server.log.name).read_text()
    run["gunicorn_log_tracebacks"] = log.count("Traceback")
    run["gunicorn_log_last_lines"] = log.strip().splitlines()[-3:]  # what it said, if anything
    checked = verify(database_url, seeded, phones, officers)
    statuses = sum((p.statuses for p in phones), Counter())
    errors = sum(e["errors"] for e in endpoints.values())
    unavailable = sum(e["unavailable_503"] for e in endpoints.values())
    ok = (
        checked["ok"]
        and errors == 0
        and run["clients_still_running"] == 0
        and (unavailable == 0 or args.kill_every > 0)
    )

    print(
        f"\nSoak: {run['soak_seconds']:g} s, gunicorn -w {args.workers} (sync) on PostgreSQL, "
        f"{os.cpu_count()} CPUs; {args.readers} family readers, {args.phones} phones "
        f"({args.repeat_share:.0%} repeats), {args.checkins_per_minute:g} check-ins/min\n"
    )
    header = (
        f"{'endpoint':<19}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'errors':>7}{'503s':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, row in endpoints.items():
        print(
            f"{name:<19}{row['requests']:>9}{row['per_second']:>8}{row['p50_ms']:>9}"
            f"{row['p95_ms']:>9}{row['p99_ms']:>9}{row['max_ms']!s:>9}{row['errors']:>7}"
            f"{row['unavailable_503']:>6}"
        )
        for problem in row["first_errors"]:
            print(f"    error: {problem}")
    totals = checked["totals"]
    print(f"\nsync answers: {dict(statuses)}")
    print(
        f"stored vs acknowledged: runs {totals.get('runs_stored', 0)}/"
        f"{totals.get('runs_acknowledged', 0)}, laps {totals.get('laps_stored', 0)}/"
        f"{totals.get('laps_acknowledged', 0)}, phone check-ins "
        f"{totals.get('phone_checkins_stored', 0)}/"
        f"{totals.get('phone_checkins_acknowledged', 0)}, officer check-ins "
        f"{totals.get('officer_checkins_stored', 0)}/{totals.get('officers_confirmed', 0)}"
        f" of {len(officers)} officers"
    )
    for problem in checked["problems"][:10]:
        print(f"    PROBLEM: {problem}")
    print(
        f"CPU seconds: gunicorn {run['server_cpu_s']}, PostgreSQL {run['postgres_cpu_s']}, "
        f"load generator {run['client_cpu_s']} (of {os.cpu_count()} x "
        f"{run['with_drain_seconds']:g} s); load average {load_before[0]} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    if args.kill_every:
        print(
            f"fault mode: {run['kill_rounds']} kill rounds, {run['backends_terminated']} "
            f"backends terminated; {unavailable} answers were 503 'try again', then retried"
        )
    print(
        f"gunicorn log: {run['gunicorn_log_tracebacks']} tracebacks; last lines "
        f"{run['gunicorn_log_last_lines']}"
    )
    print(
        f"result: {'OK' if ok else 'NOT OK'} - {errors} errors, "
        f"{len(checked['problems'])} storage problems"
    )

    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "soak",
        "seconds": args.seconds,
        "gunicorn_workers": args.workers,
        "gunicorn_worker_class": "sync",
        "readers": args.readers,
        "phones": args.phones,
        "repeat_share": args.repeat_share,
        "phone_think_s": args.phone_think,
        "checkins_per_minute": args.checkins_per_minute,
        "officers": len(officers),
        "rate_limits": "on; PROXY_FIX on, one X-Forwarded-For address per officer",
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "run": run,
        "endpoints": endpoints,
        "errors": errors,
        "unavailable_503": unavailable,
        "kill_every_s": args.kill_every or None,
        "sync_statuses": dict(statuses),
        "stored": checked,
        "ok": ok,
    }
    path = OUT / ("soak_faults.json" if args.kill_every else "soak.json")
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
