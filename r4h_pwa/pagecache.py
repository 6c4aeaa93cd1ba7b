"""Render the family page and the wall once, and reuse them until the data under them changes.

The wall (and a hero's page) has one content version. Every commit that wrote to a table
those pages show (runs, laps, check-ins, heroes, runners, tracks, shipments, photos) bumps
it, after the commit, so a page read after a write is never an older copy. A cached page
remembers the version it was rendered at; a page of another version is rendered again.

A family page shows one run, so it has versions of its own: the run's version, bumped by a
commit that wrote that run or a row of it (its laps, check-ins, photos, shipment), and a
family version for what many runs share, bumped by a write to a hero, runner or track, or
by a write whose run cannot be told (SQL text, a Core statement). A sync of one run
therefore leaves every other family page in the cache.

Writes through the ORM's unit of work are seen on their own. A Core statement cannot say
which run it wrote, so its caller says it: `touch_run(run_id)` (the run's family page and
the wall), or `touch_wall()` (the wall alone: a runner's miles), on a statement marked
`noted(...)`. An unmarked Core write to a shown table stales every page: slower, never stale.

Where: Redis (PAGE_CACHE_URL = redis://...), shared by every worker and server, or this
process's memory (PAGE_CACHE_URL = "memory://", and the default in debug and tests), which
is right only for a single process. Without either in production there is no cache. Every
entry also expires after PAGE_CACHE_SECONDS, a bound on what a write made outside the app
(psql by hand) can leave stale. If Redis fails, pages are rendered as if nothing was cached.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

# The tables the family page and the wall are made of.
SHOWN_TABLES = frozenset(
    {"runs", "laps", "checkins", "heroes", "runners", "tracks", "shipments", "photos"}
)
# The rows of one run (the column naming it); a hero, runner or track may be shown by many.
RUN_TABLES = {
    "runs": "id",
    "laps": "run_id",
    "checkins": "run_id",
    "shipments": "run_id",
    "photos": "run_id",
}
# What the family page shows of a runner or a track (every column of a hero): a sync that
# counts the runner's miles is no change to the family pages of their other runs.
FAMILY_COLUMNS = {"runners": ("name",), "tracks": ("name",)}
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALTER", "DROP", "CREATE", "COPY")
_TOUCHED = "r4h_touched_tables"
_TOUCHED_RUNS = "r4h_touched_runs"
_ANY_RUN = "family:*"  # a shown write whose run is unknown: every family page is stale
_NOTED = "r4h_page_cache_noted"  # execution option: the caller touched what it wrote


@dataclass(frozen=True)
class CachedPage:
    """A rendered page and its validators."""

    html: str
    etag: str
    rendered_at: datetime

    @classmethod
    def of(cls, html: str) -> CachedPage:
        """The page with a strong ETag from its bytes, rendered now (to the second)."""
        etag = hashlib.sha256(html.encode()).hexdigest()[:32]
        return cls(html, etag, datetime.now(UTC).replace(microsecond=0))

    def dump(self, version: str) -> bytes:
        return f"{version}\n{self.etag}\n{self.rendered_at.isoformat()}\n{self.html}".encode()

    @classmethod
    def load(cls, data: bytes) -> tuple[str, CachedPage]:
        version, etag, rendered_at, html = data.decode().split("\n", 3)
        return version, cls(html, etag, datetime.fromisoformat(rendered_at))


# INCR each version; one that was lost (INCR answers 1) starts again at a random number, so
# no page kept at an old number can pass for the new content. KEYS: the base versions, then
# the runs'; ARGV: how many are bases, the runs' lifetime in seconds, a random number a key.
_BUMP = """
local bases, seconds = tonumber(ARGV[1]), ARGV[2]
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('SET', key, ARGV[i + 2]) end
  if i > bases then redis.call('EXPIRE', key, seconds) end
