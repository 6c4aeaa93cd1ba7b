"""Check-in logic: token states, the idempotent upsert, admin edits and the CSV roster."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, pagecache
from ..extensions import db
from ..formatting import local
from ..models import Checkin, Run, new_token, utcnow

# Check-ins stay open this long after the mile is run, for officers who fill it in later.
OPEN_AFTER_FINISH = timedelta(hours=24)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

OPEN = "open"
UNKNOWN = "unknown"  # never issued, or revoked: the two look the same from outside
CLOSED = "closed"

CSV_COLUMNS = ("name", "agency", "badge", "role", "public", "source", "checked_in_at", "id")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def closes_at(run: Run) -> datetime | None:
    """When the run's check-in stops accepting, or None while it has not finished.

    Counted from the finish, but never from later than the server's own clock saw the run
    arrive (synced_at): a phone whose clock runs ahead cannot keep the link open.
    """
    if run.finished_at is None:
        return None
    finished = run.finished_at if run.synced_at is None else min(run.finished_at, run.synced_at)
    return finished + OPEN_AFTER_FINISH


def token_state(run: Run | None, now: datetime | None = None) -> str:
    """Whether the run's check-in token is open, unknown (or revoked) or closed."""
    if run is None or run.checkin_revoked_at is not None:
        return UNKNOWN
    closing = closes_at(run)
    if closing is not None and (now or utcnow()) >= closing:
        return CLOSED
    return OPEN


def run_for_token(token: str) -> Run | None:
    """The run whose check-in token this is, revoked or not; None for anything else."""
    if not _TOKEN_SHAPE.match(token):
        return None
    return db.session.scalar(sa.select(Run).where(Run.checkin_token == token))


def _dialect_insert():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"check-in upsert is not written for {dialect}")


def save_qr_checkin(run: Run, checkin_id: str, values: dict) -> tuple[Checkin | None, bool]:
    """Insert or update the phone's own check-in in one statement; True when it is new.

    The id comes from the phone's signed cookie, so a double tap or a resubmission lands on
    the same row even when two requests race: the database settles it with ON CONFLICT.
    None when the team removed this phone's check-in: its tombstone stays, nothing is saved.
    """
    now = utcnow()
    found = db.session.execute(
        sa.select(Checkin.run_id, Checkin.removed_at).where(Checkin.id == checkin_id)
    ).first()
    owner = found.run_id if found is not None else None
    if owner is not None and owner != run.id:
        checkin_id = str(uuid.uuid4())  # a cookie can't move a check-in to another run
        owner = None
    elif found is not None and found.removed_at is not None:
        return None, False
    previous = None
    if owner is not None:
        row = db.session.execute(
            sa.select(*(getattr(Checkin, key) for key in values)).where(Checkin.id == checkin_id)
        ).one()
        previous = dict(row._mapping)
    insert = _dialect_insert()
    stmt = insert(Checkin).values(
        id=checkin_id, run_id=run.id, source="qr", checked_in_at=now, updated_at=now, **values
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[Checkin.id],
        set_={key: stmt.excluded[key] for key in (*values, "updated_at")},
        # A removal that lands between the read above and this write still wins.
        where=sa.and_(Checkin.run_id == stmt.excluded.run_id, Checkin.removed_at.is_(None)),
    )
    db.session.execute(pagecache.noted(stmt))
    pagecache.touch_run(run.id)
    checkin = db.session.get(Checkin, checkin_id, populate_existing=True)
    if checkin.removed_at is not None:
        return None, False
    audit.record(checkin, previous)  # the upsert went around the session's audit hook
    return checkin, owner is None


def run_checkin(run: Run, checkin_id: str | None) -> Checkin | None:
    """One of the run's check-ins by id, or None (a removed one too: it is a tombstone)."""
    if not checkin_id:
        return None
    checkin = db.session.get(Checkin, checkin_id)
    if checkin is None or checkin.run_id != run.id or checkin.removed_at is not None:
        return None
    return checkin


def own_checkin(run: Run, checkin_id: str | None) -> Checkin | None:
    """The check-in this phone made for this run, if it is still there."""
    return run_checkin(run, checkin_id)


def was_removed(run: Run, checkin_id: str | None) -> bool:
    """Whether the team removed the check-in this phone made for this run."""
    if not checkin_id:
        return False
    removed_at = db.session.scalar(
        sa.select(Checkin.removed_at).where(Checkin.id == checkin_id, Checkin.run_id == run.id)
    )
    return removed_at is not None


def roster(run: Run) -> list[Checkin]:
    """The run's check-ins, QR and phone-added alike, in the order they arrived."""
    return list(
        db.session.scalars(
            sa.select(Checkin)
            .where(Checkin.run_id == run.id, Checkin.removed_at.is_(None))
            .order_by(Checkin.checked_in_at, Checkin.id)
        )
    )


def update_checkin(checkin: Checkin, values: dict) -> None:
    """An admin's correction of a check-in."""
    for key, value in values.items():
        setattr(checkin, key, value)
    checkin.updated_at = utcnow()


def remove_checkin(checkin: Checkin) -> None:
    """An admin removes a check-in (a prank, a duplicate by hand, a person who asked).

    The row stays as a tombstone, so the phone that made it cannot bring it back by
    submitting the form again; nothing lists a removed check-in. The tombstone keeps only
    its id, run and times: the person's name, agency and badge are erased.
    """
    now = utcnow()
    checkin.name = checkin.agency = checkin.badge = ""
    checkin.public = False
    checkin.removed_at = now
    checkin.updated_at = now


def revoke_token(run: Run) -> None:
    """Stop the run's check-in code working; the printed sheet and the phone's QR go dead."""
    if run.checkin_revoked_at is None:
        run.checkin_revoked_at = utcnow()


def reissue_token(run: Run) -> None:
    """Give the run a fresh check-in code; the old one becomes unknown."""
    run.checkin_token = new_token()
    run.checkin_revoked_at = None


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def roster_csv(run: Run) -> str:
    """The run's roster as CSV text, one check-in a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for checkin in roster(run):
        writer.writerow(
            [
                csv_cell(checkin.name),
                csv_cell(checkin.agency),
                csv_cell(checkin.badge),
                checkin.role,
                "yes" if checkin.public else "no",
                checkin.source,
                # The team's local time, with its offset: what the admin reads, unambiguous.
                local(checkin.checked_in_at).isoformat(timespec="seconds"),
                checkin.id,
            ]
        )
    return out.getvalue()
