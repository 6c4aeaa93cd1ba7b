"""Browser-test fixtures: a live server in a subprocess, its database, and the system Chromium.

Every test here is marked e2e. Each test gets its own server (on its own port, so its own
origin: a fresh service worker and IndexedDB) on a copy of a database seeded once.
"""

import os
from pathlib import Path

import pytest

from .harness import CHROMIUM, LiveServer, prepare_database, shared_browser, stop_shared

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Mark everything under tests/e2e as e2e, so `-m "not e2e"` skips the browser."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """A migrated SQLite database with the demo data, made once and copied per server."""
    return prepare_database(tmp_path_factory.mktemp("e2e-template") / "demo.sqlite")


@pytest.fixture
def server(tmp_path, demo_database):
    """The app under `flask run` in a subprocess; stop(), restart(), fail() and heal() it."""
    live = LiveServer(tmp_path, demo_database).start()
    yield live
    live.stop()


@pytest.fixture
def server_db(server):
    """Opens the server's database with create_app: `with server_db() as db: ...`."""
    return server.db


@pytest.fixture(scope="session")
def playwright_session():
    """Makes sure the system Chromium is there; skips (or fails in CI) when it is not."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("R4H_REQUIRE_BROWSER"):
            pytest.fail(f"R4H_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed (run .ci/ensure-browsers)")


@pytest.fixture(scope="session")
def browser(playwright_session):
    """Debian's headless Chromium, one per test process, whichever conftest asks for it."""
    return shared_browser()


def pytest_sessionfinish(session):
    """Close the shared browser once every test is done."""
    stop_shared()


@pytest.fixture
def context(browser, server):
    """A fresh browser profile at phone size, pointed at the live server."""
    ctx = browser.new_context(
        base_url=server.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        accept_downloads=True,
    )
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A tab in the fresh profile."""
    return context.new_page()
