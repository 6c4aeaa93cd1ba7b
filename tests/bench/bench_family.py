"""Family page and wall benchmark: GET /f/<token> and GET /honor against GET /healthz.

    .venv/bin/python tests/bench/bench_family.py [--seconds 5] [--rounds 2] [--clients 8]

It EMPTIES the tables of BENCH_DATABASE_URL or TEST_DATABASE_URL (default
postgresql://root@127.0.0.1:5432/t_flags) and seeds 300 synced runs, each with 7 laps, three
check-ins (two public) and a shipment. Then it starts gunicorn (wsgi:app, 2 sync workers) on
a free loopback port and drives --clients threads (http.client, loopback only, every request
with a timeout) in alternating phases of --seconds each, --rounds times:

1. GET /healthz: the trivial route of the same app (one SELECT 1), the floor;
2. GET /f/<token> for a random seeded shipment, as a family's first visit (no cookie, so the
   page makes a session for its CSRF token every time);
3. GET /honor, the wall, as a first visit (no If-None-Match: the full page every time).

The app runs as in production, with its page cache in Redis (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/0, under a key prefix of this run's own): the pages are rendered once
and then served from the cache, since nothing is written during the phases.

Every reply is checked: 200, the hero's name in the page, the noindex and no-referrer
headers. It prints requests/s, p50, p99 and the CPU per request (from /proc) of the gunicorn
workers, the PostgreSQL backends and this client, side by side, and the ratio family/healthz
and wall/healthz of requests/s; the goal (issue 13, through nginx) is at least 0.9 for both.
JSON goes to tests/bench/out/bench_family.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
DEFAULT_DB = "postgresql://root@127.0.0.1:5432/t_flags"
SHIPMENTS = 300
GOAL = 0.9
TIMEOUT = 30
sys.path.insert(0, str(ROOT))
from tests.bench._gunicorn import Gunicorn, cpu_of  # noqa: E402


def seed(database_url: str) -> list[tuple[str, str]]:
    """Empty the database; add SHIPMENTS synced runs with laps, check-ins and a shipment each."""
    from datetime import UTC, date, datetime, timedelta

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Checkin, Lap, Run, Runner, Shipment, Track
    from tests.factories import make_hero

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        runner = Runner(email="runner@example.org", name="Zechariah", starting_mile_count=1000)
        runner.set_password("bench-password-123")
        track = Track(name="Winter Springs High School", laps_per_mile=7, min_lap_seconds=40)
        db.session.add_all([runner, track])
        started = datetime(2023, 2, 15, 1, 30, tzinfo=UTC)
        shipments = []
        for n in range(SHIPMENTS):
            hero = make_hero(
                name=f"Hero Number {n}",
                state="CO",
                end_of_watch=date(2023, 2, 11),
                story="He served his community for eleven years.\n\nHe leaves a wife and two "
                "children.",
                fundraiser_url="https://fund.example.org/hero",
                fundraiser_verified_by="The chief",
            )
            run = Run(
                hero=hero,
                runner=runner,
                track=track,
                status="synced",
                started_at=started + timedelta(days=n),
                finished_at=started + timedelta(days=n),
                synced_at=started + timedelta(days=n),
                mile_number=1001 + n,
                words="I ran for him and his family tonight.",
                video_url="https://video.example.org/run",
            )
            run.laps = [Lap(seq=s, elapsed_ms=s * 88_000 + s * s * 150) for s in range(1, 8)]
            run.checkins = [
                Checkin(name="Sgt. Dana Reyes", agency="Winter Springs Police", public=True),
                Checkin(name="Ofc. Sam Lee", agency="Seminole County Sheriff", public=True),
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
            shipments.append((shipment, hero))
        db.session.commit()
        pairs = [(s.family_token, h.name) for s, h in shipments]
        db.session.remove()
        db.engine.dispose()
    return pairs


def _backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (same machine)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def drive(port: int, clients: int, seconds: float, make_request) -> dict:
    """`clients` threads for `seconds`, each calling make_request(conn, rng) in a loop."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    sizes: list[int] = []

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        rng = random.Random(index)
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                problem, size = make_request(conn, rng)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                problem, size = f"{type(exc).__name__}: {exc}", 0
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                sizes.append(size)
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
        "latencies": latencies,
        "failures": failures,
        "bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
    }


