"""Sync of finished runs from phones, and the runner's runs."""

from flask import Blueprint, g, jsonify

from ..auth import device_required
from ..errors import error_body
from ..extensions import csrf
from ..jsonbody import json_object
from ..serializers import run_json
from . import service

bp = Blueprint("runs", __name__)
csrf.exempt(bp)  # bearer-token API


@bp.post("/api/v1/sync")
@device_required
def post_sync():
    """Store the phone's finished runs, each in its own transaction, with one result each."""
    runner_id, device_id = g.runner.id, g.device.id
    raw_runs = service.read_sync_request(json_object(any_content_type=True), device_id)
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
