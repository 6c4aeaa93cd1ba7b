"""flask backup and flask restore: a consistent snapshot taken under writes, restored whole.

Phones sync runs through the app on several threads while the backup is taken. The
restored database must match the manifest table by table (row count and content hash),
and the manifest must be one moment of the source: every run acknowledged before the
backup began is in it, later writes are not, and each runner's mile counter agrees with
the runs numbered under it.
"""

import io
import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import stamp
from PIL import Image

from r4h_pwa import backup, create_app
from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Photo, Run, Runner
from tests.factories import escort, make_phone, make_shipment, run_payload
from tests.helpers import make_config, sqlalchemy_url

# Scratch databases this suite creates on the PostgreSQL server, then drops.
SCRATCH_PREFIX = os.environ.get("R4H_SCRATCH_DB_PREFIX", "r4h_scratch_")


@pytest.fixture
def app_config(app_config):
    """Enough pooled connections for the writer threads."""
    if app_config["DATABASE_URL"].startswith("postgresql"):
        app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 10, "max_overflow": 5}
    return app_config


@pytest.fixture
def new_database(database_url, tmp_path):
    """The URL of a new, empty database on the same engine (dropped afterwards)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite'}"
        return
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:10]}"
    admin = sa.engine.make_url(sqlalchemy_url(database_url))
    server = backup.libpq_url(admin)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield (
        admin.set(database=name).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "navy").save(out, "JPEG")
    return out.getvalue()


class Writers:
    """Phones syncing new runs (with an escort's check-in) until stopped; 503s are retried."""

    def __init__(self, app, phones):
        self.app, self.phones = app, phones
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._sync, args=(p,)) for p in phones]

    def _sync(self, phone):
        client = self.app.test_client()
        while not self.stop.is_set():
            run = run_payload(phone, checkins=[escort()])
            body = {"device_id": phone.device_id, "runs": [run]}
            response = client.post("/api/v1/sync", json=body, headers=phone.headers)
            if response.status_code == 503:
                continue  # what the phone does: keep it in the outbox and try again
            if response.status_code != 200:
                self.failures.append(response.get_data(as_text=True))
                return
            with self.lock:
                self.acknowledged.append(run["id"])

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, total: int) -> None:
        """Block until this many runs are acknowledged (or a writer failed)."""
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while self.count() < total and not self.failures:
            assert datetime.now(UTC) < deadline, "the writers stalled"
            self.stop.wait(0.01)
        assert not self.failures, self.failures[0]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def _seed(app, db):
    """Phones, a run with a shipment and a photo; answers the phones and that run's id."""
    phones = [make_phone(db) for _ in range(3)]
    client = app.test_client()
    first = run_payload(phones[0])
    body = {"device_id": phones[0].device_id, "runs": [first]}
    assert client.post("/api/v1/sync", json=body, headers=phones[0].headers).status_code == 200
    put = client.put(
        f"/api/v1/runs/{first['id']}/photos/{uuid.uuid4()}",
        data=_jpeg(),
        headers={**phones[0].headers, "Content-Type": "image/jpeg"},
    )
    assert put.status_code == 201, put.json
    make_shipment(db.session.get(Run, first["id"]))
    db.session.commit()
    stamp()  # the schema revision the manifest names
    return phones, first["id"]


def test_a_backup_under_writes_restores_the_moment_it_was_taken(
    app, db, cli, tmp_path, new_database
):
    phones, seeded = _seed(app, db)
    folder = tmp_path / "backups"
    with Writers(app, phones) as writers:
        writers.wait_for(6)
        before = set(writers.acknowledged[: writers.count()])
        made = cli.invoke(args=["backup", str(folder)])
        assert made.exit_code == 0, made.output
        writers.wait_for(writers.count() + 6)  # the source moves on after the snapshot
    after = set(writers.acknowledged)
    [taken] = backup.backups_in(folder)
    manifest = json.loads((taken / "manifest.json").read_text())
    head = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert manifest["schema_revision"] == head is not None
    assert manifest["tables"]["photos"]["rows"] == 1
    source_now = backup.database_digests(_db.engine.url)
    assert source_now["runs"]["rows"] > manifest["tables"]["runs"]["rows"]

    restored_app = create_app(make_config(new_database, tmp_path))
    with restored_app.app_context():  # the commands run in the app context they find
        result = restored_app.test_cli_runner().invoke(args=["restore", str(folder)])
        assert result.exit_code == 0, result.output
        assert "each matching its row count and content hash" in result.output
        assert backup.database_digests(_db.engine.url) == manifest["tables"]
        runs = set(_db.session.scalars(sa.select(Run.id)))
        assert before <= runs  # everything acknowledged before the backup is in it
        assert runs <= after | {seeded}  # and nothing the phones did not send
        assert len(runs) == manifest["tables"]["runs"]["rows"]
        for runner in _db.session.scalars(sa.select(Runner)):
            miles = sorted(
                _db.session.scalars(
                    sa.select(Run.mile_number).where(
                        Run.runner_id == runner.id, Run.mile_number.is_not(None)
                    )
                )
            )
            assert miles == list(range(1, runner.miles_logged + 1))  # one moment, gapless
        photo = _db.session.scalar(sa.select(Photo))
        assert photo.jpeg[:2] == b"\xff\xd8"
        _db.session.remove()
        _db.engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(app, db, cli, tmp_path):
    make_phone(db)
    folder = tmp_path / "backups"
    assert cli.invoke(args=["backup", str(folder)]).exit_code == 0
    before = backup.database_digests(_db.engine.url)
    result = cli.invoke(args=["restore", str(folder)])
    assert result.exit_code == 1
    assert "The target database is not empty" in result.output
    assert "nothing was changed" in result.output
    assert backup.database_digests(_db.engine.url) == before


def test_restore_says_when_there_is_no_backup(cli, tmp_path):
    result = cli.invoke(args=["restore", str(tmp_path / "nothing-here")])
    assert result.exit_code == 1
    assert "No backup" in result.output


def test_backup_keeps_the_newest_by_count(app, db, tmp_path):
    app.config["BACKUP_KEEP"] = 2
    cli = app.test_cli_runner()
    folder = tmp_path / "backups"
    made = []
    for _ in range(4):
        assert cli.invoke(args=["backup", str(folder)]).exit_code == 0
        made.append(backup.backups_in(folder)[-1])
    assert backup.backups_in(folder) == made[-2:]


def test_prune_by_age_keeps_the_newest_even_when_old(tmp_path):
    old = [tmp_path / f"r4h-2026010{day}T000000000000Z" for day in (1, 2, 3)]
    for path in old:
        path.mkdir()
        (path / "manifest.json").write_text("{}")
    (tmp_path / ".r4h-20260104T000000000000Z.partial").mkdir()  # unfinished: not a backup
    now = datetime(2026, 1, 12, tzinfo=UTC)
    pruned = backup.prune(tmp_path, keep=None, keep_days=10, now=now)
    assert pruned == old[:1]  # ten days and more before "now"; the newest always stays
    assert backup.prune(tmp_path, keep=None, keep_days=1, now=now) == old[1:2]
    assert backup.backups_in(tmp_path) == old[2:]
