"""GET /api/v1/coverage: the coverage figures as JSON, for an admin's bearer token."""

from flask import Blueprint, g, jsonify, request

from ..auth import device_required
from ..errors import ApiError
from . import service

bp = Blueprint("coverage", __name__)


@bp.get("/api/v1/coverage")
@device_required
def get_coverage_figures():
    """Heroes honored and awaiting, days from end of watch to the mile; ?kind=&state=&year=."""
    if not g.runner.is_admin:
        raise ApiError(403, "forbidden", "Only an admin can read the coverage figures.")
    figures = service.coverage(service.read_filters(request.args))
    return jsonify(service.coverage_json(figures))
