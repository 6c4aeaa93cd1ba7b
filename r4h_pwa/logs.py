"""Logs as one JSON object per line, each carrying the request's id when there is a request.

The id is the one request_id.py sends back in X-Request-ID and error pages show, so a
volunteer's "it said ref 3f2a..." leads straight to the log line. nginx's $request_id
arrives in that header, so its access log, gunicorn's and ours share the id.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Flask, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream

from .request_id import request_id

# The attributes every LogRecord has; anything else was passed in `extra` and is logged too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message, request, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = request_id()
            entry["method"] = request.method
            entry["path"] = request.path
        entry.update((key, value) for key, value in vars(record).items() if key not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _JsonHandler(logging.StreamHandler):
    """Flask's stream (the WSGI server's error stream in a request), with JSON lines."""

    def __init__(self):
        super().__init__(wsgi_errors_stream)
        self.setFormatter(JsonFormatter())


def init_app(app: Flask) -> None:
    """With LOG_FORMAT = "json" (the default), the app's logger writes JSON lines."""
    if app.config["LOG_FORMAT"] != "json":
        return
    logger = app.logger  # one logger per name, shared by every app built in this process
    logger.removeHandler(default_handler)
    if not any(isinstance(h, _JsonHandler) for h in logger.handlers):
        logger.addHandler(_JsonHandler())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
