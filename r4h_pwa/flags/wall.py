"""The public wall of honor: heroes honored, mile numbers and the team's totals.

It links to nothing private: no family tokens, no addresses, no escorts, no photos.

Two parts, each a pure read: the totals (the same for every visitor) and one page of
miles for a search (name, agency, state). honor_wall puts them together for the page.
Each entry leads to its hero's public page (hero_tribute): the tribute and the miles run
for that hero, told with no more than the wall itself tells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..formatting import long_date, team_zone
from ..models import HERO_KIND_LABELS, US_STATES, Hero, Run, Runner, utcnow
from ..runs.service import team_miles
from .family import flag_class, paragraphs, web_link
from .service import run_day

WALL_PAGE_SIZE = 100
SEARCH_MAX = 120  # characters kept of a name or agency typed into the search


@dataclass(frozen=True)
class WallEntry:
    """One mile on the public wall: no tokens, no addresses, no escorts."""

    hero_id: int
    hero_name: str
    agency: str
    state: str
    kind: str
    end_of_watch: str
    mile_number: int
    runner_name: str
    run_on: str


@dataclass(frozen=True)
class WallSearch:
    """What a visitor looks for: words in the hero's name or agency, and a state (all optional).

    Frozen and hashable, so one search can be a cache key."""

    name: str = ""
    agency: str = ""
    state: str = ""

    def __bool__(self) -> bool:
        return bool(self.name or self.agency or self.state)

    def as_args(self) -> dict[str, str]:
        """The query string of this search, without empty parts (for links such as the pager)."""
        return {
            k: v
            for k, v in (("name", self.name), ("agency", self.agency), ("state", self.state))
            if v
        }


def read_search(args: Mapping[str, str]) -> WallSearch:
    """A search from a query string: text trimmed and cut to length; a state that is not a
    US state code is ignored rather than refused, as this is a public page's search box."""

    def text(key: str) -> str:
        value = args.get(key) or ""
        return " ".join(value.split())[:SEARCH_MAX] if isinstance(value, str) else ""

    state = text("state").upper()
    return WallSearch(
        name=text("name"), agency=text("agency"), state=state if state in US_STATES else ""
    )


@dataclass(frozen=True)
class WallTotals:
    """The team's figures, each with what it counts, so the page can say it in words."""

    team_miles: int  # every mile the runners have run, including before this site
    miles_before: int  # of those, the miles run before this site kept count
    miles_recorded: int  # of those, the numbered miles recorded here
    heroes_honored: int  # heroes with a numbered mile here
    miles_this_year: int  # numbered miles recorded here since January 1 (team's time zone)
    year: int
    by_kind: tuple[tuple[str, int], ...]
    runners: tuple[tuple[str, int], ...]  # active accounts only: one who left is not named
    states: tuple[str, ...]  # the states of heroes on the wall, for the search


@dataclass(frozen=True)
class WallPage:
    """One page of the miles that match a search, newest first."""

    entries: tuple[WallEntry, ...]
    search: WallSearch
    matches: int
    page: int
    pages: int


@dataclass(frozen=True)
class Wall:
    """The public wall of honor: the team's totals and one page of miles."""

    totals: WallTotals
    miles: WallPage = field(repr=False)


def _numbered():
    return sa.and_(Run.status == "synced", Run.mile_number.is_not(None))


def _contains(column, words: str):
    """Case-insensitive 'contains', with % and _ taken literally."""
    return sa.func.lower(column).contains(words.lower(), autoescape=True)


