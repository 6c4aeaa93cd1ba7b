"""The OpenAPI 3.1 document. tests/api/test_openapi.py keeps it honest against app.url_map."""

from copy import deepcopy

_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NULL_INT = {"type": ["integer", "null"]}
_BOOL = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def ok(description: str, schema: dict, status: str = "200") -> dict:
    return {status: {"description": description, **json_body(schema)}}


def errors(*statuses: int) -> dict:
    names = {
        400: "Malformed request (bad JSON)",
        401: "Missing, invalid, expired or revoked credentials",
        403: "Not allowed",
        404: "Unknown id",
        409: "Conflicting state",
        413: "Body larger than the limit",
        415: "Body is not JSON",
        422: "Invalid fields; error.fields names each one",
        429: "Rate limited",
    }
    return {
        str(status): {"description": names[status], **json_body(ref("Error"))} for status in statuses
    }


def id_param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "maxLength": 64},
    }


BEARER = [{"bearer": []}]

SCHEMAS: dict = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": _STR,
                    "message": _STR,
                    "fields": {"type": "object", "additionalProperties": _STR},
                },
            }
        },
    },
    "Hero": {
        "type": "object",
        "required": ["id", "name", "rank", "agency", "kind", "flag_type", "end_of_watch"],
        "properties": {
            "id": _INT,
            "name": _STR,
            "rank": _STR,
            "agency": _STR,
            "state": _STR,
            "kind": {
                "type": "string",
                "enum": ["police", "fire", "ems", "corrections", "dispatch", "federal", "k9"],
            },
            "flag_type": _STR,
            "end_of_watch": {"type": "string", "format": "date"},
            "incident_date": {"type": ["string", "null"], "format": "date"},
            "cause": _STR,
            "story": _STR,
            "source_url": _NULL_STR,
            "fundraiser_url": _NULL_STR,
            "fundraiser_verified_by": _NULL_STR,
        },
    },
    "Track": {
        "type": "object",
        "required": ["id", "name", "laps_per_mile", "min_lap_seconds"],
        "properties": {
            "id": _INT,
            "name": _STR,
            "laps_per_mile": _INT,
            "min_lap_seconds": _INT,
            "min_lap_ms": _INT,
        },
    },
    "Lap": {
        "type": "object",
        "required": ["seq", "elapsed_ms"],
        "properties": {"seq": {"type": "integer", "minimum": 1}, "elapsed_ms": _INT},
    },
    "Checkin": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": _STR,
            "agency": _STR,
            "badge": _STR,
            "role": {"type": "string", "enum": ["escort", "runner", "supporter"]},
            "public": _BOOL,
            "source": _STR,
            "checked_in_at": _NULL_STR,
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
            "hero_id": _INT,
            "runner_id": _INT,
            "track_id": _INT,
            "hero": ref("Hero"),
            "track": ref("Track"),
            "scheduled_at": _NULL_STR,
            "started_at": _NULL_STR,
            "finished_at": _NULL_STR,
            "synced_at": _NULL_STR,
            "mile_number": _NULL_INT,
            "complete": _BOOL,
            "lap_count": _INT,
            "words": _STR,
            "video_url": _NULL_STR,
            "checkin_url": _STR,
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
                            "token": _STR,
                            "device_id": _STR,
                            "expires_at": _STR,
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
                            "heroes": {"type": "array", "items": ref("Hero")},
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
    """The whole OpenAPI 3.1 document as a dict."""
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
        "paths": deepcopy(PATHS),
        "components": {
            "schemas": deepcopy(SCHEMAS),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A device token from POST /api/v1/auth/token",
                }
            },
        },
    }
