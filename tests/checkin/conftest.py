"""Fixtures for check-in tests: a planned run, and a folder for screenshots."""

import os
from pathlib import Path

import pytest

from tests.factories import make_hero, make_run, make_runner, make_track


@pytest.fixture
def run(db):
    """A planned run for Officer Jane Doe at the school track, committed."""
    hero = make_hero(name="Jane Doe", rank="Officer", agency="Example County Sheriff's Office")
    planned = make_run(make_runner(), hero=hero, track=make_track(name="Winter Springs HS"))
    db.session.commit()
    return planned


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: R4H_SHOTS_DIR (for example shots/checkin), else a temp folder."""
    folder = Path(os.environ.get("R4H_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
