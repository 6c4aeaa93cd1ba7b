"""Backups that can be trusted: one consistent snapshot, described by a manifest taken inside it.

A backup is a folder `r4h-<UTC time>` holding the database and manifest.json (when, which
engine, the schema revision, and each table's row count and content hash). Photos live in
the database (the photos table, see runs/photos.py), so the database file is everything
that cannot be replaced.

- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the manifest is computed
  in that transaction and `pg_dump --snapshot` dumps exactly the same state (custom format).
- SQLite: one read transaction computes the manifest, and the online backup API copies the
  file from that same connection, so the copy is the state the manifest describes.

A restore goes only into an empty database, and checks every table against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

PREFIX = "r4h-"
MANIFEST = "manifest.json"
PG_FILE = "database.dump"
SQLITE_FILE = "database.sqlite"
_STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass(frozen=True)
class Backup:
    """A finished backup: its folder and its manifest."""

    path: Path
    manifest: dict


# --- table digests ------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(value) -> str:
    """One row value as text; bytes by their hash, so a photo does not sit in memory twice."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return "b:" + hashlib.sha256(value).hexdigest()
    if value is None:
        return "null"
    return f"{type(value).__name__}:{value}"


def _table_digest(cursor, table: str, order: list[str]) -> dict:
    """Row count and SHA-256 of a table's rows, read in primary-key order."""
    ordering = ", ".join(order)
    cursor.execute(f"SELECT * FROM {_quote(table)} ORDER BY {ordering}")
    digest = hashlib.sha256()
    rows = 0
    while batch := cursor.fetchmany(500):
        for row in batch:
            digest.update(json.dumps([_canonical(v) for v in row]).encode())
            digest.update(b"\n")
            rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def _pg_tables(cursor) -> dict[str, list[str]]:
    """Each table of the current schema and the columns to order it by (its key, else all)."""
    cursor.execute(
        "SELECT c.relname, a.attname, a.attnum, "
        "       CASE WHEN a.attnum = ANY(i.indkey) THEN 1 + array_position(i.indkey::int2[], "
        "       a.attnum) - array_lower(i.indkey::int2[], 1) ELSE 0 END AS key_position "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
        "  AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY c.relname, a.attnum"
    )
    columns: dict[str, list[tuple[int, int, str]]] = {}
    for table, column, number, key_position in cursor.fetchall():
        columns.setdefault(table, []).append((key_position, number, column))
    # Without a key, every column orders the rows, as text (json has no ordering operator).
    return {table: _ordering(cols, cast="::text") for table, cols in columns.items()}


def _sqlite_tables(cursor) -> dict[str, list[str]]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    tables = {}
    for (table,) in cursor.fetchall():
        cursor.execute(f"PRAGMA table_info({_quote(table)})")
        tables[table] = _ordering([(pk, cid, name) for cid, name, _t, _n, _d, pk in cursor])
    return tables


def _ordering(columns: list[tuple[int, int, str]], cast: str = "") -> list[str]:
    """ORDER BY terms: the primary key in key order, else every column (cast as given)."""
    key = sorted(c for c in columns if c[0])
    if key:
        return [_quote(name) for _p, _n, name in key]
    return [_quote(name) + cast for _p, _n, name in sorted(columns, key=lambda c: c[1])]


def _digests(cursor, tables: dict[str, list[str]]) -> dict[str, dict]:
    return {table: _table_digest(cursor, table, order) for table, order in sorted(tables.items())}


def _revision(cursor, tables) -> str | None:
    if "alembic_version" not in tables:
        return None
    cursor.execute("SELECT version_num FROM alembic_version")
    row = cursor.fetchone()
    return row[0] if row else None


def _manifest(engine: str, cursor, tables) -> dict:
    return {
        "format": 1,
        "taken_at": datetime.now(UTC).isoformat(),
        "engine": engine,
        "schema_revision": _revision(cursor, tables),
        "photos": "in the database (photos table)",
        "tables": _digests(cursor, tables),
    }


# --- where the database is ----------------------------------------------------------------------


