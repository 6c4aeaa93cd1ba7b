"""Admin logic: check and save heroes, runners, tracks and planned runs; dashboard figures.

Every validate_* function takes a plain dict of submitted strings (from a form or a CSV row)
and returns the cleaned values, or raises a ValidationError naming each bad field; nothing
is stored unless every field is right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..auth.sessions import credentials_change, end_all_sessions
from ..emails import email_error
from ..extensions import db
from ..formatting import LocalTimeError, input_datetime, local, team_time_to_utc
from ..models import (
    FLAG_TYPES,
    HERO_KIND_LABELS,
    HERO_KINDS,
    ROLES,
    US_STATES,
    Device,
    Hero,
    Run,
    Runner,
    Track,
    utcnow,
)
from ..runs.service import team_miles
from ..validation import Fields, ValidationError

HERO_FIELDS = (
    "name",
    "rank",
    "agency",
    "state",
    "kind",
    "end_of_watch",
    "incident_date",
    "cause",
    "story",
    "source_url",
    "fundraiser_url",
    "fundraiser_verified_by",
)
STORY_MAX = 5000  # a short story: the column is TEXT, the page and the phone are not
WORDS_MAX = 2000
PASSWORD_MIN = 8
PASSWORD_MAX = 200
MAX_STARTING_MILES = 100_000
OLDEST_END_OF_WATCH = date(1700, 1, 1)
FIRST_YEAR, LAST_YEAR = 1900, 2999  # a run's date; also keeps UTC away from datetime's limits

_WHOLE_NUMBER = re.compile(r"^\d{1,9}$")

DUPLICATE_HERO_MESSAGE = "This hero is already listed (same name, agency and end of watch)."
TAKEN_EMAIL_MESSAGE = "Another account already uses this email."
TAKEN_TRACK_MESSAGE = "Another track already has this name."
NOT_A_RUNNER_MESSAGE = (
    "{name} does not run miles. Choose someone from the list, or tick “Runs miles” on "
    "their account first."
)
LOCKED_MILES_MESSAGE = (
    "Locked: this runner already has numbered miles. Each mile number was given once and "
    "never changes, so the starting count can no longer move."
)


def max_length(column) -> int:
    """The length of a String column, so forms and checks follow the model."""
    return column.property.columns[0].type.length


def _one_line(value: str) -> str:
    """Collapse runs of whitespace, so 'Jo  Smith' and 'Jo Smith' are one hero."""
    return " ".join(value.split())


def _whole_number(fields: Fields, key: str, low: int, high: int, required: bool = True):
    """A whole number typed into a form ('1,293' allowed), within bounds."""
    raw = fields.data.get(key)
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    else:
        text = "" if raw is None else str(raw).strip().replace(",", "")
    if not text:
        if required:
            fields.fail(key, "This field is required.")
        return None
    if not _WHOLE_NUMBER.match(text):
        fields.fail(key, "Enter a whole number, like 7.")
        return None
    value = int(text)
    if not low <= value <= high:
        fields.fail(key, f"Must be between {low:,} and {high:,}.")
        return None
    return value


def _flag(value: Any) -> bool:
    """A checkbox: True, or one of the strings a form or CSV uses for yes."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"y", "yes", "true", "on", "1"}


# Heroes ------------------------------------------------------------------------------------


def validate_hero(data: Mapping[str, Any], today: date | None = None):
    """Check a hero's fields (form or CSV row): the values, or a ValidationError."""
    today = today or datetime.now(UTC).date()
    fields = Fields(dict(data))
    values: dict[str, Any] = {
        "name": _one_line(fields.text("name", max_length(Hero.name), required=True)),
        "rank": _one_line(fields.text("rank", max_length(Hero.rank))),
        "agency": _one_line(fields.text("agency", max_length(Hero.agency), required=True)),
        "state": fields.text("state", 40, required=True).upper(),
        "kind": fields.text("kind", 40, required=True).lower().replace("-", ""),
        "end_of_watch": fields.day("end_of_watch", required=True),
        "incident_date": fields.day("incident_date", required=False),
        "cause": _one_line(fields.text("cause", max_length(Hero.cause))),
        "story": fields.text("story", STORY_MAX),
        "source_url": fields.url("source_url", max_length(Hero.source_url)),
        "fundraiser_url": fields.url("fundraiser_url", max_length(Hero.fundraiser_url)),
        "fundraiser_verified_by": _one_line(
            fields.text("fundraiser_verified_by", max_length(Hero.fundraiser_verified_by))
        ),
    }
    if values["state"] and values["state"] not in US_STATES:
        fields.fail("state", "Use the two-letter postal code, like FL.")
    if values["kind"] and values["kind"] not in HERO_KINDS:
        kinds = ", ".join(HERO_KIND_LABELS[k] for k in HERO_KINDS)
        fields.fail("kind", f"Choose one of: {kinds}.")
    end_of_watch = values["end_of_watch"]
    if end_of_watch is not None:
        # A day of slack: the team is a few hours behind UTC in the evening.
        if end_of_watch > today + timedelta(days=1):
            fields.fail("end_of_watch", "End of watch cannot be in the future.")
        elif end_of_watch < OLDEST_END_OF_WATCH:
            fields.fail("end_of_watch", "That date is too long ago; check the year.")
    incident = values["incident_date"]
    if incident is not None and end_of_watch is not None and incident > end_of_watch:
        fields.fail("incident_date", "The incident cannot be after the end of watch.")
    if values["fundraiser_url"] and not values["fundraiser_verified_by"]:
        fields.fail(
            "fundraiser_verified_by",
            "Say who checked that the fundraiser is real before linking to it.",
        )
    fields.check()
    return values