def wall_totals() -> WallTotals:
    """The team's totals, the heroes by kind, the runners' miles and the states on the wall."""
    numbered = _numbered()
    miles_before, miles_recorded = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(Runner.starting_mile_count), 0),
            sa.func.coalesce(sa.func.sum(Runner.miles_logged), 0),
        )
    ).one()
    runners = db.session.execute(
        sa.select(Runner.name, Runner.starting_mile_count + Runner.miles_logged)
        .where(Runner.is_active_account.is_(True))
        .where(Runner.starting_mile_count + Runner.miles_logged > 0)
        .order_by((Runner.starting_mile_count + Runner.miles_logged).desc(), Runner.name)
    ).all()
    heroes = (
        db.session.scalar(sa.select(sa.func.count(sa.distinct(Run.hero_id))).where(numbered)) or 0
    )
    kinds = db.session.execute(
        sa.select(Hero.kind, sa.func.count(sa.distinct(Hero.id)))
        .join(Run, Run.hero_id == Hero.id)
        .where(numbered)
        .group_by(Hero.kind)
        .order_by(sa.func.count(sa.distinct(Hero.id)).desc(), Hero.kind)
    ).all()
    states = db.session.scalars(
        sa.select(Hero.state).distinct().join(Run, Run.hero_id == Hero.id).where(numbered)
    ).all()
    year = utcnow().astimezone(team_zone()).year
    year_start = datetime(year, 1, 1, tzinfo=team_zone())
    this_year = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Run)
            .where(numbered, Run.finished_at >= year_start)
        )
        or 0
    )
    return WallTotals(
        team_miles=team_miles(),
        miles_before=int(miles_before),
        miles_recorded=int(miles_recorded),
        heroes_honored=heroes,
        miles_this_year=this_year,
        year=year,
        by_kind=tuple((HERO_KIND_LABELS[kind], n) for kind, n in kinds),
        runners=tuple((name, miles) for name, miles in runners),
        states=tuple(sorted(s for s in states if s)),
    )


def wall_miles(search: WallSearch = WallSearch(), page: int = 1) -> WallPage:
    """Numbered, synced miles newest first, of heroes matching the search, one page of them."""
    where = [_numbered()]
    if search.name:
        where.append(
            sa.or_(
                _contains(Hero.name, search.name),
                _contains(Hero.rank + " " + Hero.name, search.name),
            )
        )
    if search.agency:
        where.append(_contains(Hero.agency, search.agency))
    if search.state:
        where.append(Hero.state == search.state)
    count = (
        db.session.scalar(sa.select(sa.func.count()).select_from(Run).join(Run.hero).where(*where))
        or 0
    )
    pages = max(1, -(-count // WALL_PAGE_SIZE))
    page = min(max(1, page), pages)
    runs = db.session.scalars(
        sa.select(Run)
        .join(Run.hero)
        .options(joinedload(Run.hero), joinedload(Run.runner))
        .where(*where)
        .order_by(Run.finished_at.desc().nulls_last(), Run.mile_number.desc())
        .limit(WALL_PAGE_SIZE)
        .offset((page - 1) * WALL_PAGE_SIZE)
    )
    entries = tuple(
        WallEntry(
            hero_id=run.hero_id,
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
    return WallPage(entries=entries, search=search, matches=count, page=page, pages=pages)


def honor_wall(page: int = 1, search: WallSearch = WallSearch()) -> Wall:
    """The wall for one visitor: the team's totals and a page of the miles they looked for."""
    return Wall(totals=wall_totals(), miles=wall_miles(search, page))


@dataclass(frozen=True)
class HeroMile:
    """One mile run for a hero, as the wall tells it: no escorts, no photos, no family."""

    mile_number: int
    run_on: str
    track: str
    runner_name: str


@dataclass(frozen=True)
class HeroTribute:
    """A hero's public page: the tribute from the memorial record and the miles run."""

    id: int
    name: str  # rank and name
    agency: str
    state: str
    kind: str
    flag_class: str  # the band's colour, as on the family page
    end_of_watch: str
    story: tuple[str, ...]
    source_url: str  # an http(s) link to the memorial, or ""
    miles: tuple[HeroMile, ...]


def hero_tribute(hero_id: int) -> HeroTribute | None:
    """The public page of a hero on the wall; None for a hero with no numbered mile yet,
    as the wall does not show them either (a planned run is not announced)."""
    hero = db.session.get(Hero, hero_id)
    if hero is None:
        return None
    runs = db.session.scalars(
        sa.select(Run)
        .options(joinedload(Run.runner), joinedload(Run.track))
        .where(Run.hero_id == hero.id, _numbered())
        .order_by(Run.mile_number)
    ).all()
    if not runs:
        return None
    return HeroTribute(
        id=hero.id,
        name=hero.display_name,
        agency=hero.agency,
        state=hero.state,
        kind=hero.kind_label,
        flag_class=flag_class(hero.flag_type),
        end_of_watch=long_date(hero.end_of_watch),
        story=paragraphs(hero.story),
        source_url=web_link(hero.source_url),
        miles=tuple(
            HeroMile(
                mile_number=run.mile_number or 0,
                run_on=long_date(run_day(run)),
                track=run.track.name,
                runner_name=run.runner.name,
            )
            for run in runs
        ),
    )
