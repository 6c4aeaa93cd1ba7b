"""WebKit-test fixtures: one Xvfb display, a fresh MiniBrowser per test, and a live server.

Every test here is marked webkit and e2e, so `-m "not e2e"` skips the browsers. Each test
gets its own server (its own port, so its own origin: a fresh service worker and IndexedDB)
on a copy of a database seeded once, whose middle-school track has a 1 s double-tap guard:
WebKit runs on the real clock, and a mile of 40 s laps would take five minutes.
"""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from r4h_pwa.models import Track
from tests.e2e.harness import LiveServer, prepare_database
from tests.e2e.steps import MIDDLE_SCHOOL

from . import browser

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Mark everything under tests/webkit as webkit and e2e."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.webkit)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def webkit_display():
    """An Xvfb display for the session; skips (or fails in CI) when WebKit is missing."""
    absent = browser.missing()
    if absent:
        if os.environ.get("R4H_REQUIRE_BROWSER"):
            pytest.fail(f"R4H_REQUIRE_BROWSER is set but {', '.join(absent)} is missing")
        pytest.skip(f"{', '.join(absent)} is not installed (run .ci/ensure-browsers)")
    process, display = browser.start_xvfb()
    yield display
    process.terminate()
    process.wait()


@pytest.fixture
def driver(webkit_display, tmp_path):
    """MiniBrowser (WebKitGTK) under WebDriver, a new one per test."""
    webkit = browser.launch(webkit_display, tmp_path / "webkitwebdriver.log")
    yield webkit
    webkit.quit()


@pytest.fixture(scope="session")
def webkit_database(tmp_path_factory):
    """The demo database, with a 1 s guard on the middle-school track (7 laps a mile)."""
    path = prepare_database(tmp_path_factory.mktemp("webkit-template") / "demo.sqlite")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        change = sa.update(Track).where(Track.name == MIDDLE_SCHOOL).values(min_lap_seconds=1)
        assert connection.execute(change).rowcount == 1
    engine.dispose()
    return path


@pytest.fixture
def server(tmp_path, webkit_database):
    """The app under `flask run` in a subprocess; stop() it and start() it on the same port."""
    live = LiveServer(tmp_path, webkit_database).start()
    yield live
    live.stop()
