"""Surviving a dropped database connection (a restart, a killed backend, a network blip).

pool_pre_ping replaces a dead connection before a request uses it. These cover a connection
that dies during a request: recognise the fault, run an idempotent unit of work once more on
a fresh connection, and end the request's session without letting a dead connection's
failed ROLLBACK turn an answer already made into a 500.
"""

from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask

from .extensions import db

T = TypeVar("T")


def connection_dropped(exc: BaseException) -> bool:
    """Whether this error means the database connection broke (the pool has discarded it)."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def database_unavailable(exc: BaseException) -> bool:
    """Whether the client should simply try again: connection lost or refused, or pool busy."""
    return connection_dropped(exc) or isinstance(exc, sa.exc.OperationalError | sa.exc.TimeoutError)


def rollback_quietly() -> None:
    """Roll the session back, even when a dead connection fails the ROLLBACK."""
    # SQLAlchemy has closed the session's transaction by the time that failure is raised.
    with suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()


def retry_if_dropped(unit: Callable[[], T]) -> T:
    """Run a unit of work that commits; if its connection drops, roll back and run it once more.

    Only for idempotent units (keyed by a UUID or an upsert): if the lost connection had
    already committed, the second run finds the stored row and changes nothing.
    """
    try:
        return unit()
    except sa.exc.DBAPIError as exc:
        if not connection_dropped(exc):
            raise
    rollback_quietly()
    return unit()


def _end_session(exc: BaseException | None) -> None:
    """Close the request's session before Flask-SQLAlchemy removes it, even on a dead connection."""
    # A connection that died after the request's last statement fails its ROLLBACK here; it is
    # invalidated, not pooled, and the answer the client already has stands.
    if not db.session.registry.has():
        return  # no session in this request (a page from the cache): none to make and close
    with suppress(sa.exc.SQLAlchemyError):
        db.session.close()


def init_app(app: Flask) -> None:
    """Register the session's tolerant close; it runs before Flask-SQLAlchemy's teardown."""
    app.teardown_appcontext(_end_session)
