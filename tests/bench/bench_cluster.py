"""The production setup's throughput, through nginx: family page, wall and sync beside /healthz.

    .venv/bin/python -m tests.bench.bench_cluster [--seconds 4] [--rounds 3] [--clients 10]
        [--workers 2] [--soak-seconds 20]

It starts the cluster of tests/cluster/harness.py (nginx over HTTPS from deploy/, two gunicorn
servers from deploy/gunicorn.conf.py with --workers sync workers each, a new PostgreSQL
database migrated by `flask db upgrade`, Redis) and seeds 300 synced runs with shipments
(the family pages and the wall) and one runner with a device token. Then, through nginx, with
--clients threads each keeping one HTTPS connection open (TLS handshakes are not measured):

1. first visits: GET /healthz, then every one of the 300 family pages exactly once (in a
   shuffled order, shared by the clients: each page is rendered, as none is in the cache
   yet), then /healthz again; the ratio of these first visits is reported apart, as what
   the cache costs before it helps (no goal). A page read at random from 300 takes about
   1,000 reads before each was seen once, so without this pass the first two rounds below
   would be part first visits and part cache hits, in shares that move with the machine's
   speed (seen: 233 of 300 pages cached after the first round, 298 after the third);
2. side by side, --rounds times, --seconds each, in this order: GET /healthz, GET /f/<token>
   (a random family page), GET /honor (the wall), POST /api/v1/sync (one finished 7-lap run
   with one check-in per push, 30% repeats of runs already stored, one runner: as
   bench_sync_ingest.py); then /healthz once more. Each phase's ratio is to the mean of the
   /healthz phases that open its round and the next one, and the figure is the median of
   the rounds (on a shared box the floor itself moves by 2-3x within a minute; short
   interleaved rounds keep each ratio's two sides close in time). Goals: family and wall
   >= 0.9, sync >= 0.35. Each phase also notes the gunicorn workers booted during it
   (deploy/gunicorn.conf.py's max_requests replaces a worker every ~5,000 requests, and the
   new one imports the app on the same 2 cores) and the family pages cached at its start;
3. a soak of --soak-seconds: all four at once (half the clients read family pages, a quarter
   the wall, the rest push runs; one more probes /healthz), p50/p95/p99 per endpoint.

Every answer is checked (status, the hero's name, sync statuses), and afterwards the database
must hold each distinct run once with gapless mile numbers. The load generator is one Python
process on the same 2 cores. JSON goes to tests/bench/out/bench_cluster.json. The database
is dropped and the Redis keys deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
sys.path.insert(0, str(ROOT))
from tests.bench.bench_soak import seed  # noqa: E402
from tests.cluster.harness import Cluster  # noqa: E402
from tests.factories import escort  # noqa: E402

GOALS = {"family": 0.9, "wall": 0.9, "sync": 0.35}
REPEAT_SHARE = 0.30
MAX_REQUESTS = 300_000


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Finished(Exception):
    """A request function has nothing left to ask (every page was visited once)."""


class Load:
    """What every endpoint needs: the seeded data, and the sync runs stored so far."""

    def __init__(self, seeded: dict):
        self.family = seeded["family"]
        phone = seeded["phones"][0]
        self.phone = phone
        self.track_id = seeded["track_id"]
        self.headers = {
            "Authorization": f"Bearer {phone['token']}",
            "Content-Type": "application/json",
        }
        self.lock = threading.Lock()
        self.stored: list[dict] = []
        self.created = 0
        self.duplicates = 0

    def _run(self) -> dict:
        return {
            "id": str(uuid.uuid4()),
            "hero_id": self.phone["hero_id"],
            "track_id": self.track_id,
            "started_at": "2025-03-01T14:00:00Z",
            "finished_at": "2025-03-01T14:11:00Z",
            "laps": [{"seq": n, "elapsed_ms": n * 92_345} for n in range(1, 8)],
            "checkins": [escort()],
            "words": "For a hero.",
            "video_url": "",
        }

    def healthz(self, conn, rng) -> str | None:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
        return None if response.status == 200 and b'"ok"' in body else f"healthz {response.status}"

    def family_page(self, conn, rng) -> str | None:
        return self._family(conn, *rng.choice(self.family))

    def _family(self, conn, token: str, hero: str) -> str | None:
        conn.request("GET", f"/f/{token}", headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200 or hero not in body:
            return f"family {response.status}"
        return None

    def first_visits(self) -> object:
        """A request function that visits each family page once, in a shuffled order shared
        by every client, then raises Finished."""
        pages = list(self.family)
        random.Random(13).shuffle(pages)

        def visit(conn, rng) -> str | None:
            with self.lock:
                if not pages:
                    raise Finished
                token, hero = pages.pop()
            return self._family(conn, token, hero)

        return visit

    def wall(self, conn, rng) -> str | None:
        conn.request("GET", "/honor", headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200 or "Hero Number" not in body:
            return f"wall {response.status}"
        return None

    def sync(self, conn, rng) -> str | None:
        with self.lock:
            repeat = bool(self.stored) and rng.random() < REPEAT_SHARE
            run = rng.choice(self.stored) if repeat else self._run()
        body = json.dumps({"device_id": self.phone["device_id"], "runs": [run]})
        conn.request("POST", "/api/v1/sync", body=body, headers=self.headers)
        response = conn.getresponse()
        reply = response.read()
        if response.status != 200:
            return f"sync {response.status}: {reply[:120]!r}"
        status = json.loads(reply)["results"][0]["status"]
        if status != ("duplicate" if repeat else "created"):
            return f"sync answered {status} for a {'repeat' if repeat else 'new run'}"
        with self.lock:
            if repeat:
                self.duplicates += 1
            else:
                self.created += 1
                self.stored.append(run)
        return None


def drive(cluster: Cluster, plan: list[tuple[str, object]], seconds: float) -> dict:
    """One thread per (name, request) in plan for `seconds`; latencies and failures per name."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {name: [] for name, _ in plan}
    failures: dict[str, list[str]] = {name: [] for name, _ in plan}
    count = [0]

    def client(index: int, name: str, make_request) -> None:
        rng = random.Random(index)
        conn = cluster.connect()
        while time.monotonic() < stop_at:
            with lock:
                if count[0] >= MAX_REQUESTS:
                    break
                count[0] += 1
            began = time.perf_counter()
            try:
                problem = make_request(conn, rng)
            except Finished:
                break
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # nginx closed a kept-alive connection: open another
                conn = cluster.connect()
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            with lock:
                latencies[name].append(elapsed)
                if problem:
                    failures[name].append(problem)
        conn.close()

    threads = [
        threading.Thread(target=client, args=(i, name, request))
        for i, (name, request) in enumerate(plan)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    results = {}
    for name in latencies:
        ordered = sorted(latencies[name])
        results[name] = {
            "requests": len(ordered),
            "per_second": round(len(ordered) / wall, 1),
            "p50_ms": round(_percentile(ordered, 0.50) * 1000, 1),
            "p95_ms": round(_percentile(ordered, 0.95) * 1000, 1),
            "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
            "failures": len(failures[name]),
            "first_failures": failures[name][:3],
        }
    return results


def _state(cluster: Cluster) -> dict:
    """What can move a phase's figure besides its endpoint: gunicorn workers booted so far
    (max_requests replaces a worker now and then; a new one imports the app on the same
    cores) and family pages in the page cache (a page not yet there is rendered)."""
    boots = sum(server.log().count("Booting worker") for server in cluster.servers)
    pages = sum(
        1
        for _ in cluster.redis.client.scan_iter(
            match=f"{cluster.redis.prefix}:page:family:*", count=1000
        )
    )
    return {"boots": boots, "family_pages": pages}


def check_stored(database_url: str, load: Load) -> dict:
    """Each distinct run pushed is stored once, and the runner's mile numbers are gapless."""
    import sqlalchemy as sa

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Lap, Run

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url.replace(
                "postgresql://", "postgresql+psycopg://", 1
            )
        }
    )
    runner_id, start = load.phone["runner_id"], load.phone["start"]
    with app.app_context():
        numbers = db.session.scalars(
            sa.select(Run.mile_number).where(Run.runner_id == runner_id).order_by(Run.mile_number)
        ).all()
        laps = db.session.scalar(
            sa.select(sa.func.count()).select_from(Lap).join(Run).where(Run.runner_id == runner_id)
        )
        db.engine.dispose()
    return {
        "runs_stored": len(numbers),
        "runs_created": load.created,
        "laps_stored": laps,
        "gapless": numbers == list(range(start + 1, start + 1 + len(numbers))),
        "ok": len(numbers) == load.created
        and laps == 7 * load.created
        and numbers == list(range(start + 1, start + 1 + len(numbers))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="each side-by-side phase")
    parser.add_argument("--rounds", type=int, default=3, help="side-by-side rounds")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="sync workers per app server")
    parser.add_argument("--soak-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if not (
        1 <= args.seconds <= 120
        and 1 <= args.soak_seconds <= 600
        and 1 <= args.clients <= 200
        and 1 <= args.rounds <= 20
    ):
        parser.error("--seconds 1-120, --rounds 1-20, --soak-seconds 1-600, --clients 1-200")

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as workdir:
        cluster = Cluster(Path(workdir), workers=args.workers)
        try:
            load = Load(seed(cluster.database_url, phones=1, shipments=300, reset=False))
            endpoints = {
                "healthz": load.healthz,
                "family": load.family_page,
                "wall": load.wall,
                "sync": load.sync,
            }
            drive(cluster, [("healthz", load.healthz)] * args.clients, 2)  # warm up
            first = [drive(cluster, [("healthz", load.healthz)] * args.clients, args.seconds)]
            first.append(drive(cluster, [("family", load.first_visits())] * args.clients, 120))
            first.append(drive(cluster, [("healthz", load.healthz)] * args.clients, args.seconds))
            beside = (first[0]["healthz"]["per_second"] + first[2]["healthz"]["per_second"]) / 2
            first_visits = {
                **first[1]["family"],
                "ratio": round(first[1]["family"]["per_second"] / beside, 3),
                "family_pages_cached": _state(cluster)["family_pages"],
            }
            phases = []
            order = [*("healthz", "family", "wall", "sync") * args.rounds, "healthz"]
            for name in order:
                before = _state(cluster)
                result = drive(cluster, [(name, endpoints[name])] * args.clients, args.seconds)
                after = _state(cluster)
                result[name]["worker_boots"] = after["boots"] - before["boots"]
                result[name]["family_pages_cached"] = before["family_pages"]
                phases.append((name, result[name]))
            soak_plan = (
                [("family", load.family_page)] * max(1, args.clients // 2)
                + [("wall", load.wall)] * max(1, args.clients // 4)
                + [("sync", load.sync)]
                * max(1, args.clients - args.clients // 2 - args.clients // 4)
                + [("healthz", load.healthz)]
            )
            soak = drive(cluster, soak_plan, args.soak_seconds)
            stored = check_stored(cluster.database_url, load)
            tracebacks = sum(server.log().count("Traceback") for server in cluster.servers)
        finally:
            cluster.stop()

    floors = [result["per_second"] for name, result in phases if name == "healthz"]
    floor = sum(floors) / len(floors)
    per_round: dict[str, list[float]] = {name: [] for name in GOALS}
    for index, (name, result) in enumerate(phases):
        if name in GOALS:
            round_index = index // 4
            beside = (floors[round_index] + floors[round_index + 1]) / 2
            per_round[name].append(round(result["per_second"] / beside, 3))
            result["ratio"] = per_round[name][-1]
    ratios = {name: statistics.median(values) for name, values in per_round.items()}
    failures = (
        sum(r["failures"] for _, r in phases)
        + sum(r["failures"] for r in soak.values())
        + first_visits["failures"]
    )
    ok = failures == 0 and stored["ok"] and tracebacks == 0

    print(
        f"\nThrough nginx (HTTPS, kept-alive connections) to 2 gunicorn servers x "
        f"{args.workers} sync workers, PostgreSQL, Redis; {os.cpu_count()} CPUs; "
        f"{args.clients} clients, {args.seconds:g} s per phase\n"
    )
    print(
        f"First visits: {first_visits['requests']} family pages, each rendered once: "
        f"{first_visits['per_second']} req/s, p99 {first_visits['p99_ms']} ms, ratio to "
        f"/healthz {first_visits['ratio']:.3f} (no goal), {first_visits['failures']} failures, "
        f"{first_visits['family_pages_cached']} pages cached after\n"
    )
    print(
        f"{'phase':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'fail':>6}"
        f"{'boots':>7}{'cached':>8}"
    )
    for name, result in phases:
        ratio = f"{result['ratio']:.3f}" if "ratio" in result else ""
        print(
            f"{name:<10}{result['per_second']:>9}{result['p50_ms']:>9}{result['p99_ms']:>9}"
            f"{ratio:>8}{result['failures']:>6}{result['worker_boots']:>7}"
            f"{result['family_pages_cached']:>8}"
        )
    print(
        "\nmedian ratio to /healthz: "
        + ", ".join(f"{name} {ratios[name]:.3f} (goal >= {GOALS[name]})" for name in GOALS)
    )
    print(f"\nSoak, {args.soak_seconds:g} s, all at once ({len(soak_plan)} clients):")
    print(
        f"{'endpoint':<10}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'fail':>6}"
    )
    for name, result in soak.items():
        print(
            f"{name:<10}{result['requests']:>9}{result['per_second']:>9}{result['p50_ms']:>9}"
            f"{result['p95_ms']:>9}{result['p99_ms']:>9}{result['failures']:>6}"
        )
    print(
        f"\nstored: {stored}; sync created {load.created}, duplicates {load.duplicates}; "
        f"app tracebacks {tracebacks}"
    )
    for name, result in [*phases, *soak.items()]:
        for problem in result["first_failures"]:
            print(f"    {name} failure: {problem}")
    print(f"result: {'OK' if ok else 'NOT OK'}")

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_cluster.json").write_text(
        json.dumps(
            {
                "benchmark": "cluster",
                "seconds": args.seconds,
                "rounds": args.rounds,
                "clients": args.clients,
                "ratios_per_round": per_round,
                "workers_per_server": args.workers,
                "servers": 2,
                "soak_seconds": args.soak_seconds,
                "cpus": os.cpu_count(),
                "healthz_per_second": round(floor, 1),
                "phases": [{"name": name, **result} for name, result in phases],
                "ratios": ratios,
                "goals": GOALS,
                "first_visits": first_visits,
                "soak": soak,
                "stored": stored,
                "tracebacks": tracebacks,
                "ok": ok,
            },
            indent=2,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
