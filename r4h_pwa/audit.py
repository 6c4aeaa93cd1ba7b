"""The audit log: every change to people, runs, shipments and credentials, written in one place.

A `before_flush` hook on the session reads the attribute history of the audited models;
each new, changed or deleted row is merged into one change per object per transaction, and
`before_commit` writes those as AuditEntry rows in the same transaction, so no service has
to remember to log (and a rolled-back change leaves no entry). The actor is whoever the
request acts for: the signed-in user, the phone's runner (set by the device guard), or a
label set with `act_as` ("cli", "officer via check-in form"). Writes that bypass the unit
of work (the check-in form's upsert, a synced run's INSERTs) call `record` or `record_new`.

Addresses and the recipient's name appear only as "changed"; secrets (password hash,
tokens, the authenticator secret) never appear. Entries are append-only: the session
refuses to change or delete them, and so does a trigger in the database.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEntry, Checkin, Device, Hero, Run, Runner, Shipment, Track, utcnow

SYSTEM = "system"
CLI = "cli"
OFFICER = "officer via check-in form"
FAMILY = "family via family page"
CHANGED = "changed"  # what the log shows instead of an address or a secret
CREATED, UPDATED, DELETED = "created", "updated", "deleted"


@dataclass(frozen=True)
class Audited:
    """How one model appears in the log: its name, fields left out, and fields hidden."""

    name: str
    ignored: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    # A field shown as a yes/no fact instead of its value: the authenticator's secret.
    as_flag: dict[str, str] = field(default_factory=dict)


ADDRESS_FIELDS = frozenset(
    {"recipient_name", "address_line1", "address_line2", "city", "state", "postal_code"}
)
AUDITED: dict[type, Audited] = {
    Hero: Audited("hero", ignored=frozenset({"created_at"})),
    Track: Audited("track", ignored=frozenset({"created_at"})),
    Runner: Audited(
        "runner",
        # miles_logged moves with every numbered run (the run's entry says so); the last
        # TOTP step moves with every sign-in.
        ignored=frozenset({"created_at", "miles_logged", "totp_last_step"}),
        hidden=frozenset({"password_hash", "session_token"}),
        as_flag={"totp_secret": "two_factor"},
    ),
    Device: Audited(
        "device",
        ignored=frozenset({"created_at", "last_used_at"}),
        hidden=frozenset({"token_hash"}),
    ),
    Run: Audited(
        "run",
        ignored=frozenset({"created_at", "content_hash"}),
        hidden=frozenset({"checkin_token"}),
    ),
    Checkin: Audited("checkin", ignored=frozenset({"updated_at"})),
    Shipment: Audited(
        "shipment",
        ignored=frozenset({"created_at"}),
        hidden=ADDRESS_FIELDS | {"family_token", "ack_message"},
    ),
}
OBJECT_TYPES = tuple(sorted(spec.name for spec in AUDITED.values()))


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when anything tries to change or delete an audit entry."""


# --- who acts ----------------------------------------------------------------------------------


def act_as(actor: Runner | str) -> None:
    """Name who the rest of this request (or CLI command) acts for: an account or a label."""
    g.audit_actor = actor


def _actor() -> tuple[int | None, str]:
    actor = g.get("audit_actor") if has_app_context() else None
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.name


def _forget_actor(exc: BaseException | None) -> None:
    g.pop("audit_actor", None)


# --- what changed ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _shown(spec: Audited, key: str, value: Any) -> tuple[str, Any]:
    """The key and value the log shows for one field."""
    if key in spec.as_flag:
        return spec.as_flag[key], value is not None
    if key in spec.hidden:
        return key, CHANGED
    return key, _plain(value)


def _keys(model: type, spec: Audited) -> list[str]:
    return [a.key for a in sa.inspect(model).column_attrs if a.key not in spec.ignored]


def _snapshot(obj: Any, spec: Audited) -> dict[str, Any]:
    """Every audited field of a row as the log shows it (for a row created or deleted)."""
    return dict(_shown(spec, key, getattr(obj, key)) for key in _keys(type(obj), spec))


def _changes(session: Session, obj: Any, spec: Audited) -> tuple[dict, dict]:
    """The old and new values of the fields this flush changes in a stored row."""
    state = sa.inspect(obj)
    old, new, unknown = {}, {}, []
    for key in _keys(type(obj), spec):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        new[key] = history.added[0] if history.added else None
        if history.deleted:
            old[key] = history.deleted[0]
        else:
            unknown.append(key)  # set without being loaded first: ask the database
    if unknown:
        mapper = sa.inspect(type(obj))
        columns = [mapper.columns[key] for key in unknown]
        keys = dict(zip(mapper.primary_key, state.identity, strict=True))
        row = session.execute(
            sa.select(*columns).where(*(column == value for column, value in keys.items()))
        ).first()
        old.update(zip(unknown, row or [None] * len(unknown), strict=True))
    changed = [key for key in new if old.get(key) != new[key]]
    return (
        dict(_shown(spec, key, old[key]) for key in changed),
        dict(_shown(spec, key, new[key]) for key in changed),
    )


def _object_id(obj: Any) -> str:
    identity = sa.inspect(obj).identity
    return ":".join(str(part) for part in identity) if identity else "?"


# --- the session hooks -------------------------------------------------------------------------


def _refuse_changes_to_the_log(session: Session) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("The audit log cannot be changed or deleted.")


def _before_flush(session: Session, flush_context, instances) -> None:
    """Note each audited change while its history is still there; new rows wait for their ids."""
    _refuse_changes_to_the_log(session)
    pending = []
    for obj in session.new:
        if type(obj) in AUDITED:
            pending.append((obj, CREATED, None, None))
    for obj in session.dirty:
        spec = AUDITED.get(type(obj))
        if spec is None or not session.is_modified(obj):
            continue
        old, new = _changes(session, obj, spec)
        if new:
            pending.append((obj, UPDATED, old, new))
    for obj in session.deleted:
        spec = AUDITED.get(type(obj))
        if spec is not None:
            pending.append((obj, DELETED, _snapshot(obj, spec), None))
    flush_context.attributes["audit"] = pending


