"""Render the family page and the wall once, and reuse them until the data under them changes.

The content has one version. Every commit that wrote to a table those pages show (runs,
laps, check-ins, heroes, runners, tracks, shipments, photos) bumps it, after the commit,
so a page read after a write is never an older copy. A cached page remembers the version
it was rendered at; a page of another version is rendered again.

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

# The tables the family page and the wall are made of.
SHOWN_TABLES = frozenset(
    {"runs", "laps", "checkins", "heroes", "runners", "tracks", "shipments", "photos"}
)
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALTER", "DROP", "CREATE", "COPY")
_TOUCHED = "r4h_touched_tables"


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


class RedisPages:
    """Pages and the content version in Redis: one round trip to read, one to write."""

    def __init__(self, url: str, prefix: str, seconds: int):
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.version_key = f"{prefix}content-version"
        self.prefix = f"{prefix}page:"
        self.seconds = seconds

    def read(self, key: str) -> tuple[str | None, CachedPage | None]:
        """The current version, and the page if it was rendered at that version."""
        version, stored = self.client.mget(self.version_key, self.prefix + key)
        if version is None:  # first use, or the key was lost: start at a fresh random number
            self.client.set(self.version_key, secrets.randbits(48), nx=True)
            return self.client.get(self.version_key).decode(), None
        version = version.decode()
        if stored is None:
            return version, None
        stored_version, page = CachedPage.load(stored)
        return version, page if stored_version == version else None

    def write(self, key: str, version: str, page: CachedPage) -> None:
        self.client.set(self.prefix + key, page.dump(version), ex=self.seconds)

    def bump(self) -> None:
        if self.client.incr(self.version_key) == 1:  # it had been lost: no reuse of old numbers
            self.client.set(self.version_key, secrets.randbits(48))


class MemoryPages:
    """Pages in this process only (one process: the dev server, tests)."""

    def __init__(self, seconds: int, size: int = 1024):
        self.version = secrets.randbits(48)
        self.pages: OrderedDict[str, tuple[int, float, CachedPage]] = OrderedDict()
        self.lock = threading.Lock()
        self.seconds, self.size = seconds, size

    def read(self, key: str) -> tuple[str | None, CachedPage | None]:
        now = datetime.now(UTC).timestamp()
        with self.lock:
            version = self.version
            version_of, expires, page = self.pages.get(key, (None, 0.0, None))
        fresh = version_of == version and expires > now
        return str(version), page if fresh else None

    def write(self, key: str, version: str, page: CachedPage) -> None:
        with self.lock:
            self.pages[key] = (int(version), datetime.now(UTC).timestamp() + self.seconds, page)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def bump(self) -> None:
        with self.lock:
            self.version += 1


def _pages():
    return current_app.extensions.get("page_cache") if has_app_context() else None


def cached_page(kind: str, key: str, render: Callable[[], str]) -> CachedPage:
    """The page from the cache if it is of the current version, else render() (and keep it).

    The version is read before rendering: a write committed meanwhile bumps it, so what
    this render keeps is never taken for the newer content.
    """
    pages = _pages()
    cache_key = f"{kind}:{hashlib.sha256(key.encode()).hexdigest()}"  # no token in Redis keys
    version = None
    if pages is not None:
        try:
            version, page = pages.read(cache_key)
        except redis.RedisError as exc:
            current_app.logger.warning("Page cache unavailable, rendering: %s", exc)
            pages = None
        else:
            if page is not None:
                return page
    page = CachedPage.of(render())
    if pages is not None and version is not None:
        try:
            pages.write(cache_key, version, page)
        except redis.RedisError as exc:
            current_app.logger.warning("Page cache unavailable, not kept: %s", exc)
    return page


# --- noticing writes ----------------------------------------------------------------------------


def _note_statement(state) -> None:
    """A write through session.execute (Core INSERT, UPDATE, DELETE, or SQL text)."""
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        _touch(state.session, {getattr(table, "name", "*")})
    elif isinstance(statement, sa.TextClause):
        words = statement.text.lstrip().split(None, 1)
        if words and words[0].upper() in _WRITES:
            _touch(state.session, {"*"})


def _note_flush(session: Session, _context) -> None:
    """Rows the unit of work wrote (new, changed or deleted ORM objects)."""
    changed = [*session.new, *session.dirty, *session.deleted]
    _touch(session, {getattr(obj, "__tablename__", "*") for obj in changed})


def _touch(session: Session, tables: set[str]) -> None:
    session.info.setdefault(_TOUCHED, set()).update(tables)


def _after_commit(session: Session) -> None:
    """Bump the content version once the commit is visible, if it wrote a shown table."""
    touched = session.info.pop(_TOUCHED, set())
    if not touched or not ("*" in touched or touched & SHOWN_TABLES):
        return
    pages = _pages()
    if pages is None:
        return
    try:
        pages.bump()
    except redis.RedisError as exc:
        current_app.logger.error(
            "Page cache version not bumped (pages may be stale for up to %s s): %s",
            current_app.config["PAGE_CACHE_SECONDS"], exc,
        )


def _after_rollback(session: Session) -> None:
    """The transaction was rolled back in the database: nothing to bump for its writes."""
    session.info.pop(_TOUCHED, None)


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
