"""OpenAPI part of the runs blueprint: sync and the runner's runs."""

from ..models import CHECKIN_ROLES, SILENCE_WHEN
from ..runs.photos import MAX_PHOTO_BYTES, MAX_PIXELS, PAGE_SIZE
from ..runs.service import (
    CONFLICT,
    CREATED,
    DUPLICATE,
    MAX_CHECKINS,
    MAX_ELAPSED_MS,
    MAX_ID,
    MAX_LAPS,
    MAX_OUTBOX_AGE_SECONDS,
    MAX_RUNS_PER_SYNC,
    MAX_SILENCE_SECONDS,
    MAX_WORDS,
    REJECTED,
)
from .common import (
    BEARER,
    BOOL,
    INT,
    NO_NUL,
    NULL_INT,
    SPACE,
    STR,
    errors,
    id_param,
    jsonbody,
    ok,
    ref,
    text,
)

_UUID = {"type": "string", "format": "uuid"}
_TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "maxLength": 40,
    "description": "ISO 8601 with a zone, for example 2025-03-01T14:00:00Z, "
    "in the years 2000-2099 (a time outside is refused with a field error)",
}

SCHEMAS: dict = {
    "Ceremony": {
        "type": "object",
        "required": ["prayer_before", "silence_seconds", "flag_carried", "prayer_after"],
        "description": "The ceremony at the track, as the phone recorded it; a skipped step is "
        "false (or 0 seconds). Part of the run's content: the same run id with another "
        "ceremony is a conflict. A run sent without it (older apps) hashes as before, so its "
        "repeats stay duplicate.",
        "properties": {
            "prayer_before": BOOL,
            "silence_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SILENCE_SECONDS,
                "description": "How long the moment of silence lasted",
            },
            "flag_carried": {
                **BOOL,
                "description": "The hero's flag (its type comes from the hero) was carried",
            },
            "prayer_after": BOOL,
            "silence_when": {
                "type": ["string", "null"],
                "enum": [*SILENCE_WHEN, None],
                "description": "When the silence was kept: on the hero card before the run, or "
                "after it. Optional; in the content hash only when sent, so a repeat from an "
                "app that never sends it stays duplicate. Returned as null when not sent (the "
                "family page then says after).",
            },
        },
    },
    "SyncLap": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["seq", "elapsed_ms"],
        "properties": {
            "seq": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LAPS,
                "description": "1 for the first lap, then 2, 3... with no gap",
            },
            "elapsed_ms": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ELAPSED_MS,
                "description": "Milliseconds since the run began (monotonic), strictly "
                "increasing from lap to lap",
            },
        },
    },
    "SyncCheckin": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["id", "name"],
        "properties": {
            "id": {
                **_UUID,
                "description": "Made on the phone; a repeat updates the same check-in. A "
                "check-in another maker owns (an officer's own, another phone's, or one the "
                "team removed) is left as it was, and the run's errors say so.",
            },
            "name": text(120, required=True),
            "agency": text(160),
            "badge": text(60),
            "role": {"type": "string", "enum": list(CHECKIN_ROLES)},
            "public": {**BOOL, "description": "Consent to be named on the family page"},
            "checked_in_at": {
                **_TIMESTAMP,
                "description": "Optional: when the phone recorded it (else the sync time). "
                "Not compared when a run is repeated.",
            },
        },
    },
    "SyncRun": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["id", "hero_id", "track_id", "started_at", "finished_at", "laps"],
        "properties": {
            "id": {
                **_UUID,
                "description": "Made on the phone, or the id of a planned run. The "
                "idempotency key of the run.",
            },
            "hero_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "track_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "started_at": {
                **_TIMESTAMP,
                "description": "At most 24 hours ahead of the server's clock",
            },
            "finished_at": {
                **_TIMESTAMP,
                "description": "Not before started_at; at most 24 hours ahead of the "
                "server's clock",
            },
            "laps": {
                "type": "array",
                "maxItems": MAX_LAPS,
                "items": ref("SyncLap"),
                "description": "The last lap's elapsed_ms must fall within finished_at - "
                "started_at, give or take 5 s. A mile with a lap under the track's "
                "min_lap_seconds is stored without a mile number until an admin confirms it.",
            },
            "checkins": {"type": "array", "maxItems": MAX_CHECKINS, "items": ref("SyncCheckin")},
            "words": {"type": ["string", "null"], "maxLength": MAX_WORDS, "pattern": NO_NUL},
            "video_url": {
                "type": ["string", "null"],
                "maxLength": 500,
                "pattern": f"^[{SPACE}]*(https?://[^{SPACE}<>\"'\\u0000]+)?[{SPACE}]*$",
                "description": "An http(s) link, or empty",
            },
            "ceremony": {
                "oneOf": [ref("Ceremony"), {"type": "null"}],
                "description": "Optional; errors name the step, like ceremony.silence_seconds",
            },
        },
    },
    "Photo": {
        "type": "object",
        "required": ["id", "run_id", "width", "height", "url"],
        "properties": {
            "id": _UUID,
            "run_id": _UUID,
            "width": {**INT, "description": "Of the stored copy, upright"},
            "height": INT,
            "url": {
                **STR,
                "description": "The stored JPEG; needs the runner's Bearer token or an admin's "
                "session. Never public.",
            },
            "hidden": {**BOOL, "description": "Hidden photos are left off the family page"},
        },
    },
    "SyncRequest": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["device_id", "runs"],
        "properties": {
            "device_id": {
                "type": "string",
                "format": "uuid",
                "description": "The device_id POST /api/v1/auth/token gave with this token; "
                "any other id is refused (422) and nothing is stored",
            },
            "runs": {"type": "array", "maxItems": MAX_RUNS_PER_SYNC, "items": ref("SyncRun")},
            "outbox_age_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_OUTBOX_AGE_SECONDS,
                "description": "Optional: how many seconds the oldest run in this request has "
                "waited in the phone's outbox since it was finished (0 when it syncs at once). "
                "Counted in the server's metrics only; a value that is not a whole number in "
                "range is refused (422) and nothing is stored",
            },
        },
    },
    "SyncResult": {
        "type": "object",
        "required": ["id", "status", "mile_number", "errors"],
        "properties": {
            "id": {"description": "The id as submitted (null if it was missing)"},
            "status": {
                "type": "string",
                "enum": [CREATED, DUPLICATE, CONFLICT, REJECTED],
                "description": "created and duplicate mean the server holds the run: the "
                "phone may drop it from its outbox. conflict: this id is stored with other "
                "content, belongs to another runner, or is a planned run for another hero; "
                "the server kept its copy. rejected: invalid (errors says why), nothing of it "
                "was stored.",
            },
            "mile_number": {
                **NULL_INT,
                "description": "The runner's mile number; null for an incomplete run, or "
                "for a mile held for an admin's confirmation (errors.laps says why)",
            },
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Field errors named like laps[3].elapsed_ms or "
                "checkins[0].name. On a created run, notes on what was not applied: "
                "checkins[N] (a check-in someone else made, left as it was) or laps (a lap "
                "under the track's minimum: no mile number until an admin confirms it).",
            },
        },
    },
    "SyncReply": {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": ref("SyncResult")}},
    },
    "SyncRefused": {
        "description": "Every run was rejected or in conflict: the Error shape (fields are "
        "the first run's errors) together with one result per run.",
        "allOf": [
            ref("Error"),
            {
                "type": "object",
                "required": ["results"],
                "properties": {"results": {"type": "array", "items": ref("SyncResult")}},
            },
        ],
    },
}

