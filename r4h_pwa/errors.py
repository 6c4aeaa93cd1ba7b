"""One place that answers JSON clients with JSON and browsers with a page."""

import sqlalchemy as sa
from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .database import database_unavailable, rollback_quietly
from .request_id import request_id
from .validation import Conflict, DomainError, NotFound, ValidationError


class ApiError(Exception):
    """A client error raised by a view (not a service), answered with the API's error shape."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def wants_json() -> bool:
    """API paths always get JSON; elsewhere the Accept header decides."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    accepted = request.accept_mimetypes
    return best == "application/json" and accepted[best] > accepted["text/html"]


def error_body(
    code: str, message: str, fields: dict | None = None, request_id: str | None = None
) -> dict:
    """The API's one error shape; server errors also name the request, for the log."""
    error = {"code": code, "message": message, "fields": fields or {}}
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    """A JSON error response in the API's shape."""
    return jsonify(error_body(code, message, fields)), status


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}

_MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in first.",
    403: "You do not have access to this.",
    404: "Nothing was found here.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    429: "Too many requests. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing was saved.",
}


def _handle_http(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        rollback_quietly()
    custom = exc.description and exc.description != type(exc).description
    message = exc.description if custom else _MESSAGES.get(status, exc.description or "Failed.")
    if isinstance(exc, CSRFError):
        message = "The form expired or was sent without its security token. Reload and try again."
    if status == 429:
        message = f"Too many requests ({exc.description}). Wait a minute and try again."
    reference = request_id() if status >= 500 else None  # ours to look up: show its id
    if wants_json():
        response = jsonify(error_body(_CODES.get(status, "error"), message, request_id=reference))
    else:
        response = make_response(
            render_template("error.html", status=status, message=message, request_id=reference)
        )
    response.status_code = status
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _handle_api_error(exc: ApiError):
    return json_error(exc.status, exc.code, exc.message, exc.fields)


DOMAIN_STATUS = {ValidationError: 422, NotFound: 404, Conflict: 409}


def domain_status(exc: DomainError) -> int:
    """The HTTP status of a service's refusal."""
    return next((s for kind, s in DOMAIN_STATUS.items() if isinstance(exc, kind)), 400)


def _handle_domain_error(exc: DomainError):
    """A refusal no view caught: JSON in the API's shape, or the error page."""
    status = domain_status(exc)
    if wants_json():
        return json_error(status, exc.code, exc.message, exc.fields)
    return render_template("error.html", status=status, message=exc.message), status


UNAVAILABLE_MESSAGE = "The database is not answering just now. Please try again in a moment."


def _handle_database_error(exc: sa.exc.SQLAlchemyError):
    """A lost, refused or busy database is a 503 "try again" (JSON or a page), not a 500."""
    if not database_unavailable(exc):
        return _handle_unexpected(exc)
    rollback_quietly()  # each unit of work commits whole or not at all: nothing half-stored
    current_app.logger.warning(
        "Database unavailable on %s %s [request_id=%s]: %s",
        request.method,
        request.path,
        request_id(),
        type(exc).__name__,
    )
    if wants_json():
        body = error_body("database_unavailable", UNAVAILABLE_MESSAGE, request_id=request_id())
        response = jsonify(body)
    else:
        try:
            page = render_template(
                "error.html", status=503, message=UNAVAILABLE_MESSAGE, request_id=request_id()
            )
        except sa.exc.SQLAlchemyError:  # the page asks who is signed in: a database read
            page = UNAVAILABLE_MESSAGE
        response = make_response(page)
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response


def _handle_unexpected(exc: Exception):
    rollback_quietly()
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    current_app.logger.error(
        "Unexpected error on %s %s [request_id=%s]",
        request.method,
        request.path,
        request_id(),
        exc_info=exc,
    )
    return _handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(sa.exc.SQLAlchemyError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
