"""OpenAPI part of the api blueprint: health, this document, bootstrap, and the shared schemas."""

from ..models import CHECKIN_ROLES, HERO_KINDS, PHONE_RUN_STATUSES, RUN_STATUSES
from .common import (
    BEARER,
    BOOL,
    INT,
    JSON_VALUE,
    NULL_INT,
    NULL_STR,
    STR,
    errors,
    jsonbody,
    ok,
    ref,
)

SCHEMAS: dict = {
    "JsonValue": JSON_VALUE,
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": STR,
                    "message": STR,
                    "fields": {"type": "object", "additionalProperties": STR},
                    "request_id": {
                        **STR,
                        "description": "On server errors (5xx): the X-Request-ID the log names",
                    },
                },
            }
        },
    },
    "Hero": {
        "type": "object",
        "required": ["id", "name", "rank", "agency", "kind", "flag_type", "end_of_watch"],
        "properties": {
            "id": INT,
            "name": STR,
            "rank": STR,
            "agency": STR,
            "state": STR,
            "kind": {
                "type": "string",
                "enum": list(HERO_KINDS),
            },
            "flag_type": STR,
            "end_of_watch": {"type": "string", "format": "date"},
            "incident_date": {"type": ["string", "null"], "format": "date"},
            "cause": STR,
            "story": STR,
            "source_url": NULL_STR,
            "fundraiser_url": NULL_STR,
            "fundraiser_verified_by": NULL_STR,
        },
    },
    "Track": {
        "type": "object",
        "required": ["id", "name", "laps_per_mile", "min_lap_seconds"],
        "properties": {
            "id": INT,
            "name": STR,
            "laps_per_mile": INT,
            "min_lap_seconds": INT,
            "min_lap_ms": INT,
        },
    },
    "Lap": {
        "type": "object",
        "required": ["seq", "elapsed_ms"],
        "properties": {"seq": {"type": "integer", "minimum": 1}, "elapsed_ms": INT},
    },
    "Checkin": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": STR,
            "agency": STR,
            "badge": STR,
            "role": {"type": "string", "enum": list(CHECKIN_ROLES)},
            "public": BOOL,
            "source": STR,
            "checked_in_at": NULL_STR,
        },
    },
    "Run": {
        "type": "object",
        "required": ["id", "status", "hero_id", "track_id", "mile_number", "checkin_url"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {
                "type": "string",
                "enum": list(RUN_STATUSES),
                "description": "planned until the server holds the finished run, then synced. "
                "The phone's words for a run, and the server status each reads as: "
                + "; ".join(f"{phone}: {server}" for phone, server in PHONE_RUN_STATUSES.items())
                + ".",
            },
            "hero_id": INT,
            "runner_id": INT,
            "track_id": INT,
            "hero": ref("Hero"),
            "track": ref("Track"),
            "scheduled_at": NULL_STR,
            "started_at": NULL_STR,
            "finished_at": NULL_STR,
            "synced_at": NULL_STR,
            "mile_number": NULL_INT,
            "complete": BOOL,
            "lap_count": INT,
            "words": STR,
            "video_url": NULL_STR,
            "ceremony": {
                "oneOf": [ref("Ceremony"), {"type": "null"}],
                "description": "null when the phone recorded none",
            },
            "checkin_url": STR,
            "checkin_qr_svg": STR,
            "laps": {"type": "array", "items": ref("Lap")},
            "checkins": {"type": "array", "items": ref("Checkin")},
        },
    },
}

PATHS: dict = {
    "/healthz": {
        "get": {
            "summary": "Health check that touches the database",
            "responses": {
                **ok("Healthy", {"type": "object", "properties": {"status": {"const": "ok"}}}),
                "503": {"description": "Database unavailable", **jsonbody(ref("Error"))},
            },
        }
    },
    "/api/v1/bootstrap": {
        "get": {
            "summary": "Heroes, tracks, the runner's planned runs and families' messages, to cache "
            "offline",
            "security": BEARER,
            "responses": {
                **ok(
                    "Data for the phone",
                    {
                        "type": "object",
                        "required": ["heroes", "tracks", "planned_runs"],
                        "properties": {
                            "runner": {"type": "object"},
                            "heroes": {
                                "type": "array",
                                "items": {
                                    "allOf": [ref("Hero")],
                                    "properties": {"honored": BOOL},
                                    "description": "honored: a numbered mile was run for the hero",
                                },
                            },
                            "tracks": {"type": "array", "items": ref("Track")},
                            "planned_runs": {"type": "array", "items": ref("Run")},
                            "messages": {
                                "type": "array",
                                "description": "The families' messages for the runner's runs, "
                                "newest first; only the runner and the admins see them",
                                "items": {
                                    "type": "object",
                                    "required": ["run_id", "hero_name", "message", "received_at"],
                                    "properties": {
                                        "run_id": STR,
                                        "hero_name": STR,
                                        "message": STR,
                                        "received_at": NULL_STR,
                                    },
                                },
                            },
                            "time_zone": {
                                **STR,
                                "description": "The team's IANA time zone (TIMEZONE), such as "
                                "America/Denver: planned times are shown in it, with its "
                                "abbreviation, wherever the phone is",
                            },
                        },
                    },
                ),
                **errors(401),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": ok("OpenAPI 3.1", {"type": "object"}),
        }
    },
}
