"""How durations, dates, times and numbers read, on every page and on every label.

Registered as Jinja filters in create_app. The phone (static/js) follows the same rules:
- a duration is floored to tenths of a second: "M:SS.t", or "H:MM:SS.t" from one hour;
  88,999 ms reads "1:28.9" and 59,999 ms "0:59.9" (a lap is never shown faster or slower
  than it was by rounding up);
- a count of miles has a thousands separator: "1,294";
- a date or a time is shown in the team's TIMEZONE, never in UTC; admin pages add the
  zone's abbreviation.
"""

from __future__ import annotations

from datetime import date, datetime
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


def team_zone() -> ZoneInfo:
    """The configured TIMEZONE (UTC if the setting names no zone)."""
    try:
        return ZoneInfo(current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
    """A datetime-local input's value (no zone: the team's time) as an aware datetime."""
    return value.replace(tzinfo=team_zone()) if value.tzinfo is None else value


FILTERS = {
    "duration": duration,
    "number": number,
    "long_date": long_date,
    "short_date": short_date,
    "short_time": short_time,
    "long_time": long_time,
}


def init_app(app: Flask) -> None:
    """Register the formatters as Jinja filters of the same names."""
    app.jinja_env.filters.update(FILTERS)