def hero_identity(name: str, agency: str, end_of_watch: date) -> tuple[str, str, date]:
    """What makes two heroes the same: name, agency and end of watch, ignoring case."""
    return (name.casefold(), agency.casefold(), end_of_watch)


def find_same_hero(values: Mapping[str, Any], exclude_id: int | None = None) -> Hero | None:
    """An existing hero with the same name, agency and end of watch, if there is one."""
    candidates = db.session.scalars(
        sa.select(Hero).where(Hero.end_of_watch == values["end_of_watch"])
    )
    wanted = hero_identity(values["name"], values["agency"], values["end_of_watch"])
    for hero in candidates:
        same = hero_identity(hero.name, hero.agency, hero.end_of_watch) == wanted
        if same and hero.id != exclude_id:
            return hero
    return None


def check_hero(data: Mapping[str, Any], hero: Hero | None = None):
    """validate_hero plus the duplicate check the form needs: the values, or a ValidationError."""
    values = validate_hero(data)
    if find_same_hero(values, hero.id if hero else None):
        raise ValidationError({"name": DUPLICATE_HERO_MESSAGE})
    return values


def save_hero(hero: Hero | None, values: Mapping[str, Any]) -> Hero:
    """Create a hero, or update one, from checked values."""
    if hero is None:
        hero = Hero()
        db.session.add(hero)
    for key in HERO_FIELDS:
        setattr(hero, key, values[key])
    db.session.flush()
    return hero


def count_runs_for_hero(hero: Hero) -> int:
    """How many runs honor this hero (a hero with runs cannot be deleted)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Run).where(Run.hero_id == hero.id)
    )


def delete_hero(hero: Hero) -> str | None:
    """Delete a hero that no run honors; otherwise say why not."""
    runs = count_runs_for_hero(hero)
    if runs:
        return f"{hero.display_name} cannot be deleted: {runs} run(s) honor this hero."
    db.session.delete(hero)
    return None


def list_heroes(query: str, page: int, per_page: int = 50):
    """A page of heroes whose name or agency contains query, latest end of watch first."""
    select = sa.select(Hero).order_by(Hero.end_of_watch.desc(), Hero.name)
    if query:
        select = select.where(
            sa.or_(
                Hero.name.icontains(query, autoescape=True),
                Hero.agency.icontains(query, autoescape=True),
            )
        )
    return db.paginate(select, page=page, per_page=per_page)


def kind_choices() -> list[tuple[str, str]]:
    """Kinds for a select, each with the flag it gets."""
    return [(k, f"{HERO_KIND_LABELS[k]} ({FLAG_TYPES[k].lower()} flag)") for k in HERO_KINDS]


@dataclass
class ImportReport:
    """What an import did, row by row (row 1 is the header, as in a spreadsheet)."""

    imported: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def import_heroes(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> ImportReport:
    """Add every valid, new hero from numbered CSV rows; report duplicates and rejections."""
    report = ImportReport()
    existing = db.session.execute(sa.select(Hero.name, Hero.agency, Hero.end_of_watch))
    seen = {hero_identity(*row) for row in existing}
    for number, row in rows:
        if None in row:  # hero_csv files extra cells under the None key
            report.rejected.append((number, {"row": "It has more cells than the header."}))
            continue
        try:
            values = validate_hero(row)
        except ValidationError as exc:
            report.rejected.append((number, exc.fields))
            continue
        identity = hero_identity(values["name"], values["agency"], values["end_of_watch"])
        if identity in seen:
            report.duplicates.append((number, values["name"]))
            continue
        seen.add(identity)
        save_hero(None, values)
        report.imported.append((number, values["name"]))
    return report


# Runners -----------------------------------------------------------------------------------


def has_numbered_runs(runner: Runner) -> bool:
    """Whether any of the runner's runs has a mile number (which locks the starting count)."""
    if runner.miles_logged:
        return True
    numbered = sa.select(Run.id).where(Run.runner_id == runner.id, Run.mile_number.is_not(None))
    return db.session.scalar(sa.select(numbered.exists()))


