"""Checking input, and the domain errors a service raises when it refuses.

Services never raise HTTP errors. They raise a DomainError with the message for people and,
for a ValidationError, one message per bad field. errors.py turns it into the API's JSON
error (422, 404 or 409); an HTML view catches it and puts the same messages on its form.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
MIN_YEAR, MAX_YEAR = 2000, 2099


def _encodable(value: str) -> bool:
    """False for text with lone surrogates: JSON allows them, UTF-8 and the database do not."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class DomainError(Exception):
    """A service's refusal, in words for people; errors.py chooses the HTTP status."""

    default_code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.code = code or self.default_code


class ValidationError(DomainError):
    """Some fields are not valid; fields maps each to its message (HTTP 422)."""

    default_code = "invalid"

    def __init__(
        self,
        fields: dict[str, str],
        message: str = "Some fields are not valid.",
        code: str | None = None,
    ):
        super().__init__(message, fields, code)


class NotFound(DomainError):
    """Nothing the caller may see has this id (HTTP 404)."""

    default_code = "not_found"


class Conflict(DomainError):
    """The request clashes with the thing's current state (HTTP 409)."""

    default_code = "conflict"


class Fields:
    """Reads typed fields from a dict, remembering every problem under the field's name."""

    def __init__(self, data: dict[str, Any], prefix: str = ""):
        self.data = data
        self.prefix = prefix
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        """Note a problem with a field (the first problem noted for it stays)."""
        self.errors.setdefault(f"{self.prefix}{key}", message)

    def text(self, key: str, max_len: int, required: bool = False, default: str = "") -> str:
        """A string field, stripped; None or absent gives the default."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "This field is required.")
            return default
        if not isinstance(value, str):
            self.fail(key, "Must be a string.")
            return default
        value = value.strip()
        if required and not value:
            self.fail(key, "This field is required.")
        elif len(value) > max_len:
            self.fail(key, f"At most {max_len} characters.")
        elif "\x00" in value:
            self.fail(key, "Contains a NUL character.")
        elif not _encodable(value):
            self.fail(key, "Contains text that is not valid Unicode.")
        return value

    def url(self, key: str, max_len: int = 500) -> str:
        """An optional http(s) URL."""
        value = self.text(key, max_len)
        if value and not _URL.match(value):
            self.fail(key, "Must be an http:// or https:// link.")
        return value

    def integer(self, key: str, minimum: int, maximum: int, required: bool = True) -> int | None:
        """A whole number within bounds (booleans are not numbers here)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "This field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, "Must be a whole number.")
            return None
        if not minimum <= value <= maximum:
            self.fail(key, f"Must be between {minimum} and {maximum}.")
            return None
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        """A true/false field."""
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(key, "Must be true or false.")
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        """One of a fixed set of strings."""
        value = self.data.get(key, default)
        if value not in choices:
            self.fail(key, f"Must be one of: {', '.join(choices)}.")
            return choices[0]
        return value

    def uuid(self, key: str) -> str | None:
        """A canonical lower-case UUID string."""
        value = self.data.get(key)
        if not isinstance(value, str):
            self.fail(key, "Must be a UUID string.")
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            self.fail(key, "Must be a UUID string.")
            return None

    def timestamp(self, key: str, required: bool = True) -> datetime | None:
        """An ISO 8601 timestamp with a zone."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "This field is required.")
            return None
        if not isinstance(value, str) or len(value) > 40:
            self.fail(key, "Must be an ISO 8601 timestamp string.")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(key, "Must be an ISO 8601 timestamp string.")
            return None
        if parsed.tzinfo is None:
            self.fail(key, "Must include a time zone, for example Z.")
            return None
        # Also keeps UTC conversion away from datetime's limits (year 1, year 9999).
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self.fail(key, f"Must be a time between {MIN_YEAR} and {MAX_YEAR}.")
            return None
        return parsed

    def day(self, key: str, required: bool = True) -> date | None:
        """An ISO 8601 date."""
        value = self.data.get(key)
        if value in (None, ""):
            if required:
                self.fail(key, "This field is required.")
            return None
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        self.fail(key, "Must be a date like 2024-02-11.")
        return None

    def items(self, key: str, max_items: int) -> list:
        """A list field of at most max_items entries."""
        value = self.data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, "Must be a list.")
            return []
        if len(value) > max_items:
            self.fail(key, f"At most {max_items} items.")
            return []
        return value

    def check(self) -> None:
        """Raise a ValidationError naming every bad field, if there is any."""
        if self.errors:
            raise ValidationError(self.errors)
