"""Sync of finished runs from phones, the runner's runs, and their photos."""

from uuid import UUID

from flask import Blueprint, Response, abort, g, jsonify, request, url_for

from .. import metrics
from ..auth import current_actor, device_required
from ..errors import ApiError, error_body
from ..extensions import csrf, db
from ..jsonbody import json_object
from ..models import Run
from ..serializers import public_url, run_json
from ..validation import Fields
from . import photos, service

bp = Blueprint("runs", __name__)
csrf.exempt(bp)  # bearer-token API


@bp.post("/api/v1/sync")
@device_required
def post_sync():
    """Store the phone's finished runs, each in its own transaction, with one result each."""
    runner_id, device_id = g.runner.id, g.device.id
    sync = service.read_sync_request(json_object(any_content_type=True), device_id)
    results = service.sync_runs(runner_id, device_id, sync.runs)
    metrics.record_sync([result.status for result in results], sync.outbox_age_seconds)
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


# --- photos -----------------------------------------------------------------------------------


def photo_json(photo) -> dict:
    """A photo as the API answers it; url needs the runner's token or an admin's session."""
    path = url_for("runs.get_photo", run_id=photo.run_id, photo_id=photo.id)
    return {
        "id": photo.id,
        "run_id": photo.run_id,
        "width": photo.width,
        "height": photo.height,
        "url": public_url(path),
        "hidden": photo.hidden_at is not None,
    }


def _photo_body(limit: int) -> bytes:
    """The raw body, at most limit bytes (this route only: the app's own limit is 1 MB).

    The stream may hold one byte past the limit: a body sent in chunks has no length to
    refuse it by, and a stream read to its maximum cannot tell a body of exactly limit bytes
    from a longer one cut there."""
    request.max_content_length = limit + 1
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        abort(413, f"A photo may be at most {limit // (1024 * 1024)} MB.")
    return data


# The photo id is a UUID in the rule itself, so PUT or PATCH on a photo's .jpg address is a 405,
# not an upload under the id "<uuid>.jpg".
@bp.put("/api/v1/runs/<run_id>/photos/<uuid:photo_id>")
@device_required
def put_photo(run_id: str, photo_id: UUID):
    """Upload a photo of the runner's run: stored stripped of all metadata, idempotent by id."""
    photo_id = str(photo_id)
    run = service.run_of(g.runner.id, run_id)
    if request.mimetype not in photos.FORMATS:
        raise ApiError(415, "unsupported_media_type", "Send the photo as image/jpeg or image/png.")
    data = _photo_body(photos.MAX_PHOTO_BYTES)
    try:
        photo, created = photos.put_photo(run, photo_id, data, request.mimetype)
    except photos.NotAnImage as exc:
        raise ApiError(415, exc.code, exc.message) from None
    except photos.TooManyPixels as exc:
        raise ApiError(413, exc.code, exc.message) from None
    db.session.commit()
    return jsonify(photo_json(photo)), 201 if created else 200


@bp.patch("/api/v1/runs/<run_id>/photos/<uuid:photo_id>")
@device_required
def patch_photo(run_id: str, photo_id: UUID):
    """Hide a photo of the runner's run from the family page, or show it again."""
    photo_id = str(photo_id)
    run = service.run_of(g.runner.id, run_id)
    fields = Fields(json_object())
    photo = photos.photo_of_run(run, photo_id)
    if fields.data.get("hidden") is None:
        fields.fail("hidden", "This field is required: true or false.")
    hidden = fields.boolean("hidden")
    fields.check()
    photos.set_hidden(photo, hidden)
    db.session.commit()
    return jsonify(photo_json(photo))


def _seen_photo(run_id: str, photo_id: str):
    """The photo if the caller is the run's runner or an admin; 401 or 404 otherwise."""
    actor = current_actor()
    if actor is None:
        raise ApiError(401, "unauthorized", "Sign in first.")
    run = db.session.get(Run, photos.canonical_id(run_id) or "-")
    if run is None or not photos.can_see_photos(actor, run):
        abort(404)
    return photos.photo_of_run(run, photo_id)


def jpeg_response(data: bytes) -> Response:
    """A JPEG shown inline; never cached by a shared cache (photos of children)."""
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/api/v1/runs/<run_id>/photos/<photo_id>.jpg")
def get_photo(run_id: str, photo_id: str):
    """The photo as stored (no metadata), for the run's runner (Bearer) or an admin."""
    return jpeg_response(_seen_photo(run_id, photo_id).jpeg)


@bp.get("/api/v1/runs/<run_id>/photos/<photo_id>/page.jpg")
def get_photo_page_copy(run_id: str, photo_id: str):
    """The photo's smaller copy (800 px on the long side), for the runner or an admin."""
    return jpeg_response(_seen_photo(run_id, photo_id).page_jpeg)
