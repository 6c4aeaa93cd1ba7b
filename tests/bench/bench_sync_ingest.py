"""Sync ingest benchmark: runs per second into POST /api/v1/sync under gunicorn.

    .venv/bin/python tests/bench/bench_sync_ingest.py [--seconds 8] [--clients 10]

For each database (a temporary SQLite file, then PostgreSQL from BENCH_DATABASE_URL or
TEST_DATABASE_URL, default postgresql://root@127.0.0.1:5432/t_sync, whose tables it EMPTIES)
it starts gunicorn with 2 workers on a free loopback port, seeds a runner, hero, track and
device token, then drives 10 concurrent clients (threads, http.client, one connection each):

1. GET /healthz for a fixed time: the floor, a trivial JSON route that touches the database;
2. POST /api/v1/sync for the same time, one finished 7-lap run with one check-in per push
   (--runs-per-push N for batches), 30% of runs repeating a run already stored (each must
   answer duplicate).

It checks every reply, then that the database holds exactly the distinct runs pushed with
gapless mile numbers, and prints runs/s beside healthz requests/s and their ratio. JSON goes
to tests/bench/out/bench_sync_ingest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
REPEAT_SHARE = 0.30
sys.path.insert(0, str(ROOT))
from tests.bench._gunicorn import Gunicorn  # noqa: E402
from tests.factories import escort  # noqa: E402


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def seed(database_url: str) -> dict:
    """Empty the database, then add a runner, a hero, a 7-lap track and a device token."""

    from r4h_pwa import create_app
    from r4h_pwa.auth.service import issue_device_token
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Runner
    from tests.factories import make_hero, make_track

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(database_url), "PASSWORD_HASH_METHOD": "pbkdf2"}
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        runner = Runner(email="bench@example.org", name="Bench Runner", starting_mile_count=1293)
        runner.set_password("bench-password-123")
        db.session.add(runner)
        hero = make_hero(name="Bench Hero")
        track = make_track(name="Bench Track")
        token, device = issue_device_token(runner, "Bench phone", 30)
        db.session.commit()
        seeded = {
            "token": token,
            "device_id": device.id,
            "runner_id": runner.id,
            "hero_id": hero.id,
            "track_id": track.id,
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


def check_stored(database_url: str, runner_id: int, expected_runs: int) -> dict:
    """What the database holds after the load: run count and whether numbers are gapless."""
    import sqlalchemy as sa

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Lap, Run, Runner

    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(database_url)})
    with app.app_context():
        numbers = db.session.scalars(
            sa.select(Run.mile_number).where(Run.runner_id == runner_id).order_by(Run.mile_number)
        ).all()
        laps = db.session.scalar(sa.select(sa.func.count()).select_from(Lap))
        runner = db.session.get(Runner, runner_id)
        result = {
            "runs_stored": len(numbers),
            "laps_stored": laps,
            "runs_expected": expected_runs,
            "gapless": numbers == list(range(1294, 1294 + len(numbers))),
            "miles_logged": runner.miles_logged,
        }
        db.session.remove()
        db.engine.dispose()
    return result


def run_payload(seeded: dict) -> dict:
    """A finished 7-lap run with one escort, as the phone sends it."""
    return {
        "id": str(uuid.uuid4()),
        "hero_id": seeded["hero_id"],
        "track_id": seeded["track_id"],
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:11:00Z",
        "laps": [{"seq": n, "elapsed_ms": n * 92_345} for n in range(1, 8)],
        "checkins": [escort()],
        "words": "For Officer Bench Hero, who kept Example County safe.",
        "video_url": "https://example.org/video/1",
    }


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drive(port: int, clients: int, seconds: float, make_request, max_requests: int) -> dict:
    """Run `clients` threads for `seconds` (or max_requests in all); make_request(conn, i)."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    issued = [0]

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(index)
        while time.monotonic() < stop_at:
            with lock:
                if issued[0] >= max_requests:
                    break
                issued[0] += 1
            began = time.perf_counter()
            try:
                problem = make_request(conn, rng)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if problem:
                    failures.append(problem)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "seconds": round(wall, 3),
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "failures": len(failures),
        "first_failures": failures[:5],
    }


