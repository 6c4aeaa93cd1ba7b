"""Operations on the running cluster: a backup taken while phones sync and officers check in
through nginx, restored into a new database; and /metrics through nginx.

The backup test checks the claim of r4h_pwa/backup.py that the manifest (each table's row
count and content hash) is computed in the same snapshot that pg_dump writes: runs are
stored while the backup runs, so a manifest read outside the snapshot would not match the
dump, and the restore would fail its own check or this test's.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from r4h_pwa import backup as backups
from tests.bench.bench_soak import Officer, _app
from tests.cluster.harness import Database
from tests.cluster.test_cluster import OutboxPhone, RetryingRecorder

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

PHONES = 6
OFFICERS = 8
WARM_UP = 2.0  # seconds of load before the backup starts
AFTER = 1.0  # seconds of load after it ended


def _seed(database_url: str) -> dict:
    """Phones (a runner and a device token each) and planned runs for officers to check in to;
    the names are this test's own, so it shares the cluster with the other tests."""
    from r4h_pwa.auth.service import issue_device_token
    from r4h_pwa.extensions import db
    from r4h_pwa.models import Run, Runner
    from tests.factories import make_hero, make_track

    app = _app(database_url)
    with app.app_context():
        track = make_track(name="Backup Test Track")
        hero = make_hero(name="Hero Of The Backup", agency="Example County PD", state="CO")
        organiser = Runner(
            email="backup-organiser@example.org", name="Organiser", starting_mile_count=0
        )
        organiser.set_password("backup-password-123")
        db.session.add(organiser)
        devices = []
        for n in range(PHONES):
            runner = Runner(
                email=f"backup-phone{n}@example.org",
                name=f"Backup Runner {n}",
                starting_mile_count=10 * n,
            )
            runner.set_password("backup-password-123")
            db.session.add(runner)
            token, device = issue_device_token(runner, f"Backup phone {n}", 30)
            devices.append((runner, token, device))
        planned = [
            Run(
                hero=hero,
                runner=organiser,
                track=track,
                scheduled_at=datetime.now(UTC) + timedelta(minutes=30 + n),
            )
            for n in range(3)
        ]
        db.session.add_all(planned)
        db.session.commit()
        seeded = {
            "track_id": track.id,
            "phones": [
                {
                    "runner_id": r.id,
                    "start": r.starting_mile_count,
                    "token": t,
                    "device_id": d.id,
                    "hero_id": hero.id,
                }
                for r, t, d in devices
            ],
            "checkin_tokens": [run.checkin_token for run in planned],
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


def _acknowledged(phones) -> set[str]:
    """Every run id a phone has been told is stored (read while the phones keep working)."""
    while True:
        try:
            return {run_id for phone in phones for run_id in list(phone.acked)}
        except RuntimeError:  # a phone added one while we read: read again
            continue


def _rows(url: str, query: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        return set(conn.execute(query).fetchall())


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_backup_under_load_restores_exactly_the_moment_it_was_taken(cluster, tmp_path):
    seeded = _seed(cluster.database_url)
    rec = RetryingRecorder(cluster)
    stop = threading.Event()
    phones = [
        OutboxPhone(p, seeded["track_id"], 0.3, 500 + n) for n, p in enumerate(seeded["phones"])
    ]
    origin = f"https://127.0.0.1:{cluster.nginx.https_port}"
    officers = [
        Officer(1000 + n, seeded["checkin_tokens"][n % 3], double_tap=False, origin=origin)
        for n in range(OFFICERS)
    ]
    threads = [threading.Thread(target=p.work, args=(rec, stop, 0.3), daemon=True) for p in phones]

    def officers_arrive():  # one every 0.4 s, from before the backup to after it
        for officer in officers:
            threading.Thread(target=officer.work, args=(rec,), daemon=True).start()
            time.sleep(0.4)

    arrivals = threading.Thread(target=officers_arrive, daemon=True)
    for thread in [*threads, arrivals]:
        thread.start()
    time.sleep(WARM_UP)

    acked_before = _acknowledged(phones)
    checked_in_before = {o.name for o in officers if o.done}
    runs_before = _count(cluster.database_url, "runs")
    started = time.monotonic()
    output = cluster.flask("backup", str(tmp_path / "backups"))
    took = time.monotonic() - started
    runs_after = _count(cluster.database_url, "runs")
    time.sleep(AFTER)
    stop.set()
    arrivals.join(timeout=30)
    deadline = time.monotonic() + 60
    while not all(o.done for o in officers) and time.monotonic() < deadline:
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "phones hung"
    assert dict(rec.errors) == {}, rec.examples
    assert all(o.done for o in officers)

    # One backup, and the manifest the backup wrote is what `flask backup` reported.
    (folder,) = backups.backups_in(tmp_path / "backups")
    manifest = json.loads((folder / backups.MANIFEST).read_text())
    assert f"{len(manifest['tables'])} tables" in output and str(folder) in output
    taken = manifest["tables"]
    # Runs were stored while the backup ran, and the snapshot is one moment inside it.
    assert runs_before < runs_after, "no writes during the backup: the test proves nothing"
    assert runs_before <= taken["runs"]["rows"] <= runs_after

    # Restore into a new, empty database with the real command; it checks the manifest...
    restored = Database(prefix=f"{cluster.database.name}_restored")
    try:
        said = cluster.flask("restore", str(tmp_path / "backups"), database_url=restored.url)
        assert f"Restored {folder.name}" in said
        # ... and so does this test, itself: every table, its row count and content hash.
        digests = backups.database_digests(sa.engine.make_url(restored.url))
        assert digests == taken
        assert set(digests) >= {"runs", "laps", "checkins", "runners", "alembic_version"}

        # Everything acknowledged before the backup started is in it.
        restored_runs = {run_id for (run_id,) in _rows(restored.url, "SELECT id FROM runs")}
        assert acked_before and acked_before <= restored_runs
        restored_names = {name for (name,) in _rows(restored.url, "SELECT name FROM checkins")}
        assert checked_in_before <= restored_names
        # What it holds is what the source holds, row for row (runs and laps are only ever
        # added during this load): nothing half-written, nothing from another moment.
        for query in (
            "SELECT * FROM runs",
            "SELECT * FROM laps",
            "SELECT * FROM checkins WHERE run_id IN (SELECT id FROM runs "
            "WHERE synced_at IS NOT NULL)",
        ):
            assert _rows(restored.url, query) <= _rows(cluster.database_url, query)
        # And the source went on: some runs acknowledged later are not in the backup.
        assert _acknowledged(phones) - restored_runs
    finally:
        restored.drop()
    print(
        f"\nbackup under load: {took:.2f} s, runs {runs_before} -> {runs_after} during it, "
        f"{taken['runs']['rows']} in the backup; {len(acked_before)} acknowledged before; "
        f"{rec.count} requests"
    )


# ---- /metrics ----------------------------------------------------------------------------------


def _healthz_count(cluster, server) -> float:
    """GET /healthz answered 200, as one app server's /metrics counts it (any worker answers)."""
    status, _, body = cluster.request("GET", "/metrics", server=server)
    assert status == 200
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "r4h_http_requests_total" and sample.labels == {
                "endpoint": "/healthz",
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0.0


def _metric_pids(server) -> set[str]:
    """The worker processes that wrote figures to the server's metrics folder."""
    return {path.stem.rsplit("_", 1)[1] for path in server.metrics_dir.glob("*.db")}


def test_metrics_count_every_worker_of_both_servers_and_only_for_loopback(cluster):
    a, b = cluster.servers
    before = {server.port: _healthz_count(cluster, server) for server in cluster.servers}
    sent = 60
    with ThreadPoolExecutor(6) as pool:  # at once, so both workers of each server answer
        statuses = Counter(pool.map(lambda _: cluster.request("GET", "/healthz")[0], range(sent)))
    assert statuses == {200: sent}
    after = {server.port: _healthz_count(cluster, server) for server in cluster.servers}
    # nginx shared them between the servers, and the two servers' counts add up to all sent.
    delta = {port: after[port] - before[port] for port in after}
    assert all(d > 0 for d in delta.values()) and sum(delta.values()) == sent
    # Each server's figure is its workers' sum, whichever worker answers /metrics.
    for server in cluster.servers:
        assert len(_metric_pids(server)) >= 2
        assert {_healthz_count(cluster, server) for _ in range(6)} == {after[server.port]}

    # Through nginx from loopback: the metrics.
    status, headers, body = cluster.request("GET", "/metrics")
    assert status == 200 and b"r4h_http_requests_total" in body
    assert dict((k.lower(), v) for k, v in headers)["cache-control"] == "no-store"
    # From another address (127.0.0.2 is, to nginx, another machine): nginx refuses it and
    # the app never sees it; the same client reaches the rest of the site.
    assert cluster.request("GET", "/healthz", source="127.0.0.2")[0] == 200
    status, _, body = cluster.request("GET", "/metrics", source="127.0.0.2")
    assert status == 403 and b"r4h_http" not in body
    refused = cluster.nginx.access_lines("127.0.0.2 ", '"GET /metrics ')
    assert all(line.startswith("127.0.0.2 ") for line in refused)
    assert all(" 403 " in line and " up=- " in line for line in refused)
    # Should nginx let one through (a wider allow list), the app refuses it too: it checks
    # the address nginx saw, which nginx appends to X-Forwarded-For.
    status, _, body = cluster.request(
        "GET", "/metrics", server=a, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert status == 404 and b"r4h_http" not in body
