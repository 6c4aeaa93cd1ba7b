"""Sync of finished runs from phones: validate each run, then apply it in its own transaction.

The run UUID is the idempotency key. A repeat with the same content is a duplicate and
answers the stored mile number; the same UUID with other content is a conflict and the
server keeps its copy. Mile numbers come from an atomic UPDATE of the runner's counter
inside the run's transaction, so they are gapless and unique under concurrency.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, pagecache
from ..database import retry_if_dropped
from ..extensions import db
from ..models import (
    CHECKIN_ROLES,
    SILENCE_WHEN,
    Checkin,
    Hero,
    Lap,
    Run,
    Runner,
    Track,
    new_row,
    utcnow,
)
from ..validation import Fields, NotFound, ValidationError

MAX_RUNS_PER_SYNC = 50
MAX_LAPS = 200
MAX_CHECKINS = 100
MAX_WORDS = 5000
MAX_ELAPSED_MS = 24 * 60 * 60 * 1000 - 1  # below 24 h
MAX_ID = 2**31 - 1
# How far ahead of the server's clock a phone's clock may be: a run dated later is refused.
MAX_CLOCK_AHEAD = timedelta(hours=24)
# The phone times laps on its monotonic clock and dates the run on its wall clock; the two
# may drift apart this much over a run before the last lap "falls outside" the run.
LAP_CLOCK_TOLERANCE_MS = 5_000
MAX_SILENCE_SECONDS = 3600
# A losing concurrent insert is retried once it can see the winner's committed row.
_ATTEMPTS = 3

CREATED, DUPLICATE, CONFLICT, REJECTED = "created", "duplicate", "conflict", "rejected"
# The phone reports how long its oldest queued run waited; a year is beyond any real outbox.
MAX_OUTBOX_AGE_SECONDS = 366 * 24 * 3600


@dataclass(frozen=True)
class SyncRequest:
    """A sync request valid as a whole: its runs (each still unchecked) and the outbox age."""

    runs: list
    outbox_age_seconds: int | None


@dataclass(frozen=True)
class SubmittedCheckin:
    """A check-in added on the phone, as validated."""

    id: str
    name: str
    agency: str
    badge: str
    role: str
    public: bool
    # When the phone recorded it; not part of the run's content hash.
    checked_in_at: datetime | None = None


@dataclass(frozen=True)
class SubmittedCeremony:
    """What the phone recorded of the ceremony; a skipped step is False (or 0 seconds)."""

    prayer_before: bool
    silence_seconds: int
    flag_carried: bool
    prayer_after: bool
    # "before" or "after" the run; None when the phone did not say (apps before it could).
    silence_when: str | None = None


@dataclass(frozen=True)
class SubmittedRun:
    """One run of a sync request, as validated; nothing here has touched the database."""

    id: str
    hero_id: int
    track_id: int
    started_at: datetime
    finished_at: datetime
    laps: tuple[tuple[int, int], ...]
    checkins: tuple[SubmittedCheckin, ...]
    words: str
    video_url: str
    # None when the phone sent none, as apps before the ceremony was recorded do.
    ceremony: SubmittedCeremony | None = None

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical content: equal hashes mean the phone sent the same run."""
        content = {
            "hero_id": self.hero_id,
            "track_id": self.track_id,
            "started_at": _utc_iso(self.started_at),
            "finished_at": _utc_iso(self.finished_at),
            "laps": [list(lap) for lap in self.laps],
            "checkins": [
                [c.id, c.name, c.agency, c.badge, c.role, c.public]
                for c in sorted(self.checkins, key=lambda c: c.id)
            ],
            "words": self.words,
            "video_url": self.video_url,
        }
        # Only a run with a ceremony hashes it: a run without one hashes exactly as before
        # the ceremony existed, so an old phone's repeat of a stored run stays a duplicate.
        if self.ceremony is not None:
            c = self.ceremony
            content["ceremony"] = [
                c.prayer_before,
                c.silence_seconds,
                c.flag_carried,
                c.prayer_after,
            ]
            if c.silence_when is not None:  # likewise: a ceremony without it hashes as before
                content["ceremony"].append(c.silence_when)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class RunResult:
    """The answer for one submitted run."""

    id: Any
    status: str
    mile_number: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # Whether applying it wrote anything (to commit, or roll back); not part of the reply.
    wrote: bool = field(default=False, compare=False)

    @property
    def accepted(self) -> bool:
        """Whether the server now holds this run (the phone may drop it from its outbox)."""
        return self.status in (CREATED, DUPLICATE)

    def as_json(self) -> dict:
        """The result as the reply lists it."""
        return {
            "id": self.id,
            "status": self.status,
            "mile_number": self.mile_number,
            "errors": self.errors,
        }


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _canonical_uuid(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def read_sync_request(body: Any, device_id: str) -> SyncRequest:
    """The submitted runs and outbox age, or a ValidationError for a request wrong as a whole."""
    if not isinstance(body, dict):
        raise ValidationError({}, "The body must be a JSON object with device_id and runs.")
    errors: dict[str, str] = {}
    sent_device = body.get("device_id")
    if sent_device is None:
        errors["device_id"] = "This field is required."
    elif not isinstance(sent_device, str):
        errors["device_id"] = "Must be a string."
    elif (_canonical_uuid(sent_device) or sent_device) != device_id:
        errors["device_id"] = "This is not the device this token was issued to."
    runs = body.get("runs")
    if runs is None:
        errors["runs"] = "This field is required."
    elif not isinstance(runs, list):
        errors["runs"] = "Must be a list."
    elif len(runs) > MAX_RUNS_PER_SYNC:
        errors["runs"] = f"At most {MAX_RUNS_PER_SYNC} runs in one request."
    fields = Fields(body)
    outbox_age = fields.integer("outbox_age_seconds", 0, MAX_OUTBOX_AGE_SECONDS, required=False)
    errors.update(fields.errors)
    if errors:
        raise ValidationError(errors, "The sync request is not valid. Nothing was saved.")
    return SyncRequest(runs, outbox_age)


def validate_run(
    data: Any, now: datetime | None = None
) -> tuple[SubmittedRun | None, dict[str, str]]:
    """Check one submitted run without touching the database; errors name each bad field.

    now is the server's clock, against which the phone's dates are checked.
    """
    if not isinstance(data, dict):
        return None, {"run": "Must be an object."}
    latest = (now or utcnow()) + MAX_CLOCK_AHEAD
    fields = Fields(data)
    run_id = fields.uuid("id")
    hero_id = fields.integer("hero_id", 1, MAX_ID)
    track_id = fields.integer("track_id", 1, MAX_ID)
    started_at = fields.timestamp("started_at")
    finished_at = fields.timestamp("finished_at")
    for key, value in (("started_at", started_at), ("finished_at", finished_at)):
        if value is not None and value > latest:
            fields.fail(key, "Must not be more than 24 hours ahead of the server's clock.")
    if started_at and finished_at and finished_at < started_at:
        fields.errors.setdefault("finished_at", "Must not be before started_at.")
    words = fields.text("words", MAX_WORDS)
    video_url = fields.url("video_url")
    laps = _validate_laps(fields, data)
    checkins = _validate_checkins(fields, data)
    if not fields.errors and laps:
        _check_laps_fit_the_run(fields, laps, finished_at - started_at)
    ceremony = _validate_ceremony(fields, data)
    if fields.errors:
        return None, fields.errors
    submitted = SubmittedRun(
        id=run_id,
        hero_id=hero_id,
        track_id=track_id,
        started_at=started_at,
        finished_at=finished_at,
        laps=laps,
        checkins=checkins,
        words=words,
        video_url=video_url,
        ceremony=ceremony,
    )
    return submitted, {}


def _validate_ceremony(fields: Fields, data: dict) -> SubmittedCeremony | None:
    """The optional ceremony: every step required, so a skipped one is said, not guessed."""
    raw = data.get("ceremony")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fields.fail(
            "ceremony",
            "Must be an object with prayer_before, silence_seconds, flag_carried and prayer_after.",
        )
        return None
    entry = Fields(raw, prefix="ceremony.")
    for key in ("prayer_before", "flag_carried", "prayer_after"):
        if raw.get(key) is None:
            entry.fail(key, "This field is required: true, or false if skipped.")
    if raw.get("silence_when") not in (None, *SILENCE_WHEN):
        entry.fail("silence_when", 'Must be "before" or "after" the run, or left out.')
    ceremony = SubmittedCeremony(
        prayer_before=entry.boolean("prayer_before"),
        silence_seconds=entry.integer("silence_seconds", 0, MAX_SILENCE_SECONDS),
        flag_carried=entry.boolean("flag_carried"),
        prayer_after=entry.boolean("prayer_after"),
        silence_when=raw.get("silence_when"),
    )
    for key, message in entry.errors.items():
        fields.errors.setdefault(key, message)
    return None if entry.errors else ceremony


def _validate_laps(fields: Fields, data: dict) -> tuple[tuple[int, int], ...]:
    laps: list[tuple[int, int]] = []
    previous_ms = 0
    for index, raw in enumerate(fields.items("laps", MAX_LAPS)):
        name = f"laps[{index}]"
        if not isinstance(raw, dict):
            fields.errors.setdefault(name, "Must be an object with seq and elapsed_ms.")
            continue
        lap = Fields(raw, prefix=f"{name}.")
        seq = lap.integer("seq", 1, MAX_LAPS)
        elapsed_ms = lap.integer("elapsed_ms", 1, MAX_ELAPSED_MS)
        if seq is not None and seq != index + 1:
            lap.errors.setdefault(f"{name}.seq", f"Must be {index + 1}: laps count 1, 2, 3...")
        if elapsed_ms is not None:
            if elapsed_ms <= previous_ms:
                lap.errors.setdefault(
                    f"{name}.elapsed_ms", "Must be greater than the previous lap's elapsed_ms."
                )
            previous_ms = max(previous_ms, elapsed_ms)
        for key, message in lap.errors.items():
            fields.errors.setdefault(key, message)
        if not lap.errors:
            laps.append((seq, elapsed_ms))
    if data.get("laps") is None:
        fields.errors.setdefault("laps", "This field is required: a list, empty if no lap.")
    return tuple(laps)


def _check_laps_fit_the_run(
    fields: Fields, laps: tuple[tuple[int, int], ...], duration: timedelta
) -> None:
    """The last lap must fall within finished_at - started_at, give or take the tolerance."""
    duration_ms = duration // timedelta(milliseconds=1)
    if laps[-1][1] > duration_ms + LAP_CLOCK_TOLERANCE_MS:
        fields.fail(
            f"laps[{len(laps) - 1}].elapsed_ms",
            f"Must fall within the run's own time: {duration_ms / 1000:g} s from started_at to "
            f"finished_at, give or take {LAP_CLOCK_TOLERANCE_MS // 1000} s.",
        )


def short_lap(laps, min_lap_seconds: int) -> str | None:
    """Why these (seq, elapsed_ms) laps need an admin's look: the first lap quicker than the
    track's shortest lap (the phone ignores such taps), or None when every lap is plausible."""
    previous = 0
    for seq, elapsed_ms in laps:
        if elapsed_ms - previous < min_lap_seconds * 1000:
            took = (elapsed_ms - previous) / 1000
            return f"Lap {seq} took {took:g} s; the track's shortest lap is {min_lap_seconds} s."
        previous = elapsed_ms
    return None


def _validate_checkins(fields: Fields, data: dict) -> tuple[SubmittedCheckin, ...]:
    checkins: list[SubmittedCheckin] = []
    seen: set[str] = set()
    for index, raw in enumerate(fields.items("checkins", MAX_CHECKINS)):
        name = f"checkins[{index}]"
        if not isinstance(raw, dict):
            fields.errors.setdefault(name, "Must be an object.")
            continue
        entry = Fields(raw, prefix=f"{name}.")
        checkin = SubmittedCheckin(
            id=entry.uuid("id"),
            name=entry.text("name", 120, required=True),
            agency=entry.text("agency", 160),
            badge=entry.text("badge", 60),
            role=entry.choice("role", CHECKIN_ROLES, default="escort"),
            public=entry.boolean("public"),
            checked_in_at=entry.timestamp("checked_in_at", False),
        )
        if checkin.id is not None:
            if checkin.id in seen:
                entry.errors.setdefault(f"{name}.id", "The same check-in id appears twice.")
            seen.add(checkin.id)
        for key, message in entry.errors.items():
            fields.errors.setdefault(key, message)
        if not entry.errors:
            checkins.append(checkin)
    return tuple(checkins)


def sync_runs(runner_id: int, device_id: str, raw_runs: list) -> list[RunResult]:
    """Apply each submitted run in its own transaction (committed or rolled back); one result each.

    This is the transaction boundary of a sync: a bad run never stops the good ones.
    """
    results = []
    for raw in raw_runs:
        reply_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(reply_id, str) or len(reply_id) > 64:
            reply_id = None  # echo ids the phone can match, never arbitrary JSON
        submitted, errors = validate_run(raw)
        if submitted is None:
            results.append(RunResult(reply_id, REJECTED, errors=errors))
            continue
        results.append(_sync_one(runner_id, device_id, submitted, reply_id))
    return results


def _sync_one(runner_id: int, device_id: str, submitted: SubmittedRun, reply_id: Any) -> RunResult:
    # A run is idempotent by its UUID, so a dropped connection is worth one more try.
    result = retry_if_dropped(lambda: _commit_run(runner_id, device_id, submitted))
    result.id = reply_id
    return result


def _commit_run(runner_id: int, device_id: str, submitted: SubmittedRun) -> RunResult:
    """Apply and commit one run (or roll back a run that is not new); retried on a lost race."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            result = _apply_run(runner_id, device_id, submitted)
            if result.status == CREATED or not result.wrote:
                # A run that only read (a duplicate, a conflict) ends with COMMIT too, as a
                # rollback would: psycopg forgets its prepared statements on every ROLLBACK.
                db.session.commit()
            else:
                db.session.rollback()
        except (IntegrityError, _LostRace):
            # Another request stored this run (or one of its check-ins) first; the next
            # attempt answers from the row it committed.
            db.session.rollback()
            if attempt == _ATTEMPTS:
                raise
            continue
        return result
    raise AssertionError("unreachable")


def _of_track(column):
    return sa.select(column).where(Track.id == sa.bindparam("track_id")).scalar_subquery()


# The statements of a sync, built once: a sync is the busiest write of the site.
# The stored run, if any, under a row lock: a concurrent push of the same planned run waits
# for this one. (SQLite has no FOR UPDATE; _claim_planned_run serialises there.)
_STORED = (
    sa.select(Run.runner_id, Run.hero_id, Run.content_hash, Run.mile_number)
    .where(Run.id == sa.bindparam("run_id"))
    .with_for_update()
    .subquery("stored")
)
_ONE_ROW = sa.select(sa.literal(1).label("one")).subquery("one")
# One round trip for the track, the hero, whether any of these check-in ids is taken (almost
# never: then the check-ins need not be looked up one by one), and the stored run (NULLs for
# a new one): one row always.
_CHECK_RUN = sa.select(
    _of_track(Track.laps_per_mile).label("laps_per_mile"),
    _of_track(Track.min_lap_seconds).label("min_lap_seconds"),
    sa.exists().where(Hero.id == sa.bindparam("hero_id")).label("hero_known"),
    sa.exists()
    .where(Checkin.id.in_(sa.bindparam("checkin_ids", expanding=True)))
    .label("checkins_taken"),
    _STORED,
).select_from(_ONE_ROW.outerjoin(_STORED, sa.true()))
_INSERT_RUN = sa.insert(Run.__table__)
_INSERT_CHECKIN = sa.insert(Checkin.__table__)
_INSERT_LAP = sa.insert(Lap.__table__)
# PostgreSQL takes a run's laps as two arrays in one INSERT: one statement to run, where an
# executemany runs one per lap (7 laps: 0.55 ms against 0.9 ms in the app, measured).
_LAP_ARRAYS = (
    sa.func.unnest(
        sa.bindparam("seqs", type_=sa.ARRAY(Lap.__table__.c.seq.type)),
        sa.bindparam("elapsed", type_=sa.ARRAY(Lap.__table__.c.elapsed_ms.type)),
    )
    .table_valued("seq", "elapsed_ms")
    .render_derived(name="lap")
)
_INSERT_LAPS_FROM_ARRAYS = sa.insert(Lap.__table__).from_select(
    ["run_id", "seq", "elapsed_ms"],
    sa.select(
        sa.bindparam("lap_run_id", type_=Lap.__table__.c.run_id.type),
        _LAP_ARRAYS.c.seq,
        _LAP_ARRAYS.c.elapsed_ms,
    ),
)
# (Its parameter is not named runner_id: in _NUMBER_RUN_FROM_COUNTER, an UPDATE of runs, that
# name is taken by the runs.runner_id column.)
_NEXT_MILE_NUMBER = (
    sa.update(Runner.__table__)
    .where(Runner.__table__.c.id == sa.bindparam("counter_of"))
    .values(miles_logged=Runner.__table__.c.miles_logged + 1)
    .returning(
        (Runner.__table__.c.starting_mile_count + Runner.__table__.c.miles_logged).label(
            "mile_number"
        )
    )
)
_NUMBER_RUN = (
    sa.update(Run.__table__)
    .where(Run.__table__.c.id == sa.bindparam("run_id"))
    .values(mile_number=sa.bindparam("mile_number"))
)
# PostgreSQL takes the number and gives it to the run in one round trip (a data-modifying
# WITH, which SQLite lacks): the runner's row lock is held one round trip less.
_NUMBER_RUN_FROM_COUNTER = (
    sa.update(Run.__table__)
    .where(Run.__table__.c.id == sa.bindparam("run_id"))
    .values(mile_number=sa.select(_NEXT_MILE_NUMBER.cte("next_mile")).scalar_subquery())
    .returning(Run.__table__.c.mile_number)
)


def _apply_run(runner_id: int, device_id: str, submitted: SubmittedRun) -> RunResult:
    """Change the session for one validated run; the caller commits only a created run."""
    checked = _core(
        _CHECK_RUN,
        {
            "track_id": submitted.track_id,
            "hero_id": submitted.hero_id,
            "checkin_ids": [c.id for c in submitted.checkins],
            "run_id": submitted.id,
        },
    ).one()
    errors = {}
    if not checked.hero_known:
        errors["hero_id"] = "No hero has this id."
    if checked.laps_per_mile is None:
        errors["track_id"] = "No track has this id."
    if errors:
        return RunResult(submitted.id, REJECTED, errors=errors)

    content_hash = submitted.content_hash
    whole_mile = len(submitted.laps) >= checked.laps_per_mile
    review_reason = short_lap(submitted.laps, checked.min_lap_seconds) if whole_mile else None
    if checked.runner_id is None:  # no run stored under this id (a stored run has a runner)
        return _insert_run(
            runner_id, device_id, submitted, review_reason, whole_mile, checked.checkins_taken
        )
    if checked.runner_id != runner_id:
        return RunResult(
            submitted.id, CONFLICT, errors={"id": "This run id is already used by another run."}
        )
    if checked.content_hash is not None:
        if checked.content_hash == content_hash:
            return RunResult(submitted.id, DUPLICATE, mile_number=checked.mile_number)
        return RunResult(
            submitted.id,
            CONFLICT,
            mile_number=checked.mile_number,
            errors={"id": "This run was already synced with other content; the server kept it."},
        )
    if checked.hero_id != submitted.hero_id:
        return RunResult(
            submitted.id, CONFLICT, errors={"hero_id": "This planned run is for another hero."}
        )
    return _fill_in_planned_run(
        runner_id, device_id, submitted, review_reason, whole_mile, checked.checkins_taken
    )


def _insert_run(
    runner_id: int,
    device_id: str,
    submitted: SubmittedRun,
    review_reason: str | None,
    whole_mile: bool,
    checkins_taken: bool,
) -> RunResult:
    """Store a run the server has not seen: Core INSERTs (the run, then its check-ins in one
    executemany and its laps in one statement, see _store_laps), then its mile number, audited
    and noted for the page cache by hand.

    No unit of work: a sync is the busiest write of the site, and every row here is new.
    """
    if checkins_taken:  # a new run's check-in id already stored can only be another run's
        ids = [c.id for c in submitted.checkins]
        taken = set(db.session.scalars(sa.select(Checkin.id).where(Checkin.id.in_(ids))))
        errors = {
            f"checkins[{index}].id": CHECKIN_OF_ANOTHER_RUN
            for index, c in enumerate(submitted.checkins)
            if c.id in taken
        }
        if errors:
            return RunResult(submitted.id, REJECTED, errors=errors)
    run = new_row(
        Run,
        id=submitted.id,
        runner_id=runner_id,
        hero_id=submitted.hero_id,
        review_reason=review_reason,
        **_synced_values(submitted, device_id),
    )
    # A concurrent insert of the same id fails here, before any lock.
    _core(_INSERT_RUN, run)
    checkins = [
        new_row(
            Checkin,
            id=c.id,
            run_id=run["id"],
            source="phone",
            device_id=device_id,
            name=c.name,
            agency=c.agency,
            badge=c.badge,
            role=c.role,
            public=c.public,
            **({"checked_in_at": c.checked_in_at} if c.checked_in_at is not None else {}),
        )
        for c in submitted.checkins
    ]
    if checkins:
        _core(_INSERT_CHECKIN, checkins)
    _store_laps(run["id"], submitted.laps, replace=False)
    notes = {}
    if whole_mile and review_reason is None:
        run["mile_number"] = _number_run(runner_id, run["id"])  # the runner's lock comes last
    elif whole_mile:
        notes["laps"] = _held_for_review(review_reason)
    audit.record_new(Run, run)
    for checkin in checkins:
        audit.record_new(Checkin, checkin)
    pagecache.touch_run(run["id"])
    return RunResult(
        submitted.id, CREATED, mile_number=run["mile_number"], errors=notes, wrote=True
    )


def _held_for_review(review_reason: str) -> str:
    return f"{review_reason} The run is saved without a mile number until the team checks it."


def _fill_in_planned_run(
    runner_id: int,
    device_id: str,
    submitted: SubmittedRun,
    review_reason: str | None,
    whole_mile: bool,
    checkins_taken: bool,
) -> RunResult:
    """Fill in a run an admin planned (locked by the caller) with the phone's record."""
    _claim_planned_run(submitted.id, submitted.content_hash)
    run = db.session.get(Run, submitted.id)
    _fill_in(run, submitted, device_id)
    errors, notes = _store_checkins(run.id, device_id, submitted.checkins, checkins_taken)
    if errors:
        return RunResult(submitted.id, REJECTED, errors=errors, wrote=True)
    _store_laps(run.id, submitted.laps, replace=True)
    if run.mile_number is None and whole_mile:
        if run.review_reason != review_reason:
            run.review_reason = review_reason
        if run.review_reason is None:
            db.session.flush()  # the runner's row lock is the last lock taken: no deadlock
            run.mile_number = _next_mile_number(runner_id)
        else:
            notes["laps"] = _held_for_review(run.review_reason)
    db.session.flush()
    return RunResult(submitted.id, CREATED, mile_number=run.mile_number, errors=notes, wrote=True)


def _synced_values(submitted: SubmittedRun, device_id: str) -> dict[str, Any]:
    """The columns of a run that the phone's record sets."""
    ceremony = submitted.ceremony
    return {
        "track_id": submitted.track_id,
        "started_at": submitted.started_at,
        "finished_at": submitted.finished_at,
        "words": submitted.words,
        "video_url": submitted.video_url,
        "status": "synced",
        "synced_at": utcnow(),
        "device_id": device_id,
        "content_hash": submitted.content_hash,
        "prayer_before": ceremony.prayer_before if ceremony else None,
        "silence_seconds": ceremony.silence_seconds if ceremony else None,
        "flag_carried": ceremony.flag_carried if ceremony else None,
        "prayer_after": ceremony.prayer_after if ceremony else None,
        "silence_when": ceremony.silence_when if ceremony else None,
    }


def _fill_in(run: Run, submitted: SubmittedRun, device_id: str) -> None:
    """Copy the phone's record onto a planned run; it keeps words it has if none came."""
    for key, value in _synced_values(submitted, device_id).items():
        if key in ("words", "video_url") and not value and getattr(run, key) is not None:
            continue
        setattr(run, key, value)


class _LostRace(Exception):
    """Another request filled in this planned run first."""


def _claim_planned_run(run_id: str, content_hash: str) -> None:
    """Mark the planned run as being filled in, or raise _LostRace if another request did.

    On PostgreSQL the SELECT ... FOR UPDATE already serialises this; SQLite ignores FOR
    UPDATE, so this conditional UPDATE is what makes the second request wait and lose.
    """
    table = Run.__table__
    claimed = db.session.execute(
        pagecache.noted(
            sa.update(table)
            .where(table.c.id == run_id, table.c.content_hash.is_(None))
            .values(content_hash=content_hash)
        )
    )
    if claimed.rowcount != 1:
        raise _LostRace
    pagecache.touch_run(run_id)


CHECKIN_OF_ANOTHER_RUN = "This check-in id belongs to another run."
OFFICERS_CHECKIN = "This check-in belongs to the officer who made it; it was left as it was."
OTHER_PHONES_CHECKIN = "This check-in was added on another phone; it was left as it was."
REMOVED_CHECKIN = "This check-in was removed by the team; it stays removed."


def _store_checkins(
    run_id: str, device_id: str, checkins: tuple[SubmittedCheckin, ...], any_taken: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """Add the phone's check-ins by UUID, and update those this device added itself.

    Answers (errors, notes): an error (a check-in of another run) refuses the run; a note
    says a check-in someone else made, the officer on the /c/ form or another phone, or one
    the team removed, was left as it was, while the rest of the run is stored.
    """
    if not checkins:
        return {}, {}
    stored = (
        {
            c.id: c
            for c in db.session.scalars(
                sa.select(Checkin).where(Checkin.id.in_([c.id for c in checkins]))
            )
        }
        if any_taken
        else {}
    )  # one stored meanwhile fails the INSERT: the retry looks again
    errors: dict[str, str] = {}
    notes: dict[str, str] = {}
    for index, submitted in enumerate(checkins):
        checkin = stored.get(submitted.id)
        if checkin is None:
            checkin = Checkin(id=submitted.id, run_id=run_id, source="phone", device_id=device_id)
            if submitted.checked_in_at is not None:
                checkin.checked_in_at = submitted.checked_in_at
            db.session.add(checkin)
        elif checkin.run_id != run_id:
            errors[f"checkins[{index}].id"] = CHECKIN_OF_ANOTHER_RUN
            continue
        elif checkin.removed_at is not None:
            notes[f"checkins[{index}]"] = REMOVED_CHECKIN
            continue
        elif checkin.source != "phone":
            notes[f"checkins[{index}]"] = OFFICERS_CHECKIN
            continue
        elif checkin.device_id != device_id:
            notes[f"checkins[{index}]"] = OTHER_PHONES_CHECKIN
            continue
        checkin.name = submitted.name
        checkin.agency = submitted.agency
        checkin.badge = submitted.badge
        checkin.role = submitted.role
        checkin.public = submitted.public
    return errors, notes


def _store_laps(run_id: str, laps: tuple[tuple[int, int], ...], replace: bool) -> None:
    """Insert the laps in one statement on PostgreSQL, one executemany elsewhere; bypassing
    the unit of work keeps 200 laps cheap.

    (One INSERT of many VALUES rows measured twice as slow here, in the app and in
    PostgreSQL, as psycopg's executemany.)"""
    table = Lap.__table__
    if replace:
        # Only a planned run given laps by hand has any; the phone's record is the truth.
        _core(sa.delete(table).where(table.c.run_id == run_id))
    if laps and _on_postgresql():
        arrays = {"seqs": [seq for seq, _ in laps], "elapsed": [ms for _, ms in laps]}
        _core(_INSERT_LAPS_FROM_ARRAYS, {"lap_run_id": run_id, **arrays})
    elif laps:
        _core(_INSERT_LAP, [{"run_id": run_id, "seq": seq, "elapsed_ms": ms} for seq, ms in laps])
    pagecache.touch_run(run_id)


def _next_mile_number(runner_id: int) -> int:
    """Take the runner's next mile number: the UPDATE row-locks the runner until commit.
    The team's miles change with it, so the wall's cached pages go."""
    pagecache.touch_wall()
    return _core(_NEXT_MILE_NUMBER, {"counter_of": runner_id}).scalar_one()


def _number_run(runner_id: int, run_id: str) -> int:
    """Give the stored run the runner's next mile number, past the ORM (an audited run takes
    _next_mile_number instead); the caller notes the run for the page cache."""
    if _on_postgresql():
        # The number taken and given in one round trip; it changes the team's miles too.
        pagecache.touch_wall()
        parameters = {"counter_of": runner_id, "run_id": run_id}
        return _core(_NUMBER_RUN_FROM_COUNTER, parameters).scalar_one()
    mile_number = _next_mile_number(runner_id)
    _core(_NUMBER_RUN, {"run_id": run_id, "mile_number": mile_number})
    return mile_number


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _core(statement, parameters=None):
    """Execute a Core statement in the session's transaction, past the ORM's execute hooks:
    the sync's busy path, whose callers audit their writes and touch the page cache."""
    return db.session.connection().execute(statement, parameters)


def confirm_mile(run: Run) -> bool:
    """An admin confirms a mile held for review: it takes the runner's next mile number.

    The conditional UPDATE claims the review once, so a double click numbers it once; the
    number comes from the same atomic counter as a synced mile. The caller commits.
    """
    table = Run.__table__
    claimed = db.session.execute(
        pagecache.noted(
            sa.update(table)
            .where(
                table.c.id == run.id,
                table.c.review_reason.is_not(None),
                table.c.mile_number.is_(None),
            )
            .values(review_reason=None)
        )
    )
    if claimed.rowcount != 1:
        return False
    pagecache.touch_run(run.id)
    _number_run(run.runner_id, run.id)
    db.session.expire(run)
    return True


def team_miles() -> int:
    """The team's miles: over every runner account, active or not, the miles run before this
    system plus the numbered runs here. A runner who leaves the team does not un-run miles.

    The one definition, shown by the admin dashboard and the public wall alike.
    """
    total = sa.func.sum(Runner.starting_mile_count + Runner.miles_logged)
    return db.session.scalar(sa.select(sa.func.coalesce(total, 0)))


def runs_of(runner_id: int) -> list[Run]:
    """The runner's runs, newest first: by finish time, else scheduled time, else creation."""
    newest = sa.func.coalesce(Run.finished_at, Run.scheduled_at, Run.created_at)
    return list(
        db.session.scalars(
            sa.select(Run)
            .where(Run.runner_id == runner_id)
            .options(selectinload(Run.hero), selectinload(Run.track), selectinload(Run.laps))
            .order_by(newest.desc(), Run.created_at.desc(), Run.id)
        )
    )


def run_of(runner_id: int, run_id: str) -> Run:
    """The runner's own run with this id; NotFound if it is unknown or another runner's.

    The one lookup of "this runner's run", for the runs, check-in and shipment APIs.
    """
    canonical = _canonical_uuid(run_id)
    run = None
    if canonical is not None:
        run = db.session.scalar(
            sa.select(Run).where(Run.id == canonical, Run.runner_id == runner_id)
        )
    if run is None:
        raise NotFound("No run with that id is yours.")
    return run