def libpq_url(url: sa.engine.URL) -> str:
    """The SQLAlchemy URL as pg_dump, pg_restore and psycopg take it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: sa.engine.URL) -> Path:
    """The file of a SQLite URL; an in-memory database cannot be backed up."""
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


# --- backup -------------------------------------------------------------------------------------


def take_backup(url: sa.engine.URL, parent: Path) -> Backup:
    """Write a consistent backup of the database into a new folder under parent."""
    parent.mkdir(parents=True, exist_ok=True)
    name = PREFIX + datetime.now(UTC).strftime(_STAMP)
    partial = parent / f".{name}.partial"  # only a finished backup gets its real name
    partial.mkdir()
    try:
        if url.get_backend_name() == "postgresql":
            manifest = _backup_postgres(url, partial)
        elif url.get_backend_name() == "sqlite":
            manifest = _backup_sqlite(url, partial)
        else:
            raise BackupError(f"No backup for the {url.get_backend_name()} database engine.")
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        partial.rename(parent / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(parent / name, manifest)


def _backup_postgres(url: sa.engine.URL, folder: Path) -> dict:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            manifest = _manifest("postgresql", cursor, _pg_tables(cursor))
            # The transaction stays open until pg_dump has started from its snapshot and ended.
            done = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    f"--file={folder / PG_FILE}",
                    f"--dbname={libpq_url(url)}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return manifest


def _backup_sqlite(url: sa.engine.URL, folder: Path) -> dict:
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"The database file {source_path} does not exist.")
    source = sqlite3.connect(source_path, isolation_level=None, timeout=30)
    target = sqlite3.connect(folder / SQLITE_FILE)
    try:
        source.execute("BEGIN")  # one read snapshot for the manifest and the copy
        cursor = source.cursor()
        manifest = _manifest("sqlite", cursor, _sqlite_tables(cursor))
        source.backup(target)
        source.execute("COMMIT")
    finally:
        target.close()
        source.close()
    return manifest


# --- retention ----------------------------------------------------------------------------------


def backups_in(parent: Path) -> list[Path]:
    """Finished backups under parent, oldest first (their names sort by time)."""
    if not parent.is_dir():
        return []
    return sorted(
        p
        for p in parent.iterdir()
        if p.is_dir() and p.name.startswith(PREFIX) and (p / MANIFEST).is_file()
    )


def prune(
    parent: Path, keep: int | None, keep_days: int | None, now: datetime | None = None
) -> list[Path]:
    """Delete backups beyond the newest `keep` and older than `keep_days`; never the newest."""
    found = backups_in(parent)
    now = now or datetime.now(UTC)
    doomed = []
    for index, path in enumerate(found):
        newer = len(found) - index - 1
        if newer == 0:
            break
        taken = datetime.strptime(path.name[len(PREFIX) :], _STAMP).replace(tzinfo=UTC)
        too_many = keep is not None and newer >= keep
        too_old = keep_days is not None and now - taken > timedelta(days=keep_days)
        if too_many or too_old:
            doomed.append(path)
    for path in doomed:
        shutil.rmtree(path)
    return doomed


# --- restore ------------------------------------------------------------------------------------


def find_backup(path: Path) -> Backup:
    """The backup at path, or the newest one under it."""
    if not (path / MANIFEST).is_file():
        found = backups_in(path)
        if not found:
            raise BackupError(f"No backup (a folder with {MANIFEST}) at {path}.")
        path = found[-1]
    return Backup(path, json.loads((path / MANIFEST).read_text()))


def restore(url: sa.engine.URL, backup: Backup) -> dict:
    """Restore the backup into the empty database at url; check it matches the manifest."""
    engine = url.get_backend_name()
    if backup.manifest.get("engine") != engine:
        raise BackupError(
            f"This backup is of a {backup.manifest.get('engine')} database; the target is {engine}."
        )
    if engine == "postgresql":
        restored = _restore_postgres(url, backup.path / PG_FILE)
    else:
        restored = _restore_sqlite(url, backup.path / SQLITE_FILE)
    differ = sorted(
        t
        for t in set(restored) | set(backup.manifest["tables"])
        if restored.get(t) != backup.manifest["tables"].get(t)
    )
    if differ:
        raise BackupError(f"The restored tables differ from the manifest: {', '.join(differ)}.")
    return restored


def database_digests(url: sa.engine.URL) -> dict[str, dict]:
    """Row count and content hash of every table of the database, as the manifest has them."""
    if url.get_backend_name() == "postgresql":
        with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cursor:
            return _digests(cursor, _pg_tables(cursor))
    connection = sqlite3.connect(sqlite_path(url))
    try:
        cursor = connection.cursor()
        return _digests(cursor, _sqlite_tables(cursor))
    finally:
        connection.close()


def _refuse_non_empty(tables: dict) -> None:
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
        raise BackupError(
            f"The target database is not empty: it has {len(tables)} table(s) ({shown}). "
            "Restore only into a new, empty database; nothing was changed."
        )


def _restore_postgres(url: sa.engine.URL, dump: Path) -> dict:
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cursor:
        _refuse_non_empty(_pg_tables(cursor))
    done = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq_url(url)}",
            str(dump),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    return database_digests(url)


def _restore_sqlite(url: sa.engine.URL, copy: Path) -> dict:
    target_path = sqlite_path(url)
    target = sqlite3.connect(target_path)
    try:
        _refuse_non_empty(_sqlite_tables(target.cursor()))
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        target.close()
    return database_digests(url)
