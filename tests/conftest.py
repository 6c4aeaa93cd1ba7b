"""Fixtures: app, client, cli and db, parametrized over SQLite and PostgreSQL."""

import os
import sys
import uuid

import pytest
import sqlalchemy as sa

from r4h_pwa import create_app
from r4h_pwa.extensions import db as _db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


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


def make_config(database_url: str, tmp_path, **overrides) -> dict:
    """The test config: its own instance folder, CSRF off unless asked, limits off unless asked."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": _normalise(database_url),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "https://r4h.test",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
    }
    config.update(overrides)
    return config


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


_rebuilt_databases: set[str] = set()


def reset_schema() -> None:
    """Empty every table: drop and create on SQLite, truncate on PostgreSQL (much faster).

    The PostgreSQL test database outlives a run (CI reuses the machine's server), so its
    schema is rebuilt once per run: tables left by an older checkout may lack new columns.
    """
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        if engine.url.render_as_string() not in _rebuilt_databases:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            _rebuilt_databases.add(engine.url.render_as_string())
        _db.create_all()
        names = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        _db.create_all()


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
        engine = sa.create_engine(_normalise(POSTGRES_URL))
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
    harness = sys.modules.get("tests.e2e.harness")
    if harness is not None:
        harness.stop_shared()