def lock_runner(runner_id: int) -> Runner | None:
    """Load a runner for editing, holding its row so a sync cannot number a mile meanwhile."""
    return db.session.scalar(
        sa.select(Runner)
        .where(Runner.id == runner_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def validate_runner(data: Mapping[str, Any], runner: Runner | None, acting: Runner | None):
    """Check an account's fields: the values, or a ValidationError. runner is None for a new one;
    acting is the admin making the change (None from the command line)."""
    fields = Fields(dict(data))
    values: dict[str, Any] = {
        "name": _one_line(fields.text("name", max_length(Runner.name), required=True)),
        "email": fields.text("email", max_length(Runner.email), required=True).lower(),
        "role": fields.text("role", 40, required=True),
        "is_active_account": _flag(data.get("is_active_account")),
        "runs_miles": _flag(data.get("runs_miles")),
        "notify_by_email": _flag(data.get("notify_by_email")),
    }
    email_problem = email_error(values["email"]) if values["email"] else None
    if email_problem:
        fields.fail("email", email_problem)
    elif values["email"]:
        other = db.session.scalar(sa.select(Runner).where(Runner.email == values["email"]))
        if other is not None and other is not runner:
            fields.fail("email", TAKEN_EMAIL_MESSAGE)
    if values["role"] and values["role"] not in ROLES:
        fields.fail("role", "Choose admin or runner.")
    if runner is not None and acting is not None and runner.id == acting.id:
        if values["role"] != "admin":
            fields.fail("role", "You cannot take away your own admin role.")
        if not values["is_active_account"]:
            fields.fail("is_active_account", "You cannot disable your own account.")

    locked = runner is not None and has_numbered_runs(runner)
    submitted = fields.data.get("starting_mile_count")
    if locked and submitted in (None, ""):  # the form disables the field once it is locked
        values["starting_mile_count"] = runner.starting_mile_count
    else:
        values["starting_mile_count"] = _whole_number(
            fields, "starting_mile_count", 0, MAX_STARTING_MILES
        )
        count = values["starting_mile_count"]
        if locked and count is not None and count != runner.starting_mile_count:
            fields.fail("starting_mile_count", LOCKED_MILES_MESSAGE)

    password = fields.data.get("password") or ""
    if not isinstance(password, str):
        fields.fail("password", "Must be a string.")
        password = ""
    if runner is None and not password:
        fields.fail("password", "Set a password for the new account.")
    elif password and len(password) < PASSWORD_MIN:
        fields.fail("password", f"Use at least {PASSWORD_MIN} characters.")
    elif len(password) > PASSWORD_MAX:
        fields.fail("password", f"At most {PASSWORD_MAX} characters.")
    values["password"] = password
    fields.check()
    return values


def save_runner(runner: Runner | None, values: Mapping[str, Any]) -> Runner:
    """Create an account, or update one, from checked values (password only if given)."""
    if runner is None:
        runner = Runner()
        db.session.add(runner)
    elif credentials_change(runner, values):
        end_all_sessions(runner)
    for key in ("name", "email", "role", "is_active_account", "runs_miles", "starting_mile_count"):
        setattr(runner, key, values[key])
    if values["password"]:
        runner.set_password(values["password"])
    if "notify_by_email" in values:  # values without it keep the account's choice
        runner.notify_by_email = values["notify_by_email"]
    db.session.flush()
    return runner


def runner_picker(keep: Runner | None = None) -> list[Runner]:
    """The active accounts that run miles, by name: a run can be planned for them. An admin
    is among them only if the account says it runs. keep (a run's current runner) stays
    listed even if it no longer runs, so editing the run does not silently change it."""
    who = sa.and_(Runner.is_active_account, Runner.runs_miles)
    if keep is not None:
        who = sa.or_(who, Runner.id == keep.id)
    return list(
        db.session.scalars(
            sa.select(Runner).where(who).order_by(sa.func.lower(Runner.name), Runner.id)
        )
    )


def runners_with_miles() -> list[Runner]:
    """Every account, most miles first."""
    total = Runner.starting_mile_count + Runner.miles_logged
    return list(db.session.scalars(sa.select(Runner).order_by(total.desc(), Runner.name)))


# Tracks ------------------------------------------------------------------------------------


def validate_track(data: Mapping[str, Any], track: Track | None = None):
    """Check a track's fields: the values, or a ValidationError."""
    fields = Fields(dict(data))
    values = {
        "name": _one_line(fields.text("name", max_length(Track.name), required=True)),
        "laps_per_mile": _whole_number(fields, "laps_per_mile", 1, 50),
        "min_lap_seconds": _whole_number(fields, "min_lap_seconds", 1, 3600),
    }
    if values["name"]:
        same = db.session.scalars(
            sa.select(Track).where(sa.func.lower(Track.name) == values["name"].lower())
        ).first()
        if same is not None and same is not track:
            fields.fail("name", TAKEN_TRACK_MESSAGE)
    fields.check()
    return values


def save_track(track: Track | None, values: Mapping[str, Any]) -> Track:
    """Create a track, or update one, from checked values."""
    if track is None:
        track = Track()
        db.session.add(track)
    for key, value in values.items():
        setattr(track, key, value)
    db.session.flush()
    return track


# Planned runs ------------------------------------------------------------------------------


def _pick(fields: Fields, key: str, model, label: str):
    """The row a select named by id, or an error saying to choose one."""
    raw = fields.data.get(key)
    text = "" if raw is None else str(raw).strip()
    if not text:
        fields.fail(key, f"Choose a {label}.")
        return None
    row = db.session.get(model, int(text)) if _WHOLE_NUMBER.match(text) else None
    if row is None:
        fields.fail(key, f"That {label} does not exist. Choose one from the list.")
    return row


def parse_local_datetime(
    fields: Fields, key: str, stored: datetime | None = None
) -> datetime | None:
    """A datetime-local value ('2024-05-01T19:30'), the team's local time, stored as UTC.

    stored is the value already saved: sent back unchanged, it stays exactly as it was, even
    in the hour that happens twice when the clocks fall back (the form cannot say which)."""
    raw = fields.data.get(key)
    text = "" if raw is None else str(raw).strip()
    if not text:
        fields.fail(key, "This field is required.")
        return None
    if stored is not None and text == input_datetime(stored):
        return stored
    try:
        parsed = datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None:
        fields.fail(key, "Enter a date and time, like 2024-05-01 19:30.")
        return None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        fields.fail(key, f"Enter a year from {FIRST_YEAR} to {LAST_YEAR}.")
        return None
    try:
        return team_time_to_utc(parsed)
    except LocalTimeError as exc:
        fields.fail(key, str(exc))
        return None


def validate_run(data: Mapping[str, Any], run: Run | None = None):
    """Check a planned run's fields: the values, or a ValidationError. run is the planned
    run being changed (None for a new one): its runner may stay even if no longer running."""
    fields = Fields(dict(data))
    values = {
        "hero": _pick(fields, "hero_id", Hero, "hero"),
        "runner": _pick(fields, "runner_id", Runner, "runner"),
        "track": _pick(fields, "track_id", Track, "track"),
        "scheduled_at": parse_local_datetime(
            fields, "scheduled_at", run.scheduled_at if run is not None else None
        ),
        "words": fields.text("words", WORDS_MAX),
        "video_url": fields.url("video_url", max_length(Run.video_url)),
    }
    runner = values["runner"]
    if runner is not None and not runner.is_active_account:
        fields.fail("runner_id", "This account is disabled; choose an active runner.")
    elif runner is not None and not runner.runs_miles and (run is None or run.runner is not runner):
        fields.fail("runner_id", NOT_A_RUNNER_MESSAGE.format(name=runner.name))
    fields.check()
    return values


def save_run(run: Run | None, values: Mapping[str, Any]) -> Run:
    """Plan a run, or change a planned one, from checked values."""
    if run is None:
        run = Run(status="planned")
        db.session.add(run)
    for key, value in values.items():
        setattr(run, key, value)
    db.session.flush()
    return run


def _why_run_is_kept(run: Run) -> str | None:
    if run.status != "planned" or run.mile_number is not None:
        return "Only a planned run that has not been run can be deleted."
    if run.checkins or run.shipments:
        return "This run already has check-ins or a shipment, so it is kept."
    return None


def deletable_run(run: Run) -> bool:
    """Whether the run may be deleted: planned, never run, nothing attached."""
    return _why_run_is_kept(run) is None


def delete_planned_run(run: Run) -> str | None:
    """Delete a run that is still only planned; otherwise say why not."""
    problem = _why_run_is_kept(run)
    if problem is None:
        db.session.delete(run)
    return problem


def list_runs(page: int, per_page: int = 50):
    """Runs for the admin list: newest first (by finish, else by plan, else by creation)."""
    when = sa.func.coalesce(Run.finished_at, Run.scheduled_at, Run.created_at)
    return db.paginate(sa.select(Run).order_by(when.desc(), Run.id), page=page, per_page=per_page)


def lap_splits(run: Run) -> list[tuple[int, int, int]]:
    """(seq, elapsed_ms, split_ms) for each lap of a run."""
    splits = []
    previous = 0
    for lap in run.laps:
        splits.append((lap.seq, lap.elapsed_ms, lap.elapsed_ms - previous))
        previous = lap.elapsed_ms
    return splits


# Devices -----------------------------------------------------------------------------------


def list_devices() -> list[Device]:
    """Every phone ever signed in, newest first."""
    return list(db.session.scalars(sa.select(Device).order_by(Device.created_at.desc())))


# Dashboard ---------------------------------------------------------------------------------


@dataclass
class MonthBar:
    """One bar of the miles-per-month chart, in SVG user units."""

    label: str
    long_label: str
    miles: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Dashboard:
    """The figures on the admin dashboard."""

    team_miles: int
    runners: list[Runner]
    heroes_by_kind: list[tuple[str, int]]
    heroes_honored: int
    recent_runs: list[Run]
    upcoming_runs: list[Run]
    planned_count: int
    months: list[MonthBar]
    chart_max: int


CHART_WIDTH = 360
CHART_HEIGHT = 180
CHART_TOP = 18  # room for the value over the tallest bar
CHART_BOTTOM = 24  # room for the month labels


def _last_months(now: datetime, count: int) -> list[tuple[int, int]]:
    """(year, month) pairs for the last count months, oldest first, ending with now's."""
    year, month = now.year, now.month
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def miles_per_month(now: datetime | None = None, count: int = 12) -> list[tuple[date, int]]:
    """Numbered miles per calendar month (the team's, by finish time) for the last count months."""
    now = local(now or utcnow())
    months = _last_months(now, count)
    start = datetime(months[0][0], months[0][1], 1, tzinfo=now.tzinfo)
    finished = db.session.scalars(
        sa.select(Run.finished_at).where(Run.mile_number.is_not(None), Run.finished_at >= start)
    )
    tally = dict.fromkeys(months, 0)
    for moment in finished:
        moment = local(moment)
        key = (moment.year, moment.month)
        if key in tally:
            tally[key] += 1
    return [(date(y, m, 1), tally[(y, m)]) for y, m in months]


def chart_bars(months: list[tuple[date, int]]) -> tuple[list[MonthBar], int]:
    """Lay out one bar per month in a CHART_WIDTH x CHART_HEIGHT viewBox."""
    top = max([miles for _, miles in months] + [1])
    slot = CHART_WIDTH / len(months)
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for index, (month, miles) in enumerate(months):
        height = round(plot * miles / top, 1)
        bars.append(
            MonthBar(
                label=month.strftime("%b"),
                long_label=month.strftime("%B %Y"),
                miles=miles,
                x=round(index * slot + slot * 0.15, 1),
                y=round(CHART_TOP + plot - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
            )
        )
    return bars, top


def dashboard(now: datetime | None = None) -> Dashboard:
    """Team miles, miles per runner, heroes honored by kind, recent runs, and the chart."""
    runners = [r for r in runners_with_miles() if r.role == "runner" or r.total_miles]
    honored = dict(
        db.session.execute(
            sa.select(Hero.kind, sa.func.count(sa.distinct(Hero.id)))
            .join(Run, Run.hero_id == Hero.id)
            .where(Run.mile_number.is_not(None))
            .group_by(Hero.kind)
        ).all()
    )
    recent = db.session.scalars(
        sa.select(Run).where(Run.finished_at.is_not(None)).order_by(Run.finished_at.desc()).limit(8)
    )
    upcoming = db.session.scalars(
        sa.select(Run)
        .where(Run.status == "planned")
        .order_by(Run.scheduled_at.asc().nulls_last(), Run.created_at)
        .limit(5)
    )
    bars, chart_max = chart_bars(miles_per_month(now))
    return Dashboard(
        team_miles=team_miles(),
        runners=runners,
        heroes_by_kind=[(HERO_KIND_LABELS[k], honored.get(k, 0)) for k in HERO_KINDS],
        heroes_honored=sum(honored.values()),
        recent_runs=list(recent),
        upcoming_runs=list(upcoming),
        planned_count=db.session.scalar(
            sa.select(sa.func.count()).select_from(Run).where(Run.status == "planned")
        ),
        months=bars,
        chart_max=chart_max,
    )
