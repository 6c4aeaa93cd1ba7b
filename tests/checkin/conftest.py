"""Fixtures for check-in tests: a planned run, a signed-in admin, and the form's CSRF token."""

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from r4h_pwa.models import Checkin
from tests.e2e.harness import CHROMIUM, shared_browser
from tests.factories import (
    PASSWORD,
    make_admin,
    make_hero,
    make_run,
    make_runner,
    make_track,
    pass_second_factor,
)

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = _CSRF.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def checkins(db) -> list[Checkin]:
    """Every stored check-in."""
    return list(db.session.scalars(db.select(Checkin).order_by(Checkin.checked_in_at)))


@pytest.fixture
def run(db):
    """A planned run for Officer Jane Doe at the school track, committed."""
    hero = make_hero(name="Jane Doe", rank="Officer", agency="Example County Sheriff's Office")
    planned = make_run(make_runner(), hero=hero, track=make_track(name="Winter Springs HS"))
    db.session.commit()
    return planned


@pytest.fixture
def admin_client(app, db):
    """A test client signed in as an admin."""
    admin = make_admin()
    db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert pass_second_factor(client, response).status_code == 302
    return client


@pytest.fixture
def live_server(app):
    """The app served on a free loopback port in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """The process's one system Chromium, shared with the other browser tests."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("R4H_REQUIRE_BROWSER"):
            pytest.fail(f"R4H_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
        pytest.skip("no system Chromium at /usr/bin/chromium")
    return shared_browser()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: R4H_SHOTS_DIR (for example shots/checkin), else a temp folder."""
    folder = Path(os.environ.get("R4H_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