end
"""


class RedisPages:
    """Pages and their versions in Redis: one round trip to read a page."""

    # A family page's read in one round trip: its base version, the page, and the version
    # of the run the page was kept for (named in its stamp, "version|run_id:run_version").
    # That key is found from the page, so it cannot be among KEYS: right on one Redis
    # server (what the deployment uses), not on a Redis Cluster.
    READ_WITH_RUN = """
    local version = redis.call('GET', KEYS[1])
    local stored = redis.call('GET', KEYS[2])
    local run_version = false
    if stored then
      local run = string.match(stored, '^[^|\\n]*|([^\\n]*):[^:\\n]*\\n')
      if run then run_version = redis.call('GET', ARGV[1] .. run) end
    end
    return {version, stored, run_version}
    """

    def __init__(self, url: str, prefix: str, seconds: int):
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._read_with_run = self.client.register_script(self.READ_WITH_RUN)
        self.version_keys = {
            "content": f"{prefix}content-version",
            "family": f"{prefix}family-version",
        }
        self.run_prefix = f"{prefix}run-version:"
        self.prefix = f"{prefix}page:"
        self.seconds = seconds
        # A run's version lives twice a page's lifetime from its last write, then goes: one
        # key for every run ever written would otherwise stay for good. A page whose run's
        # version went reads as stale and is rendered again, never served stale.
        self.run_seconds = 2 * seconds
        self._bump = self.client.register_script(_BUMP)

    def _current(self, key: str, value: bytes | None, seconds: int | None = None) -> str:
        if value is None:  # first use, or the key was lost: start at a fresh random number
            self.client.set(key, secrets.randbits(48), nx=True, ex=seconds)
            value = self.client.get(key)
        return value.decode()

    def read(self, key: str, base: str) -> tuple[str | None, CachedPage | None]:
        """The base version, and the page if it was rendered at the versions of now."""
        version_key = self.version_keys[base]
        if base == "family":  # a page of one run: its run's version too, in the same trip
            version, stored, run_version = self._read_with_run(
                keys=[version_key, self.prefix + key], args=[self.run_prefix]
            )
        else:
            (version, stored), run_version = self.client.mget(version_key, self.prefix + key), None
        version = self._current(version_key, version)
        if stored is None:
            return version, None
        stamp, page = CachedPage.load(stored)
        head, _, run = stamp.partition("|")
        if head != version:
            return version, None
        # A lost run version (None) is a stale page: run_version() starts it afresh.
        if run and (run_version is None or run_version.decode() != run.rpartition(":")[2]):
            return version, None
        return version, page

    def run_version(self, run_id: str) -> str:
        key = self.run_prefix + run_id
        return self._current(key, self.client.get(key), self.run_seconds)

    def write(self, key: str, stamp: str, page: CachedPage) -> None:
        self.client.set(self.prefix + key, page.dump(stamp), ex=self.seconds)

    def bump(self, bases: set[str], runs: set[str]) -> None:
        keys = [self.version_keys[base] for base in sorted(bases)]
        keys += [self.run_prefix + run_id for run_id in sorted(runs)]
        # One round trip, the same for a key seen before and a new one (a new run's).
        numbers = [secrets.randbits(48) for _ in keys]
        self._bump(keys=keys, args=[len(bases), self.run_seconds, *numbers])


class MemoryPages:
    """Pages in this process only (one process: the dev server, tests)."""

    def __init__(self, seconds: int, size: int = 1024):
        self.versions = {"content": secrets.randbits(48), "family": secrets.randbits(48)}
        self.runs: OrderedDict[str, int] = OrderedDict()  # as many as pages, the oldest go
        self.pages: OrderedDict[str, tuple[str, float, CachedPage]] = OrderedDict()
        self.lock = threading.Lock()
        self.seconds, self.size = seconds, size

    def _run_version(self, run_id: str) -> str:
        """A version gone with the oldest reads as a new one: its pages are stale, never wrong."""
        version = self.runs.setdefault(run_id, secrets.randbits(48))
        self.runs.move_to_end(run_id)
        while len(self.runs) > self.size:
            self.runs.popitem(last=False)
        return str(version)

    def read(self, key: str, base: str) -> tuple[str | None, CachedPage | None]:
        now = datetime.now(UTC).timestamp()
        with self.lock:
            version = str(self.versions[base])
            stamp, expires, page = self.pages.get(key, ("", 0.0, None))
            head, _, run = stamp.partition("|")
            fresh = head == version and expires > now
            if fresh and run:
                run_id, _, run_version = run.rpartition(":")
                fresh = self._run_version(run_id) == run_version
        return version, page if fresh else None

    def run_version(self, run_id: str) -> str:
        with self.lock:
            return self._run_version(run_id)

    def write(self, key: str, stamp: str, page: CachedPage) -> None:
        with self.lock:
            self.pages[key] = (stamp, datetime.now(UTC).timestamp() + self.seconds, page)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def bump(self, bases: set[str], runs: set[str]) -> None:
        with self.lock:
            for base in bases:
                self.versions[base] += 1
            for run_id in runs:
                self.runs[run_id] = int(self._run_version(run_id)) + 1


def _pages():
    return current_app.extensions.get("page_cache") if has_app_context() else None


def cached_page(
    kind: str, key: str, render: Callable[[], str], run_of: Callable[[], str | None] | None = None
) -> CachedPage:
    """The page from the cache if it is of the current versions, else render() (and keep it).

    A page of one run (the family page) gives run_of, which tells that run's id: it is
    asked only when the page must be rendered, and the page is kept with the family
    version and the run's version; None (no such run) keeps nothing.

    The versions are read before rendering: a write committed meanwhile bumps them, so what
    this render keeps is never taken for the newer content.
    """
    pages = _pages()
    cache_key = f"{kind}:{hashlib.sha256(key.encode()).hexdigest()}"  # no token in Redis keys
    stamp = None
    if pages is not None:
        try:
            stamp, page = pages.read(cache_key, "content" if run_of is None else "family")
        except redis.RedisError as exc:
            current_app.logger.warning("Page cache unavailable, rendering: %s", exc)
            pages = None
        else:
            if page is not None:
                return page
    if pages is not None and run_of is not None:
        run_id = run_of()
        try:
            stamp = None if run_id is None else f"{stamp}|{run_id}:{pages.run_version(run_id)}"
        except redis.RedisError as exc:
            current_app.logger.warning("Page cache unavailable, rendering: %s", exc)
            pages = None
    page = CachedPage.of(render())
    if pages is not None and stamp is not None:
        try:
            pages.write(cache_key, stamp, page)
        except redis.RedisError as exc:
            current_app.logger.warning("Page cache unavailable, not kept: %s", exc)
    return page


# --- noticing writes ----------------------------------------------------------------------------


def _note_statement(state) -> None:
    """A write through session.execute (Core INSERT, UPDATE, DELETE, or SQL text).

    A statement marked noted(...) was noted by its caller (touch_run, touch_wall). Any other
    write to a shown table may have changed any page: every family page and the wall.
    """
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        if state.execution_options.get(_NOTED):
            return
        name = getattr(getattr(statement, "table", None), "name", "*")
        _touch(state.session, {name}, {_ANY_RUN} if name in SHOWN_TABLES else set())
    elif isinstance(statement, sa.TextClause):
        words = statement.text.lstrip().split(None, 1)
        if words and words[0].upper() in _WRITES:
            _touch(state.session, {"*"}, set())


def noted(statement):
    """The Core statement, marked as a write whose caller tells the page cache what it wrote."""
    return statement.execution_options(**{_NOTED: True})


def touch_run(run_id: str) -> None:
    """This transaction wrote the run or a row of it: once it commits, the run's family page
    and the wall are stale (every other family page stays)."""
    _touch(db.session(), {"runs"}, {run_id})


def touch_wall() -> None:
    """This transaction wrote something the wall shows and no family page does (a runner's
    miles): once it commits, the wall is stale."""
    _touch(db.session(), {"runners"}, set())


def _run_ids(obj, column: str) -> set[str]:
    """The runs a written row belongs to, before and after the write ({_ANY_RUN} if unknown)."""
    history = sa.inspect(obj).attrs[column].load_history()
    ids = {value for value in history.sum() if value is not None}
    return ids or {_ANY_RUN}


def _note_flush(session: Session, _context) -> None:
    """Rows the unit of work wrote (new, changed or deleted ORM objects), and their runs."""
    tables, runs = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", "*")
        tables.add(table)
        if table in RUN_TABLES:
            runs |= _run_ids(obj, RUN_TABLES[table])
        elif table in SHOWN_TABLES and _on_family_pages(session, obj, table):
            runs.add(_ANY_RUN)
    _touch(session, tables, runs)


def _on_family_pages(session: Session, obj, table: str) -> bool:
    """Whether a written hero, runner or track may change family pages already shown (a new
    one is on none yet: the run that takes it up is written too)."""
    if obj in session.new:
        return False
    if obj in session.deleted or table not in FAMILY_COLUMNS:
        return True
    attrs = sa.inspect(obj).attrs
    return any(attrs[column].history.has_changes() for column in FAMILY_COLUMNS[table])


def _touch(session: Session, tables: set[str], runs: set[str]) -> None:
    session.info.setdefault(_TOUCHED, set()).update(tables)
    session.info.setdefault(_TOUCHED_RUNS, set()).update(runs)


def _after_commit(session: Session) -> None:
    """Bump the versions of what the commit wrote, once it is visible."""
    touched = session.info.pop(_TOUCHED, set())
    runs = session.info.pop(_TOUCHED_RUNS, set())
    every = "*" in touched
    bases = {"content"} if every or touched & SHOWN_TABLES else set()
    if every or _ANY_RUN in runs:
        bases.add("family")  # a hero, runner or track shown, or an unknown run: every page
        runs = set()
    if not bases and not runs:
        return
    pages = _pages()
    if pages is None:
        return
    try:
        pages.bump(bases, runs)
    except redis.RedisError as exc:
        current_app.logger.error(
            "Page cache version not bumped (pages may be stale for up to %s s): %s",
            current_app.config["PAGE_CACHE_SECONDS"],
            exc,
        )


def _after_rollback(session: Session) -> None:
    """The transaction was rolled back in the database: nothing to bump for its writes."""
    session.info.pop(_TOUCHED, None)
    session.info.pop(_TOUCHED_RUNS, None)


def _listen_once() -> None:
    """Events of Flask-SQLAlchemy's session class, shared by every app: register them once."""
    listeners = (
        ("do_orm_execute", _note_statement),
        ("after_flush", _note_flush),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    )
    for name, listener in listeners:
        if not event.contains(FlaskSession, name, listener):
            event.listen(FlaskSession, name, listener)


def init_app(app: Flask) -> None:
    """Choose the store (PAGE_CACHE_URL), and watch commits for writes to shown tables."""
    url = app.config.get("PAGE_CACHE_URL")
    seconds = app.config["PAGE_CACHE_SECONDS"]
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        app.extensions["page_cache"] = RedisPages(url, app.config["PAGE_CACHE_PREFIX"], seconds)
    elif url == "memory://" or (not url and not app.config["PRODUCTION"]):
        # One process (flask run, the tests): a cache in its memory sees every write.
        app.extensions["page_cache"] = MemoryPages(seconds)
    elif not url:
        app.logger.warning(
            "No page cache: the family page and the wall are rendered for every request. Set "
            "R4H_PAGE_CACHE_URL=redis://host:6379/1 (see README, Production)."
        )
    else:
        raise ValueError(f"PAGE_CACHE_URL must be redis://..., or memory://; not {url!r}")
    _listen_once()
