"""Sync of finished runs from phones, and the runner's runs."""

import json

from flask import Blueprint, abort, g, jsonify, request

from ..auth import device_required
from ..errors import ApiError, error_body
from ..extensions import csrf
from ..serializers import run_json
from . import service

bp = Blueprint("runs", __name__)
csrf.exempt(bp)  # bearer-token API


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _json_body():
    """The body parsed as JSON whatever its Content-Type; 413 past MAX_CONTENT_LENGTH."""
    raw = request.get_data(cache=False)  # raises 413 when Content-Length is over the limit
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit and request.stream.read(1):
        abort(413)  # a chunked body is cut at the limit; reading past it raises 413 too
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None


@bp.post("/api/v1/sync")
@device_required
def post_sync():
    """Store the phone's finished runs, each in its own transaction, with one result each."""
    runner_id, device_id = g.runner.id, g.device.id
    raw_runs = service.read_sync_request(_json_body(), device_id)
    results = service.sync_runs(runner_id, device_id, raw_runs)
    replies = [result.as_json() for result in results]
    if results and not any(result.accepted for result in results):
        rejected = sum(result.status == service.REJECTED for result in results)
        message = (
            f"No run was accepted: {rejected} rejected, {len(results) - rejected} in conflict."
        )
        body = error_body("invalid", message, results[0].errors)
        body["results"] = replies
        return jsonify(body), 422
    return jsonify(results=replies)


@bp.get("/api/v1/runs")
@device_required
def get_runs():
    """The runner's runs, newest first, without lap and check-in details."""
    runs = service.runs_of(g.runner.id)
    return jsonify(runs=[run_json(run, with_details=False, with_qr=False) for run in runs])


@bp.get("/api/v1/runs/<run_id>")
@device_required
def get_run(run_id: str):
    """One of the runner's runs with its mile number, laps, check-ins and check-in URL."""
    return jsonify(run_json(service.run_of(g.runner.id, run_id)))
