"""Builders for sync tests: a signed-in phone, a hero and track, and run payloads."""

import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from r4h_pwa.models import Checkin, Lap, Run
from tests.factories import bearer, make_device_token, make_hero, make_runner, make_track


@dataclass
class Phone:
    """A runner signed in on a phone, with a hero and a 7-lap track to run for."""

    runner_id: int
    device_id: str
    token: str
    hero_id: int
    track_id: int

    @property
    def headers(self) -> dict:
        return bearer(self.token)


def make_phone(db, starting_mile_count: int = 0, laps_per_mile: int = 7) -> Phone:
    """A runner, a device token, a hero and a track, committed."""
    runner = make_runner(starting_mile_count=starting_mile_count)
    token = make_device_token(runner)
    hero = make_hero()
    track = make_track(laps_per_mile=laps_per_mile)
    db.session.commit()
    return Phone(runner.id, runner.devices[0].id, token, hero.id, track.id)


@pytest.fixture
def phone(db) -> Phone:
    """A signed-in runner starting from mile 0, with a hero and a 7-lap track."""
    return make_phone(db)


def run_payload(phone: Phone, laps: int = 7, **overrides) -> dict:
    """A finished run as the phone sends it: one lap every 90 s."""
    run = {
        "id": str(uuid.uuid4()),
        "hero_id": phone.hero_id,
        "track_id": phone.track_id,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:12:00Z",
        "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, laps + 1)],
        "checkins": [],
        "words": "For Officer Hero.",
        "video_url": "",
    }
    run.update(overrides)
    return run


def escort(**overrides) -> dict:
    """A check-in added on the phone."""
    checkin = {
        "id": str(uuid.uuid4()),
        "name": "Sgt. Dana Reyes",
        "agency": "Example County Sheriff",
        "badge": "1234",
        "role": "escort",
        "public": True,
    }
    checkin.update(overrides)
    return checkin


def sync(client, phone: Phone, *runs: dict, device_id: str | None = None):
    """POST the runs to /api/v1/sync from the phone."""
    body = {"device_id": device_id or phone.device_id, "runs": list(runs)}
    return client.post("/api/v1/sync", json=body, headers=phone.headers)


def counts(db) -> tuple[int, int, int]:
    """How many runs, laps and check-ins are stored."""
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Run, Lap, Checkin)
    )
