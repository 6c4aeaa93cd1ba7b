"""Reading JSON request bodies: one strict parser and one reader for every JSON endpoint.

The policy, decided here and nowhere else:
- a body that is not JSON, NaN or Infinity, nesting too deep for the parser, a number outside
  64 bits (an integer outside a signed 64-bit range, a float that overflows a double), or an
  object that repeats a key is malformed: 400 `malformed_json`;
- a body that is JSON but not an object is refused the same way: every endpoint reads objects;
- a body over MAX_CONTENT_LENGTH, sent with a length or chunked, is a 413.

Duplicate keys are refused rather than "last one wins": two parsers reading the same body
must never disagree about what it says.

Any body a view left unread (a photo refused for its token, say) is read to its end before
the answer goes: closing a socket with bytes still unread sends a reset, and nginx, still
writing the body, would count the server as failed and answer 502.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Response, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from .errors import ApiError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NOT_JSON = "The body is not valid JSON."


class MalformedJSON(ValueError):
    """A body that strict_loads refuses, with the reason a client can read."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedJSON("An object in the body repeats a key.")
    return result


def _integer(text: str) -> int:
    # A signed 64-bit integer has at most 19 digits: refuse longer ones before converting.
    if len(text.lstrip("-")) > 19 or not INT64_MIN <= int(text) <= INT64_MAX:
        raise MalformedJSON("A number in the body is outside 64 bits.")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to infinity
        raise MalformedJSON("A number in the body is outside 64 bits.")
    return value


def _constant(name: str):
    raise MalformedJSON(f"{name} is not JSON.")


def strict_loads(data: str | bytes) -> Any:
    """Parse JSON by this module's policy; MalformedJSON (a ValueError) says what is wrong."""
    try:
        return json.loads(
            data,
            object_pairs_hook=_unique_keys,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except RecursionError:
        raise MalformedJSON("The body is nested too deeply.") from None


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: request.get_json() parses with strict_loads too."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_loads(s)


def _body_bytes() -> bytes:
    """The raw body; 413 past MAX_CONTENT_LENGTH, whether or not it came with a length."""
    raw = request.get_data(cache=False)  # raises 413 when Content-Length is over the limit
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit and request.stream.read(1):
        abort(413)  # a chunked body is cut at the limit; reading past it raises 413 too
    return raw


def json_object(any_content_type: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413/415 saying what is wrong.

    any_content_type reads the body as JSON whatever its Content-Type, as the sync
    endpoint always has.
    """
    if not any_content_type and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        body = strict_loads(_body_bytes())
    except MalformedJSON as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None
    except ValueError:  # the json module's own errors, and bytes that are not UTF-8
        raise ApiError(400, "malformed_json", NOT_JSON) from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "The body must be a JSON object.")
    return body


DRAIN_CHUNK = 64 * 1024
DRAIN_MOST = 16 * 1024 * 1024  # past what nginx lets through (8 MB photos): not worth reading


def _read_the_rest(response: Response) -> Response:
    """Read what is left of the request's body, up to DRAIN_MOST bytes."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (request.content_length or chunked) or (request.content_length or 0) > DRAIN_MOST:
        return response  # no body (most requests: page loads, GETs), or too much to read
    try:
        if request.environ.get("wsgi.input_terminated"):
            # The server ends the input where the body ends (gunicorn does): read it as it
            # is, wherever the view stopped, past any limit of the view's stream.
            stream = request.environ["wsgi.input"]
        else:
            # The stream the view read from, if it read (a stream made already keeps its own
            # limit); else the body, bounded by its length and DRAIN_MOST, not by the app's
            # 1 MB default (a photo's 8 MB is over it).
            request.max_content_length = DRAIN_MOST
            stream = request.stream
        left = DRAIN_MOST  # a chunked body has no length to go by
        while left > 0 and (chunk := stream.read(min(DRAIN_CHUNK, left))):
            left -= len(chunk)
    except (OSError, HTTPException):  # a client gone mid-body: nothing more to read
        pass
    return response


def init_app(app: Flask) -> None:
    """Parse every JSON body in the app, get_json() included, with strict_loads; read every
    unread body to its end."""
    app.json = StrictJSONProvider(app)
    app.after_request(_read_the_rest)
