"""Checking JSON input: collect every field error, then refuse the whole request at once."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from .errors import ApiError

_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
MIN_YEAR, MAX_YEAR = 2000, 2099


def _encodable(value: str) -> bool:
    """False for text with lone surrogates: JSON allows them, UTF-8 and the database do not."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class Fields:
    """Reads typed fields from a dict, remembering every problem under the field's name."""

    def __init__(self, data: dict[str, Any], prefix: str = ""):
        self.data = data
        self.prefix = prefix
        self.errors: dict[str, str] = {}

    def _fail(self, key: str, message: str) -> None:
        self.errors.setdefault(f"{self.prefix}{key}", message)

    def text(self, key: str, max_len: int, required: bool = False, default: str = "") -> str:
        """A string field, stripped; None or absent gives the default."""
        value = self.data.get(key)
        if value is None:
            if required:
                self._fail(key, "This field is required.")
            return default
        if not isinstance(value, str):
            self._fail(key, "Must be a string.")
            return default
        value = value.strip()
        if required and not value:
            self._fail(key, "This field is required.")
        elif len(value) > max_len:
            self._fail(key, f"At most {max_len} characters.")
        elif "\x00" in value:
            self._fail(key, "Contains a NUL character.")
        elif not _encodable(value):
            self._fail(key, "Contains text that is not valid Unicode.")
        return value

    def url(self, key: str, max_len: int = 500) -> str:
        """An optional http(s) URL."""
        value = self.text(key, max_len)
        if value and not _URL.match(value):
            self._fail(key, "Must be an http:// or https:// link.")
        return value

    def integer(self, key: str, minimum: int, maximum: int, required: bool = True) -> int | None:
        """A whole number within bounds (booleans are not numbers here)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self._fail(key, "This field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(key, "Must be a whole number.")
            return None
        if not minimum <= value <= maximum:
            self._fail(key, f"Must be between {minimum} and {maximum}.")
            return None
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        """A true/false field."""
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._fail(key, "Must be true or false.")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        """One of a fixed set of strings."""
        value = self.data.get(key, default)
        if value not in choices:
            self._fail(key, f"Must be one of: {', '.join(choices)}.")
            return choices[0]
        return value

    def uuid(self, key: str) -> str | None:
        """A canonical lower-case UUID string."""
        value = self.data.get(key)
        if not isinstance(value, str):
            self._fail(key, "Must be a UUID string.")
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            self._fail(key, "Must be a UUID string.")
            return None

    def timestamp(self, key: str, required: bool = True) -> datetime | None:
        """An ISO 8601 timestamp with a zone."""
        value = self.data.get(key)
        if value is None:
            if required:
                self._fail(key, "This field is required.")
            return None
        if not isinstance(value, str) or len(value) > 40:
            self._fail(key, "Must be an ISO 8601 timestamp string.")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self._fail(key, "Must be an ISO 8601 timestamp string.")
            return None
        if parsed.tzinfo is None:
            self._fail(key, "Must include a time zone, for example Z.")
            return None
        # Also keeps UTC conversion away from datetime's limits (year 1, year 9999).
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self._fail(key, f"Must be a time between {MIN_YEAR} and {MAX_YEAR}.")
            return None
        return parsed

    def day(self, key: str, required: bool = True) -> date | None:
        """An ISO 8601 date."""
        value = self.data.get(key)
        if value in (None, ""):
            if required:
                self._fail(key, "This field is required.")
            return None
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        self._fail(key, "Must be a date like 2024-02-11.")
        return None

    def items(self, key: str, max_items: int) -> list:
        """A list field of at most max_items entries."""
        value = self.data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self._fail(key, "Must be a list.")
            return []
        if len(value) > max_items:
            self._fail(key, f"At most {max_items} items.")
            return []
        return value

    def check(self) -> None:
        """Raise a 422 naming every bad field, if there is any."""
        if self.errors:
            raise ApiError(422, "invalid", "Some fields are not valid.", self.errors)