def _summary(phases: list[dict]) -> dict:
    latencies = [x for p in phases for x in p["latencies"]]
    failures = [x for p in phases for x in p["failures"]]
    requests = sum(p["requests"] for p in phases)
    seconds = sum(p["seconds"] for p in phases)

    def per_request(key: str) -> float | None:
        return round(sum(p[key] for p in phases) / requests * 1000, 3) if requests else None

    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "server_cpu_ms_per_request": per_request("server_cpu_s"),
        "postgres_cpu_ms_per_request": per_request("postgres_cpu_s"),
        "client_cpu_ms_per_request": per_request("client_cpu_s"),
        "per_second": round(requests / seconds, 1),
        "per_second_by_round": [round(p["requests"] / p["seconds"], 1) for p in phases],
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "mean_response_bytes": round(sum(p["bytes"] for p in phases) / len(phases)),
        "failures": len(failures),
        "first_failures": failures[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="healthz/family pairs (default 2)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", os.environ.get("TEST_DATABASE_URL", DEFAULT_DB)
    )
    pages = seed(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-family-"))
    load_before = [round(x, 2) for x in os.getloadavg()]

    def healthz(conn, rng):
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or json.loads(body) != {"status": "ok"}:
            return f"healthz {response.status}", len(body)
        return None, len(body)

    def family(conn, rng):
        token, hero = rng.choice(pages)
        conn.request("GET", f"/f/{token}", headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            return f"family {response.status}", len(body)
        if hero.encode() not in body or b"Ofc. Quiet Person" in body:
            return "family page content wrong", len(body)
        if "noindex" not in (response.getheader("X-Robots-Tag") or ""):
            return "family page without X-Robots-Tag noindex", len(body)
        if response.getheader("Referrer-Policy") != "no-referrer":
            return "family page without Referrer-Policy no-referrer", len(body)
        return None, len(body)

    def wall(conn, rng):
        conn.request("GET", "/honor", headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or b"Wall of honor" not in body:
            return f"wall {response.status}", len(body)
        if response.getheader("ETag") is None:
            return "wall without an ETag", len(body)
        return None, len(body)

    cache = {
        "R4H_PAGE_CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "R4H_PAGE_CACHE_PREFIX": f"r4h-bench-{uuid.uuid4().hex[:8]}:",
    }
    server = Gunicorn(database_url, workdir, args.workers, env=cache)
    phases: dict[str, list[dict]] = {"healthz": [], "family": [], "wall": []}
    try:
        for _ in range(30):  # warm both workers: templates compiled, pools open
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
            healthz(conn, None)
            family(conn, random.Random(0))
            wall(conn, None)
            conn.close()
        for _ in range(args.rounds):
            for name, request in (("healthz", healthz), ("family", family), ("wall", wall)):
                backends = _backend_pids(database_url)
                before = (server.cpu_seconds(), cpu_of(backends), time.process_time())
                phase = drive(server.port, args.clients, args.seconds, request)
                after = (server.cpu_seconds(), cpu_of(backends), time.process_time())
                phase["server_cpu_s"] = after[0] - before[0]
                phase["postgres_cpu_s"] = after[1] - before[1]
                phase["client_cpu_s"] = after[2] - before[2]
                phases[name].append(phase)
    finally:
        server.stop()
    results = {name: _summary(runs) for name, runs in phases.items()}
    ratio = results["family"]["per_second"] / results["healthz"]["per_second"]
    wall_ratio = results["wall"]["per_second"] / results["healthz"]["per_second"]
    ok = min(ratio, wall_ratio) >= GOAL and not any(r["failures"] for r in results.values())

    print(
        f"\nFamily page and wall vs /healthz: gunicorn -w {args.workers} on PostgreSQL, "
        f"{args.clients} clients, {args.rounds} x {args.seconds:g} s per route, alternating\n"
    )
    header = (
        f"{'route':<16} {'req/s':>8} {'by round':>16} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'app cpu':>8} {'pg cpu':>7} {'client':>7} {'bytes':>6} {'fail':>4}"
    )
    print(header)
    print("-" * len(header))
    for name, path in (
        ("healthz", "GET /healthz"),
        ("family", "GET /f/<token>"),
        ("wall", "GET /honor"),
    ):
        r = results[name]
        rounds = "/".join(f"{x:g}" for x in r["per_second_by_round"])
        print(
            f"{path:<16} {r['per_second']:>8.1f} {rounds:>16} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f} {r['server_cpu_ms_per_request']:>8.3f} "
            f"{r['postgres_cpu_ms_per_request']:>7.3f} {r['client_cpu_ms_per_request']:>7.3f} "
            f"{r['mean_response_bytes']:>6} {r['failures']:>4}"
        )
        for failure in r["first_failures"]:
            print(f"    failure: {failure}")
    cpu_ratio = (
        results["healthz"]["server_cpu_ms_per_request"]
        / results["family"]["server_cpu_ms_per_request"]
    )
    print(
        f"\nratio family/healthz = {ratio:.3f}, wall/healthz = {wall_ratio:.3f} "
        f"(goal >= {GOAL} each): {'met' if ok else 'NOT MET'}"
    )
    print(
        "cpu columns: ms of CPU per request in gunicorn (app), in the PostgreSQL backends "
        "(pg) and in this load generator (client)"
    )
    print(
        f"app CPU per request, healthz/family = {cpu_ratio:.3f} (the ratio as CPU cost, which "
        "other load on the machine skews less than requests/s)"
    )

    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "family_page",
        "database": "postgresql",
        "gunicorn_workers": args.workers,
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "shipments_seeded": SHIPMENTS,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "ratio_family_to_healthz": round(ratio, 3),
        "ratio_wall_to_healthz": round(wall_ratio, 3),
        "cpu_ratio_healthz_to_family": round(cpu_ratio, 3),
        "goal": GOAL,
        "ok": ok,
    }
    path = OUT / "bench_family.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{os.cpu_count()} CPUs; load average {load_before[0]} before, "
        f"{report['load_average_after'][0]} after (other work on the machine skews both)"
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
