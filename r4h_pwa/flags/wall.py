"""The public wall of honor: heroes honored, mile numbers and the team's totals.

It links to nothing private: no family tokens, no addresses, no escorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import long_date, team_zone
from ..models import HERO_KIND_LABELS, Hero, Run, Runner, utcnow
from ..runs.service import team_miles
from .service import run_day


@dataclass(frozen=True)
class WallEntry:
    """One mile on the public wall: no tokens, no addresses, no escorts."""

    hero_name: str
    agency: str
    state: str
    kind: str
    end_of_watch: str
    mile_number: int
    runner_name: str
    run_on: str


@dataclass(frozen=True)
class Wall:
    """The public wall of honor with the team's running totals."""

    entries: tuple[WallEntry, ...]
    team_miles: int
    heroes_honored: int
    miles_this_year: int
    by_kind: tuple[tuple[str, int], ...]
    runners: tuple[tuple[str, int], ...]  # active accounts only: one who left is not named
    page: int
    pages: int


WALL_PAGE_SIZE = 100


def honor_wall(page: int = 1) -> Wall:
    """Numbered, synced miles newest first, and the team's totals."""
    numbered = sa.and_(Run.status == "synced", Run.mile_number.is_not(None))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Run).where(numbered)) or 0
    pages = max(1, -(-count // WALL_PAGE_SIZE))
    page = min(max(1, page), pages)
    runs = db.session.scalars(
        sa.select(Run)
        .options(joinedload(Run.hero), joinedload(Run.runner))
        .where(numbered)
        .order_by(Run.finished_at.desc().nulls_last(), Run.mile_number.desc())
        .limit(WALL_PAGE_SIZE)
        .offset((page - 1) * WALL_PAGE_SIZE)
    )
    entries = tuple(
        WallEntry(
            hero_name=run.hero.display_name,
            agency=run.hero.agency,
            state=run.hero.state,
            kind=run.hero.kind_label,
            end_of_watch=long_date(run.hero.end_of_watch),
            mile_number=run.mile_number or 0,
            runner_name=run.runner.name,
            run_on=long_date(run_day(run)),
        )
        for run in runs
    )
    runners = db.session.execute(
        sa.select(Runner.name, Runner.starting_mile_count + Runner.miles_logged)
        .where(Runner.is_active_account.is_(True))
        .where(Runner.starting_mile_count + Runner.miles_logged > 0)
        .order_by((Runner.starting_mile_count + Runner.miles_logged).desc(), Runner.name)
    ).all()
    heroes = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Run.hero_id))).where(numbered)
    ) or 0
    kinds = db.session.execute(
        sa.select(Hero.kind, sa.func.count(sa.distinct(Hero.id)))
        .join(Run, Run.hero_id == Hero.id)
        .where(numbered)
        .group_by(Hero.kind)
        .order_by(sa.func.count(sa.distinct(Hero.id)).desc(), Hero.kind)
    ).all()
    year_start = datetime(utcnow().astimezone(team_zone()).year, 1, 1, tzinfo=team_zone())
    this_year = db.session.scalar(
        sa.select(sa.func.count()).select_from(Run).where(numbered, Run.finished_at >= year_start)
    ) or 0
    return Wall(
        entries=entries,
        team_miles=team_miles(),
        heroes_honored=heroes,
        miles_this_year=this_year,
        by_kind=tuple((HERO_KIND_LABELS[kind], n) for kind, n in kinds),
        runners=tuple((name, miles) for name, miles in runners),
        page=page,
        pages=pages,
    )
