"""Property-based fuzzing of every /api/v1 operation from the OpenAPI document (Schemathesis).

For every generated request: no 5xx; every error has the JSON error shape; the response
matches the document; and after a rejected request the database holds exactly what it held.
"""

import hashlib
from datetime import timedelta

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from r4h_pwa import create_app
from r4h_pwa.api.openapi import openapi_document
from r4h_pwa.extensions import db
from r4h_pwa.models import Checkin, Lap, Shipment, utcnow
from tests.factories import make_device_token, make_hero, make_run, make_runner, make_track
from tests.helpers import make_config, reset_schema

MAX_EXAMPLES = 60
GENERATED: dict[str, int] = {}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module", autouse=True)
def report_generated_cases():
    """Print how many requests were generated, per operation, when the module ends."""
    yield
    if GENERATED:
        total = sum(GENERATED.values())
        print(f"\nfuzz: {total} generated API requests across {len(GENERATED)} operations")


@pytest.fixture
def fuzz_app(database_url, tmp_path):
    """An app with one runner's phone, a planned run, a synced run and its shipment."""
    app = create_app(make_config(database_url, tmp_path))
    with app.app_context():
        reset_schema()
        runner = make_runner(email="fuzz@example.org")
        token = make_device_token(runner)
        runner.devices[0].last_used_at = utcnow()  # so the fuzz never triggers the hourly touch
        hero, track = make_hero(), make_track(laps_per_mile=4)
        make_run(runner, hero=hero, track=track)
        synced = make_run(runner, hero=hero, track=track, status="synced", mile_number=1,
                          started_at=utcnow() - timedelta(minutes=9), finished_at=utcnow())
        db.session.add_all([Lap(run=synced, seq=n, elapsed_ms=n * 100_000) for n in range(1, 5)])
        db.session.add(Checkin(run=synced, name="Officer Fuzz", public=True))
        db.session.add(Shipment(run=synced, recipient_name="Family", address_line1="1 Main St",
                                city="Springfield", state="FL", postal_code="32708"))
        db.session.commit()
    app.config["FUZZ_TOKEN"] = token
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def database_fingerprint(app) -> str:
    """A hash of every row of every table, to prove a rejected request changed nothing."""
    digest = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
            for row in rows:
                digest.update(repr(tuple(row)).encode())
        db.session.remove()
    return digest.hexdigest()


OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in openapi_document()["paths"].items()
    for method in item
    if path.startswith("/api/") and method in {"get", "post", "put", "patch", "delete"}
)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_never_fails_and_rejects_cleanly(fuzz_app, method, path):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)[path][method]
    headers = {"Authorization": f"Bearer {fuzz_app.config['FUZZ_TOKEN']}"}
    seen = []

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        before = database_fingerprint(fuzz_app)
        response = case.call(headers=headers)
        seen.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert response.status_code < 500
        if response.status_code >= 400:
            body = response.json()
            assert set(body["error"]) == {"code", "message", "fields"}, body
            assert database_fingerprint(fuzz_app) == before, (method, path, response.text)

    check()
    GENERATED[f"{method} {path}"] = GENERATED.get(f"{method} {path}", 0) + len(seen)
    assert seen, "no request was generated"
