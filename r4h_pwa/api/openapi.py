"""The OpenAPI 3.1 document. tests/api/test_openapi.py keeps it honest against app.url_map."""

from copy import deepcopy

from ..apidoc import BEARER, BOOL, INT, NULL_INT, NULL_STR, STR, errors, json_body, ok, ref
from ..checkin import openapi as checkin_openapi
from ..flags import openapi as flags_openapi
from ..runs import openapi as runs_openapi

SCHEMAS: dict = {
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
                "enum": ["police", "fire", "ems", "corrections", "dispatch", "federal", "k9"],
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
            "role": {"type": "string", "enum": ["escort", "runner", "supporter"]},
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
                "enum": ["planned", "in_progress", "finished", "synced"],
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
                "503": {"description": "Database unavailable", **json_body(ref("Error"))},
            },
        }
    },
    "/api/v1/auth/token": {
        "post": {
            "summary": "Exchange email and password for a revocable device token",
            "requestBody": {
                "required": True,
                **json_body(
                    {
                        "type": "object",
                        "required": ["email", "password", "device_name"],
                        "properties": {
                            "email": {"type": "string", "maxLength": 254},
                            "password": {"type": "string", "maxLength": 200},
                            "device_name": {"type": "string", "maxLength": 120},
                        },
                    }
                ),
            },
            "responses": {
                **ok(
                    "A new device token; shown once, stored hashed",
                    {
                        "type": "object",
                        "required": ["token", "device_id"],
                        "properties": {
                            "token": STR,
                            "device_id": STR,
                            "expires_at": STR,
                            "runner": {"type": "object"},
                        },
                    },
                ),
                **errors(400, 401, 413, 415, 422, 429),
            },
        }
    },
    "/api/v1/bootstrap": {
        "get": {
            "summary": "Heroes, tracks and the runner's planned runs, to cache offline",
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


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document as a dict, with every feature blueprint's paths."""
    paths = dict(PATHS)
    schemas = dict(SCHEMAS)
    for feature in (runs_openapi, checkin_openapi, flags_openapi):
        paths.update(feature.PATHS)
        schemas.update(feature.SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Running 4 Heroes API",
            "version": "1",
            "description": (
                "Offline-first lap counting, sync of finished runs, escort check-in and "
                "flag shipments. Errors always have the Error shape."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": deepcopy(paths),
        "components": {
            "schemas": deepcopy(schemas),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A device token from POST /api/v1/auth/token",
                }
            },
        },
    }
