"""The family page: what the mile looked like, and who was there (only those who consented).

It shows no address, no tracking number, and no check-in whose public flag is false.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Checkin, Shipment
from .service import duration, long_date, run_day


@dataclass(frozen=True)
class Bar:
    """One lap in the splits chart, in SVG user units."""

    seq: int
    split: str
    elapsed: str
    x: float
    y: float
    width: float
    height: float
    centre: float
    show_seq: bool


@dataclass(frozen=True)
class SplitChart:
    """The lap splits as bars, sized for an inline SVG of width x height."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    show_values: bool
    summary: str


def split_chart(lap_ms: list[int], width: int = 340, height: int = 200) -> SplitChart | None:
    """Bars for each lap's split time (elapsed minus the previous lap); None without laps."""
    if not lap_ms:
        return None
    splits = [ms - prev for prev, ms in zip([0, *lap_ms[:-1]], lap_ms, strict=True)]
    top, bottom = 24.0, 26.0  # room for the time above and the lap number below each bar
    baseline = height - bottom
    room = baseline - top
    longest = max(splits) or 1
    slot = width / len(splits)
    bar_width = max(3.0, slot * 0.64)
    bars = []
    for index, split in enumerate(splits):
        bar_height = max(2.0, room * split / longest)
        x = index * slot + (slot - bar_width) / 2
        seq = index + 1
        bars.append(
            Bar(
                seq=seq,
                split=duration(split),
                elapsed=duration(lap_ms[index]),
                x=round(x, 2),
                y=round(baseline - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
                centre=round(x + bar_width / 2, 2),
                show_seq=slot >= 18 or seq == 1 or seq % 5 == 0,
            )
        )
    summary = (
        f"{len(splits)} laps. Fastest lap {duration(min(splits))}, "
        f"slowest {duration(max(splits))}."
    )
    return SplitChart(width, height, baseline, tuple(bars), slot >= 40, summary)


ROLE_HEADINGS = (
    ("escort", "Escorted by"),
    ("runner", "Ran alongside"),
    ("supporter", "Standing with your family"),
)


@dataclass(frozen=True)
class FamilyPage:
    """Everything the family page shows, and nothing it must not (no address, no tracking)."""

    token: str
    hero_name: str
    agency: str
    end_of_watch: str
    flag_type: str
    flag_class: str
    story: tuple[str, ...]
    mile_line: str
    total_time: str
    chart: SplitChart | None
    people: tuple[tuple[str, tuple[Checkin, ...]], ...]
    runner_name: str
    words: tuple[str, ...]
    video_url: str
    fundraiser_url: str
    fundraiser_verified_by: str
    received_on: str


_FLAG_CLASSES = {
    "Thin blue line": "flag-blue",
    "Thin red line": "flag-red",
    "Thin white line": "flag-white",
    "Thin silver line": "flag-silver",
    "Thin gold line": "flag-gold",
}


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip())


def _web_link(url: str) -> str:
    """Only http(s) links reach an href; anything else is dropped."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def family_page(shipment: Shipment) -> FamilyPage:
    """The family page's contents for a shipment."""
    run = shipment.run
    hero = run.hero
    where = f"run by {run.runner.name} on {long_date(run_day(run))} at {run.track.name}"
    mile_line = f"Mile {run.mile_number:,}, {where}" if run.mile_number else f"A mile, {where}"
    consenting = [c for c in run.checkins if c.public is True]
    people = tuple(
        (heading, group)
        for role, heading in ROLE_HEADINGS
        if (group := tuple(c for c in consenting if c.role == role))
    )
    fundraiser = _web_link(hero.fundraiser_url)
    verified_by = hero.fundraiser_verified_by.strip()
    return FamilyPage(
        token=shipment.family_token,
        hero_name=hero.display_name,
        agency=hero.agency,
        end_of_watch=long_date(hero.end_of_watch),
        flag_type=hero.flag_type,
        flag_class=_FLAG_CLASSES.get(hero.flag_type, "flag-blue"),
        story=_paragraphs(hero.story),
        mile_line=mile_line,
        total_time=duration(run.elapsed_ms),
        chart=split_chart([lap.elapsed_ms for lap in run.laps]),
        people=people,
        runner_name=run.runner.name,
        words=_paragraphs(run.words),
        video_url=_web_link(run.video_url),
        fundraiser_url=fundraiser if verified_by else "",
        fundraiser_verified_by=verified_by if fundraiser else "",
        received_on=long_date(shipment.received_at),
    )
