"""Coverage: how many heroes have had their mile, how long they waited, and who waits still.

One function, coverage(), computes every figure; the admin page and GET /api/v1/coverage
both show what it returns, so the two can never disagree.

- A hero is *honored* once at least one of their runs has a mile number (synced and
  complete); every other hero is *awaiting*.
- *Days to mile* is, for each honored hero, the number of days from the end of watch to
  the date of the hero's first numbered mile (the run's day in the team's time zone).
- The median and the 90th percentile use the nearest-rank method: the p-th percentile of
  n sorted values is the value at rank ceil(p / 100 * n), counting from 1. It is always a
  value that occurred (a whole number of days); the median of 1, 2, 3, 4 is 2.
- *Days waiting* is the number of days from the end of watch to today (team's time zone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..admin import service as admin_service
from ..extensions import db
from ..formatting import from_input_datetime, local, local_date, long_date, number
from ..models import HERO_KINDS, US_STATES, Hero, Run, Runner, utcnow
from ..validation import Conflict, Fields

OLDEST_YEAR = 1700


@dataclass(frozen=True)
class Filters:
    """Which heroes the figures are about: by kind, state and end-of-watch year (None: all)."""

    kind: str | None = None
    state: str | None = None
    year: int | None = None

    def as_args(self) -> dict[str, Any]:
        """The filters as query-string arguments, leaving out the empty ones."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class Awaiting:
    """A hero still waiting for a mile, with any run already planned for them."""

    hero: Hero
    days_waiting: int
    planned: list[Run]


@dataclass
class Coverage:
    """The coverage figures for the heroes the filters select."""

    heroes_total: int
    honored: int
    awaiting: int
    share_honored: float | None
    days_to_mile_median: int | None
    days_to_mile_p90: int | None
    awaiting_heroes: list[Awaiting]


def read_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from query arguments (kind, state, year); a ValidationError names a bad one."""
    fields = Fields({k: args.get(k) for k in ("kind", "state", "year")})
    kind = fields.text("kind", 20).lower() or None
    state = fields.text("state", 2).upper() or None
    year_text = fields.text("year", 4)
    if kind is not None and kind not in HERO_KINDS:
        fields.fail("kind", f"Choose one of: {', '.join(HERO_KINDS)}.")
    if state is not None and state not in US_STATES:
        fields.fail("state", "Use the two-letter postal code, like FL.")
    year = None
    if year_text:
        year = int(year_text) if year_text.isdigit() else None
        if year is None or year < OLDEST_YEAR:
            fields.fail("year", "Enter a year, like 2024.")
    fields.check()
    return Filters(kind=kind, state=state, year=year)


def nearest_rank(values: Sequence[int], percent: float) -> int | None:
    """The percent-th percentile of values by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def today() -> date:
    """Today's date in the team's time zone."""
    return local(utcnow()).date()


def _mile_day(run: Run) -> date | None:
    """The day a numbered mile was run, in the team's time zone."""
    return local_date(run.started_at or run.finished_at or run.synced_at)


def _heroes(filters: Filters):
    select = sa.select(Hero).order_by(Hero.end_of_watch, Hero.name, Hero.id)
    if filters.kind:
        select = select.where(Hero.kind == filters.kind)
    if filters.state:
        select = select.where(Hero.state == filters.state)
    if filters.year:
        select = select.where(
            Hero.end_of_watch >= date(filters.year, 1, 1),
            Hero.end_of_watch <= date(filters.year, 12, 31),
        )
    return list(db.session.scalars(select))


