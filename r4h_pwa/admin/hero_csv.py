"""Reading heroes from the CSV exports that memorial lists and volunteers make.

Their headers differ: "EOW", "End of Watch" or "date of death" all mean end_of_watch, and a
name may come whole or as first and last name. read_hero_csv maps each header onto the
hero's fields and each row onto the strings validate_hero checks; import_heroes (in
service.py) then rejects bad rows by number and never imports a hero twice.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from ..validation import DomainError
from .service import HERO_FIELDS

# A header is compared in lower case with its spaces, underscores, dashes and dots collapsed
# to one space: "End_of_Watch", "end-of-watch" and "END OF WATCH" are all "end of watch".
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "hero", "hero name", "officer name", "honoree"),
    "first_name": ("first name", "first", "given name", "firstname"),
    "last_name": ("last name", "last", "surname", "family name", "lastname"),
    "rank": ("rank", "title", "rank title"),
    "agency": (
        "agency",
        "department",
        "dept",
        "agency name",
        "department name",
        "organization",
        "organisation",
    ),
    "state": ("state", "st", "agency state", "state code"),
    "kind": ("kind", "type", "category", "service", "hero type", "responder type"),
    "end_of_watch": (
        "end of watch",
        "eow",
        "eow date",
        "date of death",
        "death date",
        "end of watch date",
        "date of eow",
    ),
    "incident_date": ("incident date", "date of incident"),
    "cause": ("cause", "cause of death"),
    "story": ("story", "bio", "biography", "summary"),
    "source_url": ("source url", "source", "memorial url", "memorial link", "url", "link"),
    "fundraiser_url": ("fundraiser url", "fundraiser"),
    "fundraiser_verified_by": ("fundraiser verified by", "verified by"),
}
_FIELD_OF_HEADER = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
# Columns a file must have; the name may come as first and last name instead.
REQUIRED_COLUMNS = ("name", "agency", "state", "kind", "end_of_watch")

# Words the lists use for a hero's kind, beyond the kinds' own names and labels.
KIND_ALIASES = {
    "law enforcement": "police",
    "officer": "police",
    "police officer": "police",
    "sheriff": "police",
    "deputy": "police",
    "firefighter": "fire",
    "fire service": "fire",
    "fire fighter": "fire",
    "emt": "ems",
    "paramedic": "ems",
    "correctional": "corrections",
    "correctional officer": "corrections",
    "corrections officer": "corrections",
    "dispatcher": "dispatch",
    "telecommunicator": "dispatch",
    "911": "dispatch",
    "k 9": "k9",
    "canine": "k9",
    "police dog": "k9",
    "federal agent": "federal",
}
# Dates as the lists write them; ISO (2024-02-11) passes through unchanged.
DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%A, %B %d, %Y",
    "%d %B %Y",
    "%Y/%m/%d",
)

_SEPARATORS = re.compile(r"[\s_\-.]+")


class CsvProblem(DomainError):
    """The file as a whole cannot be imported (unreadable, or columns missing)."""


@dataclass
class HeroCsv:
    """(row number, values) as validate_hero reads them, and the columns that were not used.

    Row 1 is the header, as in a spreadsheet; a blank row keeps its number but is left out.
    """

    rows: list[tuple[int, dict]]
    ignored_columns: list[str]


def header_key(header: str) -> str:
    """A header as compared with the aliases: lower case, separators collapsed."""
    return _SEPARATORS.sub(" ", header.strip().lower()).strip()


def _column_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Field name -> column index, and the headers that name no field."""
    columns: dict[str, int] = {}
    ignored = []
    for index, raw in enumerate(header):
        field_name = _FIELD_OF_HEADER.get(header_key(raw))
        if field_name is None:
            ignored.append(raw.strip() or f"column {index + 1}")
        elif field_name in columns:
            raise CsvProblem(
                f"Two columns mean {field_name}: {header[columns[field_name]]!r} and {raw!r}. "
                "Keep one."
            )
        else:
            columns[field_name] = index
    has_name = "name" in columns or {"first_name", "last_name"} <= columns.keys()
    missing = [
        name
        for name in REQUIRED_COLUMNS
        if name not in columns and not (name == "name" and has_name)
    ]
    if missing:
        raise CsvProblem(
            f"The file lacks the column(s) {', '.join(missing)}. The header must name: "
            "name (or first name and last name), agency, state, kind and end_of_watch; "
            f"it may also name {', '.join(f for f in HERO_FIELDS if f not in REQUIRED_COLUMNS)}."
        )
    return columns, ignored


def _kind(value: str) -> str:
    key = header_key(value)
    return KIND_ALIASES.get(key, value)


def _day(value: str) -> str:
    text = " ".join(value.split())
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return value  # validate_hero says what is wrong with it


def _row_values(cells: list[str], columns: dict[str, int], width: int) -> dict:
    """One row's cells as the strings validate_hero reads."""
    if len(cells) > width:
        return {None: cells}  # more cells than the header: import_heroes rejects it
    get = {
        name: cells[index].strip() if index < len(cells) else "" for name, index in columns.items()
    }
    if "name" not in get:
        get["name"] = " ".join(p for p in (get.pop("first_name"), get.pop("last_name")) if p)
    else:
        get.pop("first_name", None)
        get.pop("last_name", None)
    values = {name: get.get(name, "") for name in HERO_FIELDS}
    values["kind"] = _kind(values["kind"])
    for name in ("end_of_watch", "incident_date"):
        if values[name]:
            values[name] = _day(values[name])
    return values


def read_hero_csv(text: str) -> HeroCsv:
    """The heroes' rows of a CSV text (row 1 is the header); CsvProblem if it cannot be read."""
    try:
        records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:
        raise CsvProblem(f"This is not a readable CSV file: {exc}") from exc
    if not records:
        records = [[]]
    header, *body = records
    columns, ignored = _column_map(header)
    rows = [
        (number, _row_values(cells, columns, len(header)))
        for number, cells in enumerate(body, start=2)
        if any(cell.strip() for cell in cells)
    ]
    return HeroCsv(rows=rows, ignored_columns=ignored)
