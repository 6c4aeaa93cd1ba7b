"""Fixtures: app, client, cli and db, parametrized over SQLite and PostgreSQL; signed-in
clients; and for browser tests the system Chromium and two kinds of live server.
"""

import os
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from werkzeug.serving import make_server

from r4h_pwa import create_app
from r4h_pwa.extensions import db as _db
from tests.e2e.harness import CHROMIUM, LiveServer, prepare_database, shared_browser, stop_shared
from tests.factories import make_admin, make_runner
from tests.helpers import (
    POSTGRES_URL,
    LocalSmtp,
    make_config,
    reset_schema,
    sign_in,
    sqlalchemy_url,
)

EXPECT_TIMEOUT_MS = 20_000


def _database_params():
    params = [pytest.param("sqlite", id="sqlite")]
    marks = [pytest.mark.postgres]
    if not POSTGRES_URL:
        if os.environ.get("R4H_REQUIRE_POSTGRES"):
            raise RuntimeError("R4H_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        marks.append(pytest.mark.skip(reason="TEST_DATABASE_URL is not set"))
    params.append(pytest.param("postgresql", id="postgresql", marks=marks))
    return params


@pytest.fixture(params=_database_params())
def database_url(request, tmp_path):
    """A database URL for one test: a fresh SQLite file, or the shared test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    return POSTGRES_URL


@pytest.fixture
def sqlite_only(tmp_path):
    """Use instead of database_url for tests that need not run on both databases."""
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def app_config(database_url, tmp_path):
    """Overridable config for the app fixture; tests may update the dict before using app."""
    return make_config(database_url, tmp_path)


@pytest.fixture
def app(app_config, tmp_path):
    """A fresh app with an empty database."""
    app = create_app(app_config)
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        reset_schema()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def empty_app(database_url, tmp_path):
    """An app on an empty, unmigrated database: a new SQLite file or a new PostgreSQL schema."""
    schema = None
    url = database_url
    if database_url.startswith("postgresql"):
        schema = f"empty_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(sqlalchemy_url(POSTGRES_URL))
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{database_url}?options=-csearch_path%3D{schema}"
    app = create_app(make_config(url, tmp_path))
    yield app
    with app.app_context():
        _db.engine.dispose()
    if schema:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def db(app):
    """The database, inside an app context."""
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def cli(app):
    """A runner for the app's click commands (named cli: 'runner' is an account here)."""
    return app.test_cli_runner()


@pytest.fixture
def admin(db):
    """An admin account, committed."""
    account = make_admin(name="Ada Admin")
    db.session.commit()
    return account


@pytest.fixture
def admin_client(app, admin):
    """A client of its own, signed in as the admin (the client fixture stays a stranger)."""
    signed_in = app.test_client()
    sign_in(signed_in, admin.email)
    return signed_in


@pytest.fixture
def runner_client(app, db):
    """A client of its own, signed in as a runner (not an admin)."""
    account = make_runner()
    db.session.commit()
    signed_in = app.test_client()
    sign_in(signed_in, account.email)
    return signed_in


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a loopback port for this test; stop() and start() it."""
    server = LocalSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def mail_config(smtp_server) -> dict:
    """Settings that point the app at smtp_server, with two admins to tell."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "Running 4 Heroes <team@example.org>",
        "ADMIN_EMAILS": "ada.admin@example.org, bo.admin@example.org",
    }


@pytest.fixture
def live_server(app):
    """The app fixture served on a free loopback port in a background thread: its base URL.

    The server shares the test's app and database, so a test can set up rows with db and
    read what the browser stored. Use a SQLite file database (not :memory:) with it.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """A migrated SQLite database with the demo data, made once and copied per server."""
    return prepare_database(tmp_path_factory.mktemp("e2e-template") / "demo.sqlite")


@pytest.fixture
def server(tmp_path, demo_database):
    """The app under `flask run` in a subprocess on the demo data; stop(), restart(),
    fail() and heal() it. Each test gets its own port, so its own origin: a fresh service
    worker and IndexedDB.
    """
    live = LiveServer(tmp_path, demo_database).start()
    yield live
    live.stop()


@pytest.fixture
def server_db(server):
    """Opens the server's database with create_app: `with server_db() as db: ...`."""
    return server.db


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, one per test process; skips (or fails in CI) without it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("R4H_REQUIRE_BROWSER"):
            pytest.fail(f"R4H_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed (run .ci/ensure-browsers)")
    # expect() polls its condition; on a busy machine a page can take longer than the
    # default 5 s to get there, and a ceiling costs nothing when the condition is met.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return shared_browser()


@pytest.fixture
def context(browser, server):
    """A fresh browser profile at phone size, pointed at the subprocess server."""
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


def pytest_collection_modifyitems(config, items):
    """Drop the SQLite copy of tests marked postgres_only: they test PostgreSQL itself."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session):
    """Close the one shared Chromium and Playwright, if any browser test started them."""
    stop_shared()