@dataclass
class _Change:
    """One object's change in the open transaction, merged over its flushes."""

    object_type: str
    object_id: str
    action: str
    old: dict | None
    new: dict | None
    actor: tuple[int | None, str]


def _note(session: Session, spec: Audited, object_id: str, action: str, old, new) -> None:
    """Keep one change per object per transaction: its first old values and its last new ones."""
    buffer = session.info.setdefault("audit", {})
    key = (spec.name, object_id)
    earlier = buffer.get(key)
    if earlier is None or action == CREATED:
        buffer[key] = _Change(spec.name, object_id, action, old, new, _actor())
    elif action == DELETED:
        if earlier.action == CREATED:
            del buffer[key]  # made and unmade in one transaction: nothing was stored
        else:
            earlier.action, earlier.old, earlier.new = DELETED, {**old, **(earlier.old or {})}, None
    elif earlier.action == CREATED:
        earlier.new = {**earlier.new, **new}
    else:
        earlier.old, earlier.new = {**old, **earlier.old}, {**earlier.new, **new}


def _after_flush_postexec(session: Session, flush_context) -> None:
    """Buffer what this flush changed; new rows now have their ids and column defaults."""
    for obj, action, old, new in flush_context.attributes.pop("audit", []):
        spec = AUDITED[type(obj)]
        if action == CREATED:
            new = _snapshot(obj, spec)
        _note(session, spec, _object_id(obj), action, old, new)


def _before_commit(session: Session) -> None:
    """Write the transaction's changes as entries, in one INSERT before the COMMIT."""
    session.flush()
    rows = []
    for change in session.info.pop("audit", {}).values():
        old, new = change.old, change.new
        if change.action == UPDATED:
            # A hidden value reads "changed" on both sides; any other that ends as it began
            # was changed and changed back.
            keys = [key for key in new if new[key] == CHANGED or old.get(key) != new[key]]
            if not keys:
                continue
            old, new = {k: old[k] for k in keys}, {k: new[k] for k in keys}
        actor_id, actor_name = change.actor
        rows.append(
            {
                "at": utcnow(),
                "actor_id": actor_id,
                "actor_name": actor_name[:120],
                "object_type": change.object_type,
                "object_id": change.object_id,
                "action": change.action,
                "old_values": old,
                "new_values": new,
            }
        )
    if rows:  # Core, not the unit of work: the entries are only ever inserted
        session.connection().execute(sa.insert(AuditEntry.__table__), rows)


def _after_rollback(session: Session, previous_transaction) -> None:
    """A rolled-back change never happened: forget it."""
    session.info.pop("audit", None)


def _refuse_bulk_changes(execute_state) -> None:
    """An ORM UPDATE or DELETE statement aimed at the log is refused before it runs."""
    if (execute_state.is_update or execute_state.is_delete) and (
        execute_state.bind_mapper is not None and execute_state.bind_mapper.class_ is AuditEntry
    ):
        raise AuditLogIsAppendOnly("The audit log cannot be changed or deleted.")


def record(obj: Any, old: dict | None = None) -> None:
    """Log a row written by a Core statement (an upsert), which the session's hook cannot see.

    With no old values the row was created; otherwise `old` holds the fields as they were.
    """
    spec = AUDITED[type(obj)]
    if old is None:
        _note(db.session, spec, _object_id(obj), CREATED, None, _snapshot(obj, spec))
        return
    changed = [key for key, value in old.items() if getattr(obj, key) != value]
    if changed:
        _note(
            db.session,
            spec,
            _object_id(obj),
            UPDATED,
            dict(_shown(spec, key, old[key]) for key in changed),
            dict(_shown(spec, key, getattr(obj, key)) for key in changed),
        )


def record_new(model: type, row: dict[str, Any]) -> None:
    """Log a row a Core INSERT created: `row` holds the value of every column it stored."""
    spec = AUDITED[model]
    object_id = ":".join(str(row[column.key]) for column in sa.inspect(model).primary_key)
    snapshot = dict(_shown(spec, key, row.get(key)) for key in _keys(model, spec))
    _note(db.session, spec, object_id, CREATED, None, snapshot)


# --- reading it --------------------------------------------------------------------------------


def entries(object_type: str | None, object_id: str | None, page: int, per_page: int = 50):
    """A page of entries, newest first, for one object (or kind of object) or for all."""
    query = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id:
        query = query.where(AuditEntry.object_id == object_id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


# --- the database's own guard ------------------------------------------------------------------

# The same statements run in the migration that creates the table.
APPEND_ONLY_DDL = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
    ),
}


def _create_triggers(table, connection, **kw) -> None:
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, ()):
        connection.execute(sa.text(statement))


sa.event.listen(AuditEntry.__table__, "after_create", _create_triggers)


def init_app(app: Flask) -> None:
    """Hook the log into the session (once per process) and forget the actor after requests."""
    session_class = db.session.session_factory.class_
    if not sa.event.contains(session_class, "before_flush", _before_flush):
        sa.event.listen(session_class, "before_flush", _before_flush)
        sa.event.listen(session_class, "after_flush_postexec", _after_flush_postexec)
        sa.event.listen(session_class, "before_commit", _before_commit)
        sa.event.listen(session_class, "after_soft_rollback", _after_rollback)
        sa.event.listen(session_class, "do_orm_execute", _refuse_bulk_changes)
    app.teardown_request(_forget_actor)