_SYNC_DESCRIPTION = f"""\
Each run is validated and applied in its own transaction, with one result per run, in order.
A run's UUID is its idempotency key: a repeat with the same content answers `duplicate`
with the same mile number; the same id with other content answers `conflict` and the
server keeps its copy. A planned run keeps its id: the first sync of it answers `created`.
A finished run with at least the track's laps per mile gets the runner's next mile number
(gapless, continuing from the runner's starting count); a shorter one is stored unnumbered.

Status: 200 when at least one run was accepted (created or duplicate) or `runs` is empty.
422 when every run was rejected or in conflict: the body is the Error shape plus `results`.
Request-level problems store nothing: 400 for a body that is not a JSON object (the Error's
message says why: not JSON, nested too deeply, a repeated key, a number outside 64 bits);
422 for `runs` that is not a list or has more than {MAX_RUNS_PER_SYNC} runs, a bad
`outbox_age_seconds`, or a `device_id`
that is not the token's device; 413 for a body over 1 MB.
"""

PATHS: dict = {
    "/api/v1/sync": {
        "post": {
            "summary": "Push finished runs from the phone's outbox",
            "description": _SYNC_DESCRIPTION,
            "security": BEARER,
            "requestBody": {"required": True, **jsonbody(ref("SyncRequest"))},
            "responses": {
                **ok("One result per submitted run", ref("SyncReply")),
                **errors(400, 401, 413),
                "422": {
                    "description": "The request is invalid as a whole (Error), or every run "
                    "was rejected or in conflict (Error plus results)",
                    **jsonbody({"anyOf": [ref("SyncRefused"), ref("Error")]}),
                },
            },
        }
    },
    "/api/v1/runs": {
        "get": {
            "summary": "The runner's runs, newest first (without laps and check-ins)",
            "security": BEARER,
            "responses": {
                **ok(
                    "The runs",
                    {
                        "type": "object",
                        "required": ["runs"],
                        "properties": {"runs": {"type": "array", "items": ref("Run")}},
                    },
                ),
                **errors(401),
            },
        }
    },
    "/api/v1/runs/{run_id}": {
        "get": {
            "summary": "One of the runner's runs with its mile number, laps and check-ins",
            "security": BEARER,
            "parameters": [id_param("run_id", "The run's UUID")],
            "responses": {
                **ok("The run", ref("Run")),
                **errors(401, 404),
            },
        }
    },
}

