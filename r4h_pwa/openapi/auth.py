"""OpenAPI part of the auth blueprint: the device-token endpoint for phones."""

from .common import STR, errors, jsonbody, ok, ref, text

SCHEMAS: dict = {
    "TokenRequest": {
        "type": "object",
        "additionalProperties": ref("JsonValue"),
        "required": ["email", "password", "device_name"],
        "properties": {
            # Only looked up (login never says whether an account exists), so any text.
            "email": text(254, "The account's email address", required=True),
            "password": text(200, required=True),
            "device_name": text(120, "Shown on the admin Devices page", required=True),
            "otp": text(20, "Admins only: a code from the authenticator app, or a recovery code"),
        },
    },
    "DeviceToken": {
        "type": "object",
        "required": ["token", "device_id", "expires_at", "runner"],
        "properties": {
            "token": {**STR, "description": "192 random bits, URL-safe base64; shown once"},
            "device_id": {"type": "string", "format": "uuid"},
            "expires_at": {"type": "string", "format": "date-time"},
            "runner": {
                "type": "object",
                "required": ["id", "name", "email"],
                "properties": {"id": {"type": "integer"}, "name": STR, "email": STR},
            },
        },
    },
}

PATHS: dict = {
    "/api/v1/auth/token": {
        "post": {
            "summary": "Exchange email and password for a revocable device token",
            "requestBody": {
                "required": True,
                **jsonbody({"$ref": "#/components/schemas/TokenRequest"}),
            },
            "responses": {
                **ok(
                    "A new device token; shown once, stored hashed",
                    {"$ref": "#/components/schemas/DeviceToken"},
                ),
                # 403: an admin who has not set up two-factor sign-in yet.
                **errors(400, 401, 403, 413, 415, 422, 429),
            },
        }
    },
}
