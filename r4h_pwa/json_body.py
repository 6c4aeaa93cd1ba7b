"""Reading a JSON request body for the API views."""

from typing import Any

from flask import request

from .errors import ApiError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 ApiError saying what is wrong."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    return body
