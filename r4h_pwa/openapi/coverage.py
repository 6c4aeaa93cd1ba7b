"""OpenAPI path and schema of GET /api/v1/coverage, merged into /api/v1/openapi.json."""

from ..models import HERO_KINDS
from .common import BEARER, INT, STR, errors, ok, ref

_NULL_DAYS = {"type": ["integer", "null"], "description": "Days; null when no hero is honored"}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


SCHEMAS: dict = {
    "Coverage": {
        "type": "object",
        "required": [
            "heroes_total",
            "honored",
            "awaiting",
            "share_honored",
            "days_to_mile_median",
            "days_to_mile_p90",
            "awaiting_heroes",
        ],
        "properties": {
            "heroes_total": INT,
            "honored": {**INT, "description": "Heroes with at least one numbered mile"},
            "awaiting": INT,
            "share_honored": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1,
                "description": "honored / heroes_total, 4 decimals; null if none",
            },
            "days_to_mile_median": _NULL_DAYS,
            "days_to_mile_p90": {
                **_NULL_DAYS,
                "description": "90th percentile (nearest rank) of days from end of watch to "
                "the first mile's date in the team's time zone",
            },
            "awaiting_heroes": {
                "type": "array",
                "description": "Oldest end of watch first",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "kind", "state", "end_of_watch", "days_waiting"],
                    "properties": {
                        "id": INT,
                        "name": STR,
                        "kind": {"type": "string", "enum": list(HERO_KINDS)},
                        "state": STR,
                        "end_of_watch": {"type": "string", "format": "date"},
                        "days_waiting": INT,
                    },
                },
            },
        },
    },
}

PATHS: dict = {
    "/api/v1/coverage": {
        "get": {
            "summary": "Heroes honored and awaiting their mile (admins only)",
            "security": BEARER,
            "parameters": [
                _query("kind", {"type": "string", "enum": list(HERO_KINDS)}, "Only this kind"),
                _query("state", {"type": "string", "maxLength": 2}, "Only this state"),
                _query("year", {"type": "integer"}, "Only heroes whose end of watch is then"),
            ],
            "responses": {
                **ok("The coverage figures", ref("Coverage")),
                **errors(401, 403, 422),
            },
        },
    },
}