_PHOTO_PARAMS = [
    id_param("run_id", "The run's UUID"),
    id_param("photo_id", "The photo's UUID, made on the phone: the idempotency key"),
]
_JPEG = {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
_PHOTO_DESCRIPTION = """\
The body is the image itself, `image/jpeg` or `image/png`, at most {mb} MB (this route's
own limit; JSON bodies stay at 1 MB). The server decodes it with Pillow: bytes that are not
a whole image of the declared type (a PNG sent as image/jpeg, a JPEG sent as image/png, a
truncated JPEG, anything else) answer 415. An image of more than {pixels:,} pixels (a
decompression bomb) answers 413 with code `image_too_large`, as does a body over {mb} MB.

The server keeps only a copy it re-encodes as JPEG from the pixels alone, turned upright by
the EXIF orientation first: no EXIF, GPS, XMP, ICC profile or comment survives. It also keeps
a copy at most {page} px on the long side for the family page.

201 the first time; 200 with the same body for the same bytes again; 409 for other bytes
under the same id (the server keeps its copy).
""".format(mb=MAX_PHOTO_BYTES // (1024 * 1024), pixels=MAX_PIXELS, page=PAGE_SIZE)

PATHS["/api/v1/runs/{run_id}/photos/{photo_id}"] = {
    "put": {
        "summary": "Upload a photo of the runner's run (stored without any metadata)",
        "description": _PHOTO_DESCRIPTION,
        "security": BEARER,
        "parameters": _PHOTO_PARAMS,
        "requestBody": {
            "required": True,
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        "responses": {
            **ok("The same photo again (same bytes)", ref("Photo")),
            **ok("Stored", ref("Photo"), "201"),
            **errors(401, 404, 409, 413, 415),
        },
    },
    "patch": {
        "summary": "Hide a photo from the family page, or show it again",
        "security": BEARER,
        "parameters": _PHOTO_PARAMS,
        "requestBody": {
            "required": True,
            **jsonbody(
                {
                    "type": "object",
                    "required": ["hidden"],
                    "properties": {"hidden": BOOL},
                }
            ),
        },
        "responses": {**ok("The photo", ref("Photo")), **errors(400, 401, 404, 415, 422)},
    },
}
PATHS["/api/v1/runs/{run_id}/photos/{photo_id}.jpg"] = {
    "get": {
        "summary": "The stored photo: the run's runner (Bearer) or an admin (session) only",
        "parameters": _PHOTO_PARAMS,
        "responses": {"200": {"description": "JPEG without metadata", **_JPEG}, **errors(401, 404)},
    },
}
PATHS["/api/v1/runs/{run_id}/photos/{photo_id}/page.jpg"] = {
    "get": {
        "summary": f"The photo's copy for pages ({PAGE_SIZE} px on the long side), same access",
        "parameters": _PHOTO_PARAMS,
        "responses": {"200": {"description": "JPEG without metadata", **_JPEG}, **errors(401, 404)},
    },
}
