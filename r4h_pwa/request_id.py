"""One id per request: sent back as X-Request-ID, logged with unexpected errors, and shown on
the error a person sees, so that a volunteer's report leads to the log line."""

import re
import uuid

from flask import Flask, g, request

HEADER = "X-Request-ID"
# What a proxy sends (nginx's $request_id, a UUID); anything else is replaced, so a client
# cannot put line breaks or markup into the log.
_SANE = re.compile(r"[A-Za-z0-9._-]{8,128}")


def request_id() -> str:
    """This request's id: the proxy's, if it sent a sane one, else a new random one."""
    if "request_id" not in g:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if _SANE.fullmatch(sent) else uuid.uuid4().hex
    return g.request_id


def _echo(response):
    response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    """Send every answer's request id back in its X-Request-ID header."""
    app.after_request(_echo)
