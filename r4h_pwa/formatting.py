"""How durations, dates, times and numbers read, on every page and on every label.

Registered as Jinja filters in create_app. The phone (static/js) follows the same rules:
- a duration is floored to tenths of a second: "M:SS.t", or "H:MM:SS.t" from one hour;
  88,999 ms reads "1:28.9" and 59,999 ms "0:59.9" (a lap is never shown faster or slower
  than it was by rounding up);
- a count of miles has a thousands separator: "1,294";
- a date or a time is shown in the team's TIMEZONE, never in UTC; admin pages add the
  zone's abbreviation. An admin types times in that zone too; they are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

DEFAULT_TIMEZONE = "America/New_York"


def duration(ms: int | None) -> str:
    """Milliseconds as M:SS.t (H:MM:SS.t from one hour), floored to the tenth; "" for None."""
    if ms is None:
        return ""
    tenths = ms // 100
    seconds, tenth = divmod(tenths, 10)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{tenth}"
    return f"{minutes}:{secs:02d}.{tenth}"


def number(value: int | None) -> str:
    """A count such as a mile number, with a thousands separator: 1,294."""
    return "" if value is None else f"{value:,}"


def zone_named(name: object) -> ZoneInfo:
    """The IANA time zone of that name ('America/Denver'), or a ValueError saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("TIMEZONE must name an IANA time zone, such as America/New_York.")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"TIMEZONE {name!r} is not an IANA time zone; use a name such as America/New_York, "
            "America/Chicago, America/Denver or America/Los_Angeles."
        ) from None


def team_zone() -> ZoneInfo:
    """The organisation's time zone: the TIMEZONE setting, checked when the app starts."""
    return zone_named(current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE))


def zone_abbreviations(year: int | None = None) -> str:
    """The abbreviations the team's clocks show in a year: "EST/EDT", or "MST" without DST."""
    zone = team_zone()
    year = year or datetime.now(UTC).year
    names: list[str] = []
    for month in (1, 7):
        name = datetime(year, month, 1, 12, tzinfo=zone).tzname() or ""
        if name not in names:
            names.append(name)
    return "/".join(names)


def zone_label() -> str:
    """The zone as an admin reads it beside a time input: "America/Denver (MST/MDT)"."""
    return f"{team_zone().key} ({zone_abbreviations()})"


def local(value: datetime) -> datetime:
    """A stored UTC time in the team's time zone."""
    return value.astimezone(team_zone())


def local_date(value: datetime | date | None) -> date | None:
    """The calendar date in the team's time zone (a date stays as it is)."""
    if isinstance(value, datetime):
        return local(value).date()
    return value


def long_date(value: datetime | date | None) -> str:
    """A date as people write it: February 11, 2024."""
    day = local_date(value)
    return f"{day:%B} {day.day}, {day.year}" if day else ""


def short_date(value: datetime | date | None) -> str:
    """A date for tables and lists: Feb 11, 2024."""
    day = local_date(value)
    return f"{day:%b} {day.day}, {day.year}" if day else ""


def short_time(value: datetime | None) -> str:
    """A time for admin tables, with its zone: Sun Feb 11, 2024 · 19:30 EST."""
    if value is None:
        return ""
    moment = local(value)
    return f"{moment:%a %b} {moment.day}, {moment.year} · {moment:%H:%M %Z}"


def long_time(value: datetime | None) -> str:
    """A time as people say it: Saturday, March 9, 2024 at 7:30 AM EST."""
    if value is None:
        return ""
    moment = local(value)
    hour = moment.hour % 12 or 12
    return f"{moment:%A, %B} {moment.day}, {moment.year} at {hour}:{moment:%M %p %Z}"


def input_datetime(value: datetime | None) -> str:
    """A stored time as a datetime-local input's value, in the team's time zone."""
    return local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def from_input_datetime(value: datetime) -> datetime:
    """A wall-clock time in the team's zone as an aware datetime (for computed bounds such as
    midnight; a time an admin typed goes through team_time_to_utc, which refuses DST edges)."""
    return value.replace(tzinfo=team_zone()) if value.tzinfo is None else value


class LocalTimeError(ValueError):
    """A wall-clock time that names no single moment in the team's zone; says why in words."""


def _said(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M %p} on {moment:%B} {moment.day}, {moment.year}"


def team_time_to_utc(value: datetime) -> datetime:
    """A wall-clock time typed in the team's zone, as UTC.

    A time the clocks skip when they spring forward, or show twice when they fall back,
    names no single moment: LocalTimeError says so rather than guessing. A value that
    carries its own offset is taken as it is.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    zone = team_zone()
    first = value.replace(tzinfo=zone, fold=0)
    second = value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    # fold=0 reads the clock as it was before the change, fold=1 as it is after.
    before, after = first.tzname(), second.tzname()
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        # Not on the clock at all: the spring-forward gap.
        raise LocalTimeError(
            f"{_said(value)} does not exist in {zone.key}: the clocks spring forward "
            f"that night ({before} to {after}) and skip it. Choose a time before or after "
            "the change."
        )
    raise LocalTimeError(
        f"{_said(value)} happens twice in {zone.key}: the clocks fall back that night "
        f"({before} to {after}). Choose a time outside the repeated hour."
    )


FILTERS = {
    "duration": duration,
    "number": number,
    "long_date": long_date,
    "short_date": short_date,
    "short_time": short_time,
    "long_time": long_time,
}


def init_app(app: Flask) -> None:
    """Check the TIMEZONE setting (a bad name stops the app starting) and register the
    formatters as Jinja filters of the same names, with the zone's label for forms."""
    app.config["TIMEZONE"] = zone_named(app.config.get("TIMEZONE", DEFAULT_TIMEZONE)).key
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["zone_label"] = zone_label
