"""The domain of DESIGN.md as typed SQLAlchemy 2.0 models. Models never commit."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .sealing import SealedString


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def new_uuid() -> str:
    """A random UUID as its canonical string."""
    return str(uuid.uuid4())


def new_token() -> str:
    """An unguessable URL-safe token carrying 192 random bits."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a bearer token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_row(model: type, **values) -> dict:
    """A new row of model for a Core INSERT: every column, as given, else as its Python
    default makes it (as a flush would), else None; a database default is left to the
    database. Written out in full, the row is also what the audit log records."""
    row = {}
    for column in model.__table__.columns:
        default = column.default
        if column.key in values:
            row[column.key] = values[column.key]
        elif default is not None and default.is_callable:
            row[column.key] = default.arg(None)
        elif default is not None and default.is_scalar:
            row[column.key] = default.arg
        elif column.server_default is None:
            row[column.key] = None
    return row


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC that always reads back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


HERO_KINDS = ("police", "fire", "ems", "corrections", "dispatch", "federal", "k9")
FLAG_TYPES = {
    "police": "Thin blue line",
    "k9": "Thin blue line",
    "fire": "Thin red line",
    "ems": "Thin white line",
    "corrections": "Thin silver line",
    "dispatch": "Thin gold line",
    "federal": "Thin blue line",
}
HERO_KIND_LABELS = {
    "police": "Police",
    "fire": "Fire",
    "ems": "EMS",
    "corrections": "Corrections",
    "dispatch": "Dispatch",
    "federal": "Federal",
    "k9": "K9",
}
# The states, DC and the territories, by their two-letter postal codes: a hero's state.
US_STATES = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    }
)
# A flag can also be mailed to a military post office (APO/FPO), though no hero serves there.
MILITARY_POST_OFFICES = frozenset({"AA", "AE", "AP"})
MAILING_STATES = US_STATES | MILITARY_POST_OFFICES
ROLES = ("admin", "runner")
# A run's status on the server, and what the phone calls the same run (static/js keeps the
# phone's word in IndexedDB; the server never sees counting, outbox or parked):
RUN_STATUSES = ("planned", "synced")
PHONE_RUN_STATUSES = {
    "counting": "planned",  # laps being counted (a run begun on the phone is not on the server yet)
    "outbox": "planned",  # finished on the phone, waiting to sync
    "parked": "planned",  # the server refused it (conflict or rejected); the phone keeps its copy
    "synced": "synced",  # the server acknowledged it: numbered if it holds a whole mile
}
CHECKIN_ROLES = ("escort", "runner", "supporter")
RECIPIENT_KINDS = ("family", "intermediary")
# When the moment of silence was kept: on the hero card, or on the finish sheet.
SILENCE_WHEN = ("before", "after")
SHIPMENT_STATUSES = ("draft", "label_printed", "shipped", "delivered", "received")
# An email in the outbox: waiting (or retrying), sent, or given up on until an admin retries it.
EMAIL_STATUSES = ("pending", "sent", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _runs_by_default(context) -> bool:
    """A new account runs miles if it is a runner's; an admin's does not unless set."""
    return context.get_current_parameters().get("role", "runner") != "admin"


class Runner(UserMixin, db.Model):
    """An account: a runner who runs miles, or an admin who manages the team."""

    __tablename__ = "runners"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint("starting_mile_count >= 0", name="starting_mile_count"),
        sa.CheckConstraint("miles_logged >= 0", name="miles_logged"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16), default="runner")
    # Miles run before this system existed; the next mile is starting_mile_count + 1.
    starting_mile_count: Mapped[int] = mapped_column(default=0)
    # Numbered runs recorded here; bumped with an atomic UPDATE so numbers stay gapless.
    miles_logged: Mapped[int] = mapped_column(default=0)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # Someone who runs: only these accounts are offered when a run is planned. A runner
    # account runs unless told otherwise; an admin runs only if this is set.
    runs_miles: Mapped[bool] = mapped_column(default=_runs_by_default, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of Flask-Login's user id: replacing it ends every session of the account.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_token)
    # The authenticator app's shared secret (base32), sealed at rest (sealing.py), and the last
    # time step it was used for.
    totp_secret: Mapped[str | None] = mapped_column(SealedString)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The runner asked to be emailed when a family replies to, or takes down, one of its miles.
    notify_by_email: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    runs: Mapped[list[Run]] = relationship(back_populates="runner")
    devices: Mapped[list[Device]] = relationship(back_populates="runner")
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="runner", cascade="all, delete-orphan"
    )

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts.
        return self.is_active_account

    @property
    def total_miles(self) -> int:
        return self.starting_mile_count + self.miles_logged

    def get_id(self) -> str:
        """Flask-Login's alternative id: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password (scrypt unless config says otherwise)."""
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class Device(db.Model):
    """A phone signed in as a runner, holding a revocable bearer token (stored hashed)."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    runner_id: Mapped[int] = mapped_column(sa.ForeignKey("runners.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    runner: Mapped[Runner] = relationship(back_populates="devices")

    def is_usable(self, now: datetime | None = None) -> bool:
        """Whether the token still authenticates: not revoked and not expired."""
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    runner: Mapped[Runner] = relationship(back_populates="recovery_codes")


class Hero(db.Model):
    """A first responder who died in the line of duty."""

    __tablename__ = "heroes"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", HERO_KINDS), name="kind"),
        # The CSV import relies on this to import nothing twice.
        sa.UniqueConstraint("name", "agency", "end_of_watch", name="uq_heroes_identity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    rank: Mapped[str] = mapped_column(sa.String(80), default="")
    agency: Mapped[str] = mapped_column(sa.String(160))
    state: Mapped[str] = mapped_column(sa.String(2))
    kind: Mapped[str] = mapped_column(sa.String(16))
    end_of_watch: Mapped[date]
    incident_date: Mapped[date | None]
    cause: Mapped[str] = mapped_column(sa.String(160), default="")
    story: Mapped[str] = mapped_column(sa.Text, default="")
    source_url: Mapped[str] = mapped_column(sa.String(500), default="")
    fundraiser_url: Mapped[str] = mapped_column(sa.String(500), default="")
    fundraiser_verified_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    runs: Mapped[list[Run]] = relationship(back_populates="hero")

    @property
    def flag_type(self) -> str:
        return FLAG_TYPES[self.kind]

    @property
    def kind_label(self) -> str:
        return HERO_KIND_LABELS[self.kind]

    @property
    def display_name(self) -> str:
        return f"{self.rank} {self.name}".strip()


class Track(db.Model):
    """A place to run, with its laps per mile and the shortest plausible lap."""

    __tablename__ = "tracks"
    __table_args__ = (
        sa.CheckConstraint("laps_per_mile BETWEEN 1 AND 50", name="laps_per_mile"),
        sa.CheckConstraint("min_lap_seconds BETWEEN 1 AND 3600", name="min_lap_seconds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    laps_per_mile: Mapped[int]
    min_lap_seconds: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Run(db.Model):
    """One mile for one hero: planned by an admin or started on the phone, keyed by a UUID."""

    __tablename__ = "runs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        sa.CheckConstraint("mile_number IS NULL OR mile_number > 0", name="mile_number"),
        sa.UniqueConstraint("runner_id", "mile_number", name="uq_runs_runner_id_mile_number"),
        sa.CheckConstraint("silence_seconds BETWEEN 0 AND 3600", name="silence_seconds"),
        sa.CheckConstraint(_in("silence_when", SILENCE_WHEN), name="silence_when"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    hero_id: Mapped[int] = mapped_column(sa.ForeignKey("heroes.id"), index=True)
    runner_id: Mapped[int] = mapped_column(sa.ForeignKey("runners.id"), index=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="planned")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mile_number: Mapped[int | None]
    words: Mapped[str] = mapped_column(sa.Text, default="")
    video_url: Mapped[str] = mapped_column(sa.String(500), default="")
    # SHA-256 of the synced content: a repeat with other content is a conflict.
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The ceremony as the phone recorded it; all NULL when the phone sent none.
    prayer_before: Mapped[bool | None]
    silence_seconds: Mapped[int | None]
    flag_carried: Mapped[bool | None]
    prayer_after: Mapped[bool | None]
    silence_when: Mapped[str | None] = mapped_column(sa.String(6))  # NULL: the phone did not say
    checkin_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    checkin_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(sa.ForeignKey("devices.id"))
    # Why a synced mile waits for an admin before it gets a number (a lap under the track's
    # minimum); None for every other run. Confirming it numbers the mile and clears this.
    review_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hero: Mapped[Hero] = relationship(back_populates="runs")
    runner: Mapped[Runner] = relationship(back_populates="runs")
    track: Mapped[Track] = relationship()
    laps: Mapped[list[Lap]] = relationship(
        back_populates="run", order_by="Lap.seq", cascade="all, delete-orphan"
    )
    # The check-ins still shown: one an admin removed stays as a tombstone, never listed.
    checkins: Mapped[list[Checkin]] = relationship(
        back_populates="run",
        primaryjoin="and_(Run.id == Checkin.run_id, Checkin.removed_at.is_(None))",
        order_by="Checkin.checked_in_at",
        cascade="all, delete-orphan",
    )
    shipments: Mapped[list[Shipment]] = relationship(back_populates="run")
    photos: Mapped[list[Photo]] = relationship(
        back_populates="run", order_by="Photo.created_at", cascade="all, delete-orphan"
    )

    @property
    def is_complete(self) -> bool:
        # Once synced, the mile number is the verdict: a later edit of the track's laps per
        # mile must not turn an old run complete or incomplete.
        if self.status == "synced":
            return self.mile_number is not None
        return len(self.laps) >= self.track.laps_per_mile

    @property
    def ceremony(self) -> dict | None:
        """The recorded ceremony, or None when the phone sent none."""
        if self.silence_seconds is None:
            return None
        return {
            "prayer_before": self.prayer_before,
            "silence_seconds": self.silence_seconds,
            "flag_carried": self.flag_carried,
            "prayer_after": self.prayer_after,
            "silence_when": self.silence_when,
        }

    @property
    def elapsed_ms(self) -> int | None:
        return self.laps[-1].elapsed_ms if self.laps else None


class Lap(db.Model):
    """One lap: its sequence number and milliseconds since the run began (monotonic clock)."""

    __tablename__ = "laps"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "seq", name="uq_laps_run_id_seq"),
        sa.CheckConstraint("seq >= 1", name="seq"),
        sa.CheckConstraint("elapsed_ms > 0", name="elapsed_ms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    elapsed_ms: Mapped[int] = mapped_column(sa.BigInteger)

    run: Mapped[Run] = relationship(back_populates="laps")


class Checkin(db.Model):
    """An escort or fellow runner at a run; keyed by a UUID so a repeat is idempotent."""

    __tablename__ = "checkins"
    __table_args__ = (sa.CheckConstraint(_in("role", CHECKIN_ROLES), name="role"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    agency: Mapped[str] = mapped_column(sa.String(160), default="")
    badge: Mapped[str] = mapped_column(sa.String(60), default="")
    role: Mapped[str] = mapped_column(sa.String(16), default="escort")
    public: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(8), default="qr")  # "qr" or "phone"
    # The runner's phone that added a "phone" check-in: the only device that may change it.
    # A "qr" check-in (None here) belongs to the officer who made it on the /c/ form.
    device_id: Mapped[str | None] = mapped_column(sa.ForeignKey("devices.id"))
    # Set when an admin removes it: the row stays as a tombstone, so the officer's phone
    # cannot bring it back, and nothing lists it.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    run: Mapped[Run] = relationship(back_populates="checkins")


class Shipment(db.Model):
    """A run's flag on its way to the family or to someone who delivers it in person."""

    __tablename__ = "shipments"
    __table_args__ = (
        sa.CheckConstraint(_in("status", SHIPMENT_STATUSES), name="status"),
        sa.CheckConstraint(_in("recipient_kind", RECIPIENT_KINDS), name="recipient_kind"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(sa.String(120))
    recipient_kind: Mapped[str] = mapped_column(sa.String(16), default="family")
    address_line1: Mapped[str] = mapped_column(sa.String(120))
    address_line2: Mapped[str] = mapped_column(sa.String(120), default="")
    city: Mapped[str] = mapped_column(sa.String(80))
    state: Mapped[str] = mapped_column(sa.String(2))
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    handwritten_note: Mapped[bool] = mapped_column(default=True)
    carrier: Mapped[str] = mapped_column(sa.String(40), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    family_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    family_token_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    label_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_message: Mapped[str] = mapped_column(sa.Text, default="")
    # The family took its page down: /f/<token> answers 410 until an admin restores it.
    family_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[Run] = relationship(back_populates="shipments")


class Photo(db.Model):
    """A photo from the run, re-encoded without any metadata, kept in the database.

    In the database so every app server behind the proxy reads the same bytes, with no
    shared disk, and so a database backup holds the photos too.
    """

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the bytes as uploaded: the same id with the same bytes is a repeat.
    upload_hash: Mapped[str] = mapped_column(sa.String(64))
    width: Mapped[int]
    height: Mapped[int]
    jpeg: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The copy the family page shows (at most PAGE_SIZE px on the long side).
    page_width: Mapped[int]
    page_height: Mapped[int]
    page_jpeg: Mapped[bytes] = mapped_column(sa.LargeBinary)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    run: Mapped[Run] = relationship(back_populates="photos")


class OutboxEmail(db.Model):
    """One email to one address, stored in the request's transaction and sent after it commits.

    r4h_pwa/mail.py sends it, and on failure keeps it with the attempts and the last error,
    and tries again later (backing off), so a mail server that is down never fails a request.
    """

    __tablename__ = "outbox_emails"
    __table_args__ = (
        sa.CheckConstraint(_in("status", EMAIL_STATUSES), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.Index("ix_outbox_emails_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # What it tells: "family_received", "family_message" or "family_hidden".
    reason: Mapped[str] = mapped_column(sa.String(32))
    shipment_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("shipments.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    # When a sender may next take it; a sender that claims it moves this on by a lease, so
    # two senders never send the same email at once.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):
    """One change to a person, run, shipment or credential; written once, never changed.

    r4h_pwa/audit.py writes these from the session's flush; the ORM and the database
    (a trigger) refuse to update or delete them.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The account that acted (no foreign key: the log outlives whatever it names).
    actor_id: Mapped[int | None]
    # The actor's name at the time, or "system", "cli", "officer via check-in form"...
    actor_name: Mapped[str] = mapped_column(sa.String(120))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))  # created, updated or deleted
    old_values: Mapped[dict | None] = mapped_column(sa.JSON)
    new_values: Mapped[dict | None] = mapped_column(sa.JSON)
