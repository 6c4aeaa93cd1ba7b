"""Models as the JSON the API sends. One function per model, shared by every blueprint."""

from datetime import datetime

from flask import current_app

from .models import Checkin, Hero, Run, Track
from .qr import qr_svg


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 string in UTC with a Z, or None."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def public_url(path: str) -> str:
    """An absolute URL on the configured public base URL (used in QR codes and labels)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def hero_json(hero: Hero) -> dict:
    """A hero for the phone and the API."""
    return {
        "id": hero.id,
        "name": hero.name,
        "rank": hero.rank,
        "agency": hero.agency,
        "state": hero.state,
        "kind": hero.kind,
        "flag_type": hero.flag_type,
        "end_of_watch": hero.end_of_watch.isoformat(),
        "incident_date": hero.incident_date.isoformat() if hero.incident_date else None,
        "cause": hero.cause,
        "story": hero.story,
        "source_url": hero.source_url or None,
        "fundraiser_url": hero.fundraiser_url or None,
        "fundraiser_verified_by": hero.fundraiser_verified_by or None,
    }


def track_json(track: Track) -> dict:
    """A track for the phone and the API."""
    return {
        "id": track.id,
        "name": track.name,
        "laps_per_mile": track.laps_per_mile,
        "min_lap_seconds": track.min_lap_seconds,
        "min_lap_ms": track.min_lap_seconds * 1000,
    }


def checkin_json(checkin: Checkin) -> dict:
    """A check-in as the runner sees it."""
    return {
        "id": checkin.id,
        "name": checkin.name,
        "agency": checkin.agency,
        "badge": checkin.badge,
        "role": checkin.role,
        "public": checkin.public,
        "source": checkin.source,
        "checked_in_at": iso(checkin.checked_in_at),
    }


def run_json(run: Run, with_details: bool = True, with_qr: bool = True) -> dict:
    """A run with its mile number; unless asked not to, its laps, check-ins and check-in QR."""
    checkin_url = public_url(f"/c/{run.checkin_token}")
    data = {
        "id": run.id,
        "status": run.status,
        "hero_id": run.hero_id,
        "runner_id": run.runner_id,
        "track_id": run.track_id,
        "hero": hero_json(run.hero),
        "track": track_json(run.track),
        "scheduled_at": iso(run.scheduled_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "synced_at": iso(run.synced_at),
        "mile_number": run.mile_number,
        "complete": run.is_complete,
        "lap_count": len(run.laps),
        "words": run.words,
        "video_url": run.video_url or None,
        "ceremony": run.ceremony,
        "checkin_url": checkin_url,
    }
    if with_qr:  # ~15 ms each: the list of runs leaves it out, one run and bootstrap keep it
        label = f"Check-in code for the run for {run.hero.name}"
        data["checkin_qr_svg"] = qr_svg(checkin_url, label)
    if with_details:
        data["laps"] = [{"seq": lap.seq, "elapsed_ms": lap.elapsed_ms} for lap in run.laps]
        data["checkins"] = [checkin_json(c) for c in run.checkins]
    return data