def coverage(filters: Filters | None = None, on: date | None = None) -> Coverage:
    """Every coverage figure for the heroes the filters select (see the module docstring)."""
    filters = filters or Filters()
    on = on or today()
    heroes = _heroes(filters)
    ids = [hero.id for hero in heroes]
    first_day: dict[int, date] = {}
    planned: dict[int, list[Run]] = {}
    if ids:
        runs = db.session.scalars(
            sa.select(Run)
            .options(joinedload(Run.runner))
            .where(Run.hero_id.in_(ids))
            .where(sa.or_(Run.mile_number.is_not(None), Run.status == "planned"))
            .order_by(Run.scheduled_at.asc().nulls_last(), Run.created_at)
        )
        for run in runs:
            if run.mile_number is None:
                planned.setdefault(run.hero_id, []).append(run)
                continue
            day = _mile_day(run)
            if day is not None and (run.hero_id not in first_day or day < first_day[run.hero_id]):
                first_day[run.hero_id] = day
    waits = [(first_day[h.id] - h.end_of_watch).days for h in heroes if h.id in first_day]
    awaiting = [
        Awaiting(hero=h, days_waiting=(on - h.end_of_watch).days, planned=planned.get(h.id, []))
        for h in heroes
        if h.id not in first_day
    ]
    total = len(heroes)
    return Coverage(
        heroes_total=total,
        honored=len(first_day),
        awaiting=len(awaiting),
        share_honored=round(len(first_day) / total, 4) if total else None,
        days_to_mile_median=nearest_rank(waits, 50),
        days_to_mile_p90=nearest_rank(waits, 90),
        awaiting_heroes=awaiting,
    )


def coverage_json(figures: Coverage) -> dict:
    """The figures as GET /api/v1/coverage returns them."""
    return {
        "heroes_total": figures.heroes_total,
        "honored": figures.honored,
        "awaiting": figures.awaiting,
        "share_honored": figures.share_honored,
        "days_to_mile_median": figures.days_to_mile_median,
        "days_to_mile_p90": figures.days_to_mile_p90,
        "awaiting_heroes": [
            {
                "id": item.hero.id,
                "name": item.hero.name,
                "kind": item.hero.kind,
                "state": item.hero.state,
                "end_of_watch": item.hero.end_of_watch.isoformat(),
                "days_waiting": item.days_waiting,
            }
            for item in figures.awaiting_heroes
        ],
    }


# This week's plan ---------------------------------------------------------------------------


@dataclass
class RunnerWeek:
    """One runner's runs planned for this week, in time order."""

    runner: Runner
    runs: list[Run]


def week_bounds(on: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of on's week, in the team's time zone."""
    monday = on - timedelta(days=on.weekday())
    start = from_input_datetime(datetime(monday.year, monday.month, monday.day))
    end_day = monday + timedelta(days=7)
    end = from_input_datetime(datetime(end_day.year, end_day.month, end_day.day))
    return start, end


def week_plan(on: date | None = None) -> list[RunnerWeek]:
    """The runs scheduled this week (planned or already run), grouped by runner, by name."""
    start, end = week_bounds(on or today())
    runs = db.session.scalars(
        sa.select(Run)
        .options(joinedload(Run.runner), joinedload(Run.hero), joinedload(Run.track))
        .where(Run.scheduled_at >= start, Run.scheduled_at < end)
        .order_by(Run.scheduled_at, Run.id)
    )
    weeks: dict[int, RunnerWeek] = {}
    for run in runs:
        weeks.setdefault(run.runner_id, RunnerWeek(run.runner, [])).runs.append(run)
    return sorted(weeks.values(), key=lambda week: (week.runner.name.casefold(), week.runner.id))


# Planning from the queue --------------------------------------------------------------------


def first_mile(hero: Hero) -> Run | None:
    """The hero's first numbered mile, if there is one."""
    miles = db.session.scalars(
        sa.select(Run)
        .options(joinedload(Run.runner))
        .where(Run.hero_id == hero.id, Run.mile_number.is_not(None))
    )
    return min(miles, key=lambda run: (_mile_day(run) or date.max, run.created_at), default=None)


def second_mile_message(hero: Hero, first: Run) -> str:
    """What to confirm before planning another mile for an honored hero."""
    return (
        f"{hero.display_name} already has a mile: mile {number(first.mile_number)}, run by "
        f"{first.runner.name} on {long_date(_mile_day(first))}. Plan another mile anyway?"
    )


def plan_run(data: Mapping[str, Any], confirmed: bool = False) -> Run:
    """Plan a run for a hero from the queue (admin.service checks the fields and saves it).

    A hero who already has a numbered mile gets another only when confirmed; otherwise a
    Conflict (code "second_mile") says when and by whom the first mile was run.
    """
    values = admin_service.validate_run(data)
    first = first_mile(values["hero"])
    if first is not None and not confirmed:
        raise Conflict(second_mile_message(values["hero"], first), code="second_mile")
    return admin_service.save_run(None, values)
