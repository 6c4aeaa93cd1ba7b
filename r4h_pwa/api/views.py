"""Health check, the phone's bootstrap data, and the OpenAPI document."""

import sqlalchemy as sa
from flask import Blueprint, g, jsonify

from ..auth import device_required
from ..errors import json_error
from ..extensions import csrf, db
from ..flags.service import family_messages
from ..formatting import team_zone
from ..models import Hero, Run, Track
from ..openapi import openapi_document
from ..serializers import hero_json, run_json, track_json

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # bearer tokens, not cookies: there is nothing for CSRF to steal


@bp.get("/healthz")
def get_health():
    """Answer ok after a round trip to the database."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return json_error(503, "database_unavailable", "The database is not answering.")
    return jsonify(status="ok")


@bp.get("/api/v1/bootstrap")
@device_required
def get_bootstrap():
    """Heroes, tracks, the runner's planned runs and the families' messages, kept offline,
    and the team's time zone, in which the phone shows planned times (as the admins typed them)."""
    heroes = db.session.scalars(sa.select(Hero).order_by(Hero.end_of_watch.desc(), Hero.id))
    honored = set(db.session.scalars(sa.select(Run.hero_id).where(Run.mile_number.is_not(None))))
    tracks = db.session.scalars(sa.select(Track).order_by(Track.name))
    planned = db.session.scalars(
        sa.select(Run)
        .where(Run.runner_id == g.runner.id, Run.status == "planned")
        .order_by(Run.scheduled_at.asc().nulls_last(), Run.created_at)
    )
    return jsonify(
        runner={
            "id": g.runner.id,
            "name": g.runner.name,
            "next_mile_number": g.runner.total_miles + 1,
        },
        heroes=[{**hero_json(h), "honored": h.id in honored} for h in heroes],
        tracks=[track_json(t) for t in tracks],
        planned_runs=[run_json(r, with_details=False) for r in planned],
        messages=family_messages(g.runner.id),
        time_zone=team_zone().key,
    )


@bp.get("/api/v1/openapi.json")
def get_openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
