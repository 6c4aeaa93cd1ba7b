"""The family page, told as a story: the tribute, the mile in a sentence, the photos, the
runner's words, who was there (only those who consented), the fundraiser, the lap times,
and the flag's arrival.

It shows no address, no tracking number, no staff member's name, no hidden photo, and no
check-in whose public flag is false. A page the family took down shows nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from markupsafe import Markup, escape

from ..extensions import db
from ..formatting import duration, long_date, number
from ..models import FLAG_TYPES, Checkin, Hero, Lap, Run, Runner, Shipment, Track
from ..runs.photos import visible_photos
from .service import OnItsWay, is_token_shaped, on_its_way


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
        f"{len(splits)} laps. Fastest lap {duration(min(splits))}, slowest {duration(max(splits))}."
    )
    return SplitChart(width, height, baseline, tuple(bars), slot >= 40, summary)


def chart_svg(chart: SplitChart) -> Markup:
    """The splits chart as inline SVG (no style attributes: the CSP forbids them).

    Built here rather than in the template because it is the page's only loop and the
    page must render fast; every value in it is a number or an M:SS.t time.
    """
    parts = [
        f'<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" role="img" '
        'aria-labelledby="chart-title chart-desc" data-testid="splits-chart">'
        '<title id="chart-title">Time for each lap</title>'
        f'<desc id="chart-desc">{escape(chart.summary)}</desc>'
    ]
    label_y = chart.baseline + 19
    for bar in chart.bars:
        parts.append(
            f'<g class="lap"><rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
            f'height="{bar.height}" rx="3"><title>Lap {bar.seq}: {bar.split}</title></rect>'
        )
        if chart.show_values:
            parts.append(
                f'<text class="value" x="{bar.centre}" y="{round(bar.y - 7, 2)}" '
                f'text-anchor="middle">{bar.split}</text>'
            )
        if bar.show_seq:
            parts.append(
                f'<text class="seq" x="{bar.centre}" y="{label_y}" '
                f'text-anchor="middle">{bar.seq}</text>'
            )
        parts.append("</g>")
    parts.append(
        f'<line class="axis" x1="0" x2="{chart.width}" y1="{chart.baseline}" '
        f'y2="{chart.baseline}"/></svg>'
    )
    return Markup("".join(parts))


def lap_rows(chart: SplitChart) -> Markup:
    """The table rows under the chart: lap, lap time, total so far."""
    return Markup(
        "".join(
            f'<tr><th scope="row">{bar.seq}</th><td data-testid="split">{bar.split}</td>'
            f"<td>{bar.elapsed}</td></tr>"
            for bar in chart.bars
        )
    )


ROLE_HEADINGS = (
    ("escort", "Escorted by"),
    ("runner", "Ran alongside"),
    ("supporter", "Standing with your family"),
)


@dataclass(frozen=True)
class Person:
    """Someone at the run who agreed to be named to the family."""

    name: str
    agency: str
    role: str


@dataclass(frozen=True)
class PagePhoto:
    """A photo on the family page: its id, and the size of its page copy."""

    id: str
    width: int
    height: int
    full_width: int


@dataclass(frozen=True)
class FamilyPage:
    """Everything the family page shows, and nothing it must not (no address; of the
    tracking, only the carrier's public page while the flag travels)."""

    token: str
    hero_name: str
    agency: str
    end_of_watch: str
    flag_type: str
    flag_class: str
    story: tuple[str, ...]
    mile_line: str
    story_sentence: str
    photos: tuple[PagePhoto, ...]
    intermediary: bool
    total_time: str
    chart: SplitChart | None
    people: tuple[tuple[str, tuple[Person, ...]], ...]
    runner_name: str
    words: tuple[str, ...]
    video_url: str
    fundraiser_url: str
    fundraiser_verified: bool
    received_on: str
    on_its_way: OnItsWay | None


_FLAG_CLASSES = {
    "Thin blue line": "flag-blue",
    "Thin red line": "flag-red",
    "Thin white line": "flag-white",
    "Thin silver line": "flag-silver",
    "Thin gold line": "flag-gold",
}


def flag_class(flag_type: str) -> str:
    """The CSS class of a flag's coloured band (the tribute on the family and hero pages)."""
    return _FLAG_CLASSES.get(flag_type, "flag-blue")


def paragraphs(text: str) -> tuple[str, ...]:
    """The paragraphs of a text typed with blank lines between them."""
    return tuple(p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip())


def web_link(url: str) -> str:
    """Only http(s) links reach an href; anything else is dropped."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def page_for_token(token: str) -> FamilyPage | None:
    """The family page behind a live token, or None.

    One round trip and no ORM objects, because the page must be fast on an old phone and
    under load: the laps come back as one "seq:ms,..." column and only consenting
    check-ins are joined (one row each; one row with NULLs when there are none).
    """
    if not is_token_shaped(token):
        return None
    rows = db.session.execute(_family_statement(), {"token": token}).all()
    if not rows:
        return None
    people = [
        Person(row.person_name, row.person_agency, row.person_role)
        for row in rows
        if row.person_name is not None
    ]
    photos = tuple(
        PagePhoto(p.id, p.page_width, p.page_height, p.width)
        for p in visible_photos(rows[0].run_id)
    )
    return family_page(rows[0], people, _lap_times(rows[0].laps), photos)


def run_id_for_token(token: str) -> str | None:
    """The run behind a live family link not taken down, or None (what the page cache keys
    the page's version by)."""
    if not is_token_shaped(token):
        return None
    return db.session.scalar(
        sa.select(Shipment.run_id).where(
            Shipment.family_token == token,
            Shipment.family_token_revoked_at.is_(None),
            Shipment.family_hidden_at.is_(None),
        )
    )


def is_taken_down(token: str) -> bool:
    """Whether this live token's page was taken down by the family (it answers 410)."""
    if not is_token_shaped(token):
        return False
    return (
        db.session.scalar(
            sa.select(Shipment.family_hidden_at.is_not(None)).where(
                Shipment.family_token == token, Shipment.family_token_revoked_at.is_(None)
            )
        )
        is True
    )


@cache
def _family_statement() -> sa.Select:
    """The family page's query, built once (building it costs more than running it)."""
    laps = (
        sa.select(
            sa.func.aggregate_strings(
                sa.cast(Lap.seq, sa.String) + ":" + sa.cast(Lap.elapsed_ms, sa.String), ","
            )
        )
        .where(Lap.run_id == Shipment.run_id)
        .scalar_subquery()
    )
    return (
        sa.select(
            Shipment.family_token,
            Shipment.received_at,
            Shipment.recipient_kind,
            Shipment.status,
            Shipment.carrier,
            Shipment.tracking_number,
            Run.id.label("run_id"),
            Run.prayer_before,
            Run.silence_seconds,
            Run.flag_carried,
            Run.prayer_after,
            Run.silence_when,
            Run.mile_number,
            Run.started_at,
            Run.finished_at,
            Run.scheduled_at,
            Run.synced_at,
            Run.words,
            Run.video_url,
            Hero.name.label("hero_name"),
            Hero.rank,
            Hero.agency,
            Hero.kind,
            Hero.end_of_watch,
            Hero.story,
            Hero.fundraiser_url,
            Hero.fundraiser_verified_by,
            Runner.name.label("runner_name"),
            Track.name.label("track_name"),
            Checkin.name.label("person_name"),
            Checkin.agency.label("person_agency"),
            Checkin.role.label("person_role"),
            laps.label("laps"),
        )
        .join(Run, Run.id == Shipment.run_id)
        .join(Hero, Hero.id == Run.hero_id)
        .join(Runner, Runner.id == Run.runner_id)
        .join(Track, Track.id == Run.track_id)
        .outerjoin(
            Checkin,
            sa.and_(
                Checkin.run_id == Run.id,
                Checkin.public.is_(True),
                Checkin.removed_at.is_(None),
            ),
        )
        .where(
            Shipment.family_token == sa.bindparam("token"),
            Shipment.family_token_revoked_at.is_(None),
            Shipment.family_hidden_at.is_(None),
        )
        .order_by(Checkin.checked_in_at, Checkin.id)
    )


def _lap_times(text: str | None) -> list[int]:
    """Elapsed milliseconds in lap order from "seq:ms,seq:ms" (aggregated in no set order)."""
    pairs = (item.split(":") for item in (text or "").split(",") if item)
    return [int(ms) for _seq, ms in sorted((int(seq), ms) for seq, ms in pairs)]


_NUMBER_WORDS = ("", "a", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def silence_words(seconds: int) -> str:
    """How long the silence lasted, as said aloud: "a minute", "30 seconds", "2 minutes"."""
    minutes, rest = divmod(seconds, 60)
    if minutes == 0:
        return "a second" if rest == 1 else f"{rest} seconds"
    spoken = _NUMBER_WORDS[minutes] if minutes < len(_NUMBER_WORDS) else str(minutes)
    said = f"{spoken} minute" if minutes == 1 else f"{spoken} minutes"
    return f"{said} and {rest} seconds" if rest else said


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def mile_sentence(data, escorts: list[Person], hero_name: str, flag_type: str) -> str:
    """The mile in a sentence or two, from what was recorded; what was not is left out."""
    run_on = data.started_at or data.finished_at or data.scheduled_at or data.synced_at
    mile = f"mile {number(data.mile_number)}" if data.mile_number else "a mile"
    opening = f"On {long_date(run_on)}, " if run_on else ""
    sentence = f"{opening}{data.runner_name} ran {mile} for {hero_name} at {data.track_name}"
    if data.flag_carried:
        sentence += f", carrying the {flag_type.lower()} flag"
    agencies = list(dict.fromkeys(p.agency for p in escorts if p.agency))
    if agencies:
        sentence += f", escorted by officers of {_and(agencies)}"
    elif escorts:
        sentence += ", with an escort"
    sentence += "."
    # What they did before and after the run; a silence the phone did not place was after it.
    before = ["prayed"] if data.prayer_before else []
    after = []
    if data.silence_seconds:
        silence = f"kept {silence_words(data.silence_seconds)} of silence"
        (before if data.silence_when == "before" else after).append(silence)
    if data.prayer_after:
        after.append("prayed again" if data.prayer_before else "prayed")
    if before and after:
        sentence += f" Before the run they {_and(before)}; after it they {_and(after)}."
    elif before:
        sentence += f" Before the run they {_and(before)}."
    elif after:
        sentence += f" After the run they {_and(after)}."
    return sentence


def family_page(
    data, people: list[Person], lap_ms: list[int], photos: tuple[PagePhoto, ...] = ()
) -> FamilyPage:
    """The family page from one row of page_for_token's query, its people, laps and photos."""
    run_on = data.started_at or data.finished_at or data.scheduled_at or data.synced_at
    where = f"run by {data.runner_name} on {long_date(run_on)} at {data.track_name}"
    mile = data.mile_number
    fundraiser = web_link(data.fundraiser_url)
    # Verified by the organisation: the staff member who checked it stays internal.
    verified = bool(data.fundraiser_verified_by.strip())
    flag_type = FLAG_TYPES[data.kind]
    hero_name = f"{data.rank} {data.hero_name}".strip()
    escorts = [p for p in people if p.role == "escort"]
    return FamilyPage(
        token=data.family_token,
        hero_name=hero_name,
        agency=data.agency,
        end_of_watch=long_date(data.end_of_watch),
        flag_type=flag_type,
        flag_class=flag_class(flag_type),
        story=paragraphs(data.story),
        mile_line=f"Mile {number(mile)}, {where}" if mile else f"A mile, {where}",
        story_sentence=mile_sentence(data, escorts, hero_name, flag_type),
        photos=photos,
        intermediary=data.recipient_kind == "intermediary",
        total_time=duration(lap_ms[-1] if lap_ms else None),
        chart=split_chart(lap_ms),
        people=tuple(
            (heading, group)
            for role, heading in ROLE_HEADINGS
            if (group := tuple(p for p in people if p.role == role))
        ),
        runner_name=data.runner_name,
        words=paragraphs(data.words),
        video_url=web_link(data.video_url),
        fundraiser_url=fundraiser if verified else "",
        fundraiser_verified=bool(fundraiser and verified),
        received_on=long_date(data.received_at),
        on_its_way=on_its_way(data),
    )
