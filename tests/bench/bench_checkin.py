"""Escort check-in benchmark: 50 officers check in at once, on gunicorn and PostgreSQL.

    .venv/bin/python tests/bench/bench_checkin.py [--officers 50] [--rounds 5] [--workers 4]

It EMPTIES the tables of BENCH_DATABASE_URL or TEST_DATABASE_URL (default
postgresql://root@127.0.0.1:5432/t_checkin), seeds one planned run, and starts gunicorn
(wsgi:app, sync workers) on a free loopback port with CSRF and rate limits ON. PROXY_FIX is on
and each officer sends its own X-Forwarded-For, as phones on different networks would, so the
per-client limit sees 50 clients rather than one loopback address.

Each round, with all clients released at once by a barrier:
1. the floor: 50 concurrent clients GET /healthz (a trivial route that touches the database);
2. 50 officers, each a new phone: GET /c/<token>, read the CSRF token, POST the form; every
   fifth officer posts again at once from the same phone (a double tap), which must update
   the same check-in, not add one.

It checks every reply and that the database holds exactly officers x rounds check-ins, then
prints p50/p95/max per request kind side by side with /healthz. JSON goes to
tests/bench/out/bench_checkin.json. Loopback only; every request has a timeout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "bench" / "out"
DEFAULT_DB = "postgresql://root@127.0.0.1:5432/t_checkin"
TIMEOUT = 15
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
sys.path.insert(0, str(ROOT))
from tests.bench._gunicorn import Gunicorn  # noqa: E402


def _app_config(database_url: str, **extra) -> dict:
    """Config for a short-lived app on the benchmark's database (never the instance one)."""
    uri = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return {"SQLALCHEMY_DATABASE_URI": uri, **extra}


def seed(database_url: str) -> str:
    """Empty the tables, add one planned run, and return its check-in token."""
    from datetime import UTC, datetime, timedelta

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Run, Runner
    from tests.factories import make_hero, make_track

    app = create_app(_app_config(database_url, PASSWORD_HASH_METHOD="pbkdf2:sha256:1000"))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    with app.app_context():
        db.drop_all()
        db.create_all()
        runner = Runner(email="bench@example.org", name="Bench Runner")
        runner.set_password("bench-password-123")
        hero = make_hero(name="Bench Hero")
        track = make_track(name="Bench Track")
        run = Run(
            runner=runner,
            hero=hero,
            track=track,
            scheduled_at=datetime.now(UTC) + timedelta(hours=1),
        )
        db.session.add(run)
        db.session.commit()
        token = run.checkin_token
        db.engine.dispose()
    return token


def count_checkins(database_url: str) -> tuple[int, int]:
    """How many check-ins, and how many distinct names, are stored."""
    import sqlalchemy as sa

    from r4h_pwa import create_app
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Checkin

    app = create_app(_app_config(database_url))
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Checkin))
        names = db.session.scalar(sa.select(sa.func.count(sa.distinct(Checkin.name))))
        db.engine.dispose()
    return total, names


