"""Production mode (wsgi.py, under gunicorn) refuses a setup that cannot run several servers.

Through create_app, with the settings an operator would set in the environment.
"""

import pytest

from r4h_pwa import UnsafeProductionConfig, create_app

POSTGRES = "postgresql://r4h@127.0.0.1:5432/r4h"
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean R4H_* environment with a real secret, a PostgreSQL URL and Redis limits."""
    import os

    for name in list(os.environ):
        if name.startswith("R4H_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("R4H_SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("R4H_RATELIMIT_STORAGE_URI", REDIS)
    return monkeypatch


def test_production_starts_on_postgresql_and_redis(environment):
    app = create_app({"PRODUCTION": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_production_refuses_sqlite(environment):
    environment.delenv("DATABASE_URL")
    with pytest.raises(UnsafeProductionConfig, match="The database is SQLite") as refused:
        create_app({"PRODUCTION": True})
    assert "R4H_ALLOW_SQLITE_IN_PRODUCTION=true" in str(refused.value)
    assert "memory://" not in str(refused.value)  # only what is wrong is listed


def test_production_refuses_memory_rate_limits(environment):
    environment.delenv("R4H_RATELIMIT_STORAGE_URI")
    with pytest.raises(UnsafeProductionConfig, match=r"memory://") as refused:
        create_app({"PRODUCTION": True})
    assert "R4H_RATELIMIT_STORAGE_URI=redis://" in str(refused.value)
    assert "SQLite" not in str(refused.value)


def test_production_refuses_the_development_secret(environment):
    environment.delenv("R4H_SECRET_KEY")
    with pytest.raises(UnsafeProductionConfig, match="SECRET_KEY is the development value"):
        create_app({"PRODUCTION": True})


def test_production_lists_every_problem_at_once(environment):
    for name in ("R4H_SECRET_KEY", "DATABASE_URL", "R4H_RATELIMIT_STORAGE_URI"):
        environment.delenv(name)
    with pytest.raises(UnsafeProductionConfig) as refused:
        create_app({"PRODUCTION": True})
    assert str(refused.value).count("\n- ") == 3


def test_the_operator_may_mean_sqlite_and_memory_limits(environment, caplog):
    environment.delenv("DATABASE_URL")
    environment.delenv("R4H_RATELIMIT_STORAGE_URI")
    environment.setenv("R4H_ALLOW_SQLITE_IN_PRODUCTION", "true")
    environment.setenv("R4H_ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION", "true")
    app = create_app({"PRODUCTION": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    # Allowed is not silent: each server still says its limits are per process.
    assert any("memory://" in record.getMessage() for record in caplog.records)


def test_production_is_off_outside_gunicorn(environment):
    """The dev server, the CLI and the tests build apps without production mode."""
    for name in ("R4H_SECRET_KEY", "DATABASE_URL", "R4H_RATELIMIT_STORAGE_URI"):
        environment.delenv(name)
    assert create_app().config["PRODUCTION"] is False


def test_wsgi_builds_the_app_in_production_mode(environment):
    import importlib
    import sys

    sys.modules.pop("wsgi", None)
    wsgi = importlib.import_module("wsgi")
    try:
        assert wsgi.app.config["PRODUCTION"] is True
    finally:
        sys.modules.pop("wsgi", None)
    environment.delenv("DATABASE_URL")
    with pytest.raises(UnsafeProductionConfig):
        importlib.import_module("wsgi")
    sys.modules.pop("wsgi", None)
