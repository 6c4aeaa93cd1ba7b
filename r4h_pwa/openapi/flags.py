"""OpenAPI part of the flags blueprint: shipments of a run's flag."""

from ..flags.service import MAX_NOTE
from ..models import MAILING_STATES, RECIPIENT_KINDS, SHIPMENT_STATUSES
from .common import (
    BEARER,
    BOOL,
    NULL_INT,
    NULL_STR,
    SPACE,
    STR,
    errors,
    id_param,
    jsonbody,
    ok,
    ref,
    text,
)


def _line(max_length: int, description: str = "", *, required: bool = False) -> dict:
    """A text field the server keeps on one line (read_shipment refuses CR, LF and tab)."""
    schema = text(max_length, description, required=required)
    schema["pattern"] = ONE_LINE_NOT_BLANK if required else ONE_LINE
    return schema


ONE_LINE = "^[^\\u0000\\r\\n\\t]*$"
ONE_LINE_NOT_BLANK = f"^[^\\u0000\\r\\n\\t]*[^{SPACE}\\u0000][^\\u0000\\r\\n\\t]*$"


_STATUS = {
    "type": "string",
    "enum": list(SHIPMENT_STATUSES),
}
_TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict = {
    "NewShipment": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["recipient_name", "address_line1", "city", "state", "postal_code"],
        "properties": {
            "recipient_name": _line(120, required=True),
            "recipient_kind": {
                "type": "string",
                "enum": list(RECIPIENT_KINDS),
                "default": "family",
                "description": "The family, or someone who delivers the flag in person",
            },
            "address_line1": _line(120, required=True),
            "address_line2": _line(120),
            "city": _line(80, required=True),
            "state": {
                "type": "string",
                "enum": sorted(MAILING_STATES),
                "description": "Two-letter USPS code of a state, DC, territory or APO/FPO "
                "(lower case is taken too)",
            },
            "postal_code": {
                "type": "string",
                "pattern": "^\\s*[0-9]{5}(-?[0-9]{4})?\\s*$",
                "description": "ZIP: 5 digits, or 9 (ZIP+4, with or without a hyphen)",
            },
            "note": text(MAX_NOTE, "For the team; never shown to the family"),
            "handwritten_note": {"type": "boolean", "default": True},
            "carrier": _line(40),
            "tracking_number": _line(60),
        },
    },
    "ShipmentCreated": {
        "type": "object",
        "required": ["id", "family_url", "label_url"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "family_url": {"type": "string", "format": "uri"},
            "label_url": {"type": "string", "format": "uri"},
        },
    },
    "Shipment": {
        "type": "object",
        "required": ["id", "run_id", "status", "status_times", "family_url", "label_url"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "run_id": {"type": "string", "format": "uuid"},
            "mile_number": NULL_INT,
            "hero": {"type": "object", "properties": {"id": {"type": "integer"}, "name": STR}},
            "recipient_name": STR,
            "recipient_kind": {"type": "string", "enum": list(RECIPIENT_KINDS)},
            "address_line1": STR,
            "address_line2": STR,
            "city": STR,
            "state": STR,
            "postal_code": STR,
            "note": STR,
            "handwritten_note": BOOL,
            "carrier": STR,
            "tracking_number": STR,
            "status": _STATUS,
            "status_times": {
                "type": "object",
                "description": "When the shipment reached each status (null: not yet)",
                "properties": {name: _TIME for name in _STATUS["enum"]},
            },
            "created_at": _TIME,
            "label_printed_at": _TIME,
            "shipped_at": _TIME,
            "delivered_at": _TIME,
            "received_at": _TIME,
            "ack_message": {
                **NULL_STR,
                "description": "The family's message(s) to the runner, separated by blank lines",
            },
            "family_url": {"type": "string", "format": "uri"},
            "family_link_active": BOOL,
            "label_url": {"type": "string", "format": "uri"},
            "card_url": {"type": "string", "format": "uri"},
            "letter_url": {"type": "string", "format": "uri"},
        },
    },
}

PATHS: dict = {
    "/api/v1/runs/{run_id}/shipments": {
        "parameters": [id_param("run_id", "The run's UUID")],
        "post": {
            "summary": "Ship a synced run's flag: create a draft shipment",
            "security": BEARER,
            "requestBody": {"required": True, **jsonbody(ref("NewShipment"))},
            "responses": {
                **ok("Created", ref("ShipmentCreated"), status="201"),
                **errors(400, 401, 404, 409, 413, 415, 422),
            },
        },
        "get": {
            "summary": "The shipments of one of the runner's runs",
            "security": BEARER,
            "responses": {
                **ok(
                    "The run's shipments, oldest first",
                    {
                        "type": "object",
                        "required": ["shipments"],
                        "properties": {"shipments": {"type": "array", "items": ref("Shipment")}},
                    },
                ),
                **errors(401, 404),
            },
        },
    },
    "/api/v1/shipments/{shipment_id}": {
        "parameters": [id_param("shipment_id", "The shipment's UUID")],
        "get": {
            "summary": "A shipment with its status, status times and the family's message",
            "security": BEARER,
            "responses": {**ok("The shipment", ref("Shipment")), **errors(401, 404)},
        },
    },
}