def request(
    port: int, method: str, path: str, body: str | None = None, headers: dict | None = None
) -> tuple[int, dict, str]:
    """One request on a fresh connection: (status, headers as a list-valued dict, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        got: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            got.setdefault(name.lower(), []).append(value)
        return response.status, got, text
    finally:
        connection.close()


class Phone:
    """One officer's phone: its own address and cookies."""

    def __init__(self, port: int, address: str):
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict | None = None) -> tuple[float, int, str]:
        headers = {"X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        status, got, text = request(self.port, method, path, body, headers)
        elapsed = (time.perf_counter() - started) * 1000
        for cookie in got.get("set-cookie", []):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return elapsed, status, text


def _burst(count: int, job) -> list:
    """Run job(i) for i in range(count) in threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait(timeout=60)
        return job(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def bench(port: int, token: str, officers: int, rounds: int) -> dict:
    """The rounds of /healthz and check-in bursts; raises if any reply is wrong."""
    timings: dict[str, list[float]] = {
        "healthz": [],
        "form": [],
        "submit": [],
        "double_tap": [],
        "officer_total": [],
    }
    failures: list[str] = []

    for round_no in range(rounds):

        def healthz(i, round_no=round_no):
            phone = Phone(port, f"10.200.{round_no}.{i + 1}")
            elapsed, status, _ = phone.send("GET", "/healthz")
            if status != 200:
                failures.append(f"healthz {status}")
            return elapsed

        timings["healthz"] += _burst(officers, healthz)

        phones = [
            Phone(port, f"10.{round_no + 1}.{i // 200}.{i % 200 + 1}") for i in range(officers)
        ]

        def officer(i, round_no=round_no, phones=phones):
            phone = phones[i]
            elapsed_get, status, page = phone.send("GET", f"/c/{token}")
            match = CSRF.search(page)
            if status != 200 or not match:
                failures.append(f"form {status}")
                return {"form": elapsed_get}
            form = {
                "name": f"Officer {round_no}-{i:02d}",
                "agency": "Orange County SO",
                "badge": str(1000 + i),
                "role": "escort",
                "csrf_token": match.group(1),
            }
            result = {"form": elapsed_get}
            if i % 5 == 0:
                # A double tap: the same phone (same cookies) sends the form twice at once.
                twin = Phone(port, phone.address)
                twin.cookies = dict(phone.cookies)
                with ThreadPoolExecutor(max_workers=2) as pool:
                    first, second = pool.map(
                        lambda p: p.send("POST", f"/c/{token}", form), (phone, twin)
                    )
                result["submit"], status_a, text_a = first
                result["double_tap"], status_b, text_b = second
                for status, text in ((status_a, text_a), (status_b, text_b)):
                    if status != 200 or "You're checked in" not in text:
                        failures.append(f"double tap {status}")
            else:
                result["submit"], status, text = phone.send("POST", f"/c/{token}", form)
                if status != 200 or "You're checked in" not in text:
                    failures.append(f"submit {status}")
            result["officer_total"] = elapsed_get + result["submit"]
            return result

        for result in _burst(officers, officer):
            for key, value in result.items():
                timings[key].append(value)

    if failures:
        raise AssertionError(f"{len(failures)} bad replies, e.g. {failures[:5]}")
    return {key: _summary(values) for key, values in timings.items() if values}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    database_url = (
        os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DB
    )
    if not database_url.startswith("postgres"):
        print("bench_checkin needs PostgreSQL", file=sys.stderr)
        return 2

    token = seed(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as workdir:
        server = Gunicorn(
            database_url,
            Path(workdir),
            args.workers,
            env={"R4H_PROXY_FIX": "true", "R4H_RATELIMIT_ENABLED": "true"},
        )
        try:
            started = time.monotonic()
            results = bench(server.port, token, args.officers, args.rounds)
            seconds = time.monotonic() - started
        finally:
            server.stop()
    stored, distinct = count_checkins(database_url)
    expected = args.officers * args.rounds
    if (stored, distinct) != (expected, expected):
        print(
            f"FAIL: {stored} check-ins ({distinct} distinct) stored, expected {expected}",
            file=sys.stderr,
        )
        return 1

    print(
        f"\nCheck-in: {args.officers} officers at once x {args.rounds} rounds, gunicorn "
        f"-w {args.workers} (sync), PostgreSQL, CSRF and rate limits on, {os.cpu_count()} CPUs"
    )
    print(f"{'request':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for key, row in results.items():
        print(f"{key:<16}{row['n']:>6}{row['p50_ms']:>10}{row['p95_ms']:>10}{row['max_ms']:>10}")
    print(
        f"stored {stored} check-ins, {distinct} distinct, none duplicated by "
        f"{args.officers // 5 * args.rounds} double taps; {seconds:.1f} s"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "officers": args.officers,
        "rounds": args.rounds,
        "gunicorn_workers": args.workers,
        "cpus": os.cpu_count(),
        "stored": stored,
        "results": results,
    }
    (OUT / "bench_checkin.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