def bench_database(label: str, database_url: str, args, workdir: Path) -> dict:
    """Seed, serve, drive healthz then sync, and check what was stored."""
    seeded = seed(database_url)
    server = Gunicorn(database_url, workdir)
    headers = {"Authorization": f"Bearer {seeded['token']}", "Content-Type": "application/json"}
    pushed: list[dict] = []  # runs whose first push was answered created
    pushed_lock = threading.Lock()
    statuses = {"created": 0, "duplicate": 0}

    def healthz(conn, rng) -> str | None:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or json.loads(body) != {"status": "ok"}:
            return f"healthz {response.status}"
        return None

    def push(conn, rng) -> str | None:
        batch = []  # (run, is_repeat)
        with pushed_lock:
            for _ in range(args.runs_per_push):
                repeat = bool(pushed) and rng.random() < REPEAT_SHARE
                batch.append((rng.choice(pushed), True) if repeat else (run_payload(seeded), False))
        body = json.dumps({"device_id": seeded["device_id"], "runs": [run for run, _ in batch]})
        conn.request("POST", "/api/v1/sync", body=body, headers=headers)
        response = conn.getresponse()
        reply = response.read()
        if response.status != 200:
            return f"sync {response.status}: {reply[:200]!r}"
        results = json.loads(reply)["results"]
        with pushed_lock:
            for (run, repeat), result in zip(batch, results, strict=True):
                status = result["status"]
                if status not in statuses or (status == "duplicate") != repeat:
                    return f"sync answered {status} for a {'repeat' if repeat else 'new run'}"
                statuses[status] += 1
                if status == "created":
                    pushed.append(run)
        return None

    try:
        for _ in range(20):  # warm both workers and their connection pools
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            healthz(conn, None)
            conn.close()
        floor = drive(server.port, args.clients, args.seconds, healthz, args.max_requests)
        sync = drive(server.port, args.clients, args.seconds, push, args.max_requests)
    finally:
        server.stop()
    stored = check_stored(database_url, seeded["runner_id"], statuses["created"])
    sync["runs_per_second"] = round(sync["per_second"] * args.runs_per_push, 1)
    sync["created"] = statuses["created"]
    sync["duplicate"] = statuses["duplicate"]
    return {
        "database": label,
        "healthz": floor,
        "sync": sync,
        "ratio_sync_to_healthz": round(sync["runs_per_second"] / floor["per_second"], 3),
        "stored": stored,
        "ok": (
            not floor["failures"]
            and not sync["failures"]
            and stored["runs_stored"] == stored["runs_expected"] == stored["miles_logged"]
            and stored["laps_stored"] == 7 * stored["runs_expected"]
            and stored["gapless"]
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per phase (default 8)")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per phase")
    parser.add_argument("--runs-per-push", type=int, default=1, help="runs per request (<= 50)")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    postgres_url = os.environ.get(
        "BENCH_DATABASE_URL",
        os.environ.get("TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/t_sync"),
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = []
    try:
        targets = [("sqlite", f"sqlite:///{workdir / 'bench.sqlite'}")]
        if not args.skip_postgres:
            targets.append(("postgresql", postgres_url))
        for label, url in targets:
            results.append(bench_database(label, url, args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\nSync ingest: {args.clients} clients, {args.seconds:g} s per phase, gunicorn -w 2, "
        f"{args.runs_per_push} run(s) of 7 laps and 1 check-in per push, "
        f"{REPEAT_SHARE:.0%} of runs repeated\n"
    )
    header = (
        f"{'database':<11} {'healthz req/s':>13} {'sync runs/s':>11} {'ratio':>6} "
        f"{'push p50 ms':>11} {'push p99 ms':>11} {'created':>7} {'dup':>5} {'fail':>4}  ok"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        s = r["sync"]
        print(
            f"{r['database']:<11} {r['healthz']['per_second']:>13.1f} "
            f"{s['runs_per_second']:>11.1f} "
            f"{r['ratio_sync_to_healthz']:>6.3f} {s['p50_ms']:>11.2f} {s['p99_ms']:>11.2f} "
            f"{s['created']:>7} {s['duplicate']:>5} "
            f"{s['failures'] + r['healthz']['failures']:>4}  {'yes' if r['ok'] else 'NO'}"
        )
        for failure in s["first_failures"] + r["healthz"]["first_failures"]:
            print(f"    failure: {failure}")
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "sync_ingest",
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "gunicorn_workers": 2,
        "repeat_share": REPEAT_SHARE,
        "runs_per_push": args.runs_per_push,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }
    suffix = "" if args.runs_per_push == 1 else f"_batch{args.runs_per_push}"
    path = OUT / f"bench_sync_ingest{suffix}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\n{os.cpu_count()} CPUs; load average {load_before[0]} before, "
        f"{report['load_average_after'][0]} after (other work on the machine skews both columns)"
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
