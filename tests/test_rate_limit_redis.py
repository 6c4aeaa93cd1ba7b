"""Rate limits hold across app servers when they share Redis, as README's production setup does.

Two gunicorn servers (one worker each) take turns answering 30 wrong logins. With Redis the
login limit of 10 a minute holds across both: exactly 10 answers before the first 429. With
each worker's own memory, it would be 20. Needs the Redis on 127.0.0.1:6379; each test uses its
own key prefix and deletes its keys.
"""

import http.client
import json
import logging
import os
import uuid

import pytest

from r4h_pwa import create_app
from tests.bench._gunicorn import Gunicorn

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = json.dumps(
    {"email": "nobody@example.org", "password": "wrong password", "device_name": "Phone"}
)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the machine's Redis; its keys are deleted after."""
    import redis  # the app's dependency through flask-limiter[redis]

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("R4H_REQUIRE_REDIS"):
            raise
        pytest.skip("no Redis on 127.0.0.1:6379 (set R4H_REQUIRE_REDIS=1 to make this fail)")
    prefix = f"r4h-test-{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


def _two_servers(app, tmp_path, storage_uri: str, prefix: str) -> list[Gunicorn]:
    env = {
        "R4H_RATELIMIT_STORAGE_URI": storage_uri,
        "R4H_RATELIMIT_KEY_PREFIX": prefix,
        "R4H_LOGIN_RATE_LIMIT": "10 per minute",
    }
    database_url = app.config["DATABASE_URL"]
    servers = []
    try:
        for _ in range(2):
            servers.append(Gunicorn(database_url, tmp_path, workers=1, env=env))
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


def _wrong_logins(servers: list[Gunicorn], count: int) -> list[int]:
    """POST wrong credentials count times, to each server in turn; the statuses in order."""
    statuses = []
    for i in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", servers[i % len(servers)].port, timeout=30)
        conn.request(
            "POST", "/api/v1/auth/token", body=WRONG, headers={"Content-Type": "application/json"}
        )
        statuses.append(conn.getresponse().status)
        conn.close()
    return statuses


def _log_of(server: Gunicorn) -> str:
    """What the server wrote (read after it stopped)."""
    with open(server.log.name) as log:
        return log.read()


@on_sqlite
def test_the_login_limit_holds_across_two_workers_on_redis(app, tmp_path, redis_prefix):
    client, prefix = redis_prefix
    servers = _two_servers(app, tmp_path, REDIS_URL, prefix)
    try:
        statuses = _wrong_logins(servers, 30)
    finally:
        for server in servers:
            server.stop()
    assert statuses == [401] * 10 + [429] * 20
    assert list(client.scan_iter(match=f"*{prefix}*"))  # the counts were kept in Redis
    assert all("memory://" not in _log_of(server) for server in servers)


@on_sqlite
def test_on_memory_each_worker_counts_alone_and_says_so(app, tmp_path, redis_prefix):
    """The failure the Redis setup prevents, and the warning each server logs at start."""
    _client, prefix = redis_prefix
    servers = _two_servers(app, tmp_path, "memory://", prefix)
    try:
        statuses = _wrong_logins(servers, 30)
    finally:
        for server in servers:
            server.stop()
    assert statuses == [401] * 20 + [429] * 10
    for server in servers:
        assert "Rate limits are kept in this process's memory (memory://)" in _log_of(server)


def _memory_warnings(tmp_path, caplog, **config) -> list[str]:
    """The memory:// warnings logged while create_app builds an app with this config."""
    with caplog.at_level(logging.WARNING):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}",
                "SECRET_KEY": "test-secret",
                **config,
            }
        )
    return [record.getMessage() for record in caplog.records if "memory://" in record.getMessage()]


# Production on memory:// starts only when the operator says so (test_production_mode.py).
MEANT_PRODUCTION = {
    "PRODUCTION": True,
    "ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION": True,
    "ALLOW_SQLITE_IN_PRODUCTION": True,
}


def test_production_on_memory_warns_once_at_start(tmp_path, caplog):
    (message,) = _memory_warnings(tmp_path, caplog, **MEANT_PRODUCTION)
    assert "R4H_RATELIMIT_STORAGE_URI=redis://" in message


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"TESTING": True},
        {"DEBUG": True},
        {**MEANT_PRODUCTION, "RATELIMIT_STORAGE_URI": REDIS_URL},
    ],
    ids=["development", "testing", "debug", "redis"],
)
def test_no_warning_in_development_tests_debug_or_on_redis(tmp_path, caplog, config):
    assert _memory_warnings(tmp_path, caplog, **config) == []
