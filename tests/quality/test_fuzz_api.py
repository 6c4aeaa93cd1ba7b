"""Property-based fuzzing of every /api/v1 operation from the OpenAPI document (Schemathesis).

For every generated request: no 5xx; every error has the JSON error shape; the response
matches the document; and after a rejected request the database holds exactly what it held.

Generated cases carry the real ids of the seeded database most of the time (the token's
device_id, the runner's runs, heroes, tracks and shipment), so that they get past "not your
device" and "no such run" and reach the handler's own validation; each operation asserts the
share of cases that did. Positive (schema-valid) and negative (schema-invalid) cases both run.

The CI profile is derandomized; R4H_FUZZ_RANDOM=1 draws new examples on every run (run it
before each landing).
"""

import hashlib
import json
import os
from datetime import timedelta

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from r4h_pwa import create_app
from r4h_pwa.extensions import db
from r4h_pwa.models import utcnow
from r4h_pwa.openapi import openapi_document
from tests.factories import PASSWORD, make_fuzz_targets
from tests.helpers import make_config, reset_schema

RANDOM = bool(os.environ.get("R4H_FUZZ_RANDOM"))
MAX_EXAMPLES = 60
GENERATED: dict[str, int] = {}
REACHED: dict[str, tuple[int, int]] = {}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# The least share of positive cases that must reach the handler's own validation, by
# operation: past the bearer token, the device check and the lookup of the run or shipment.
MIN_REACHED = {
    "POST /api/v1/auth/token": 0.5,
    "POST /api/v1/sync": 0.5,
    "GET /api/v1/runs/{run_id}": 0.5,
    "GET /api/v1/runs/{run_id}/checkins": 0.5,
    "GET /api/v1/runs/{run_id}/shipments": 0.5,
    "POST /api/v1/runs/{run_id}/shipments": 0.5,
    "GET /api/v1/shipments/{shipment_id}": 0.5,
}


@pytest.fixture(scope="module", autouse=True)
def report_generated_cases():
    """Print how many requests were generated and reached the handler, when the module ends."""
    yield
    if GENERATED:
        total = sum(GENERATED.values())
        print(f"\nfuzz: {total} generated API requests across {len(GENERATED)} operations")
        for name, (reached, count) in sorted(REACHED.items()):
            print(f"fuzz: {name}: {reached}/{count} positive cases reached the handler")


@pytest.fixture
def fuzz_app(database_url, tmp_path):
    """An app with one runner's phone, a planned run, a synced run and its shipment."""
    app = create_app(make_config(database_url, tmp_path))
    with app.app_context():
        reset_schema()
        world = make_fuzz_targets("fuzz@example.org")
        app.config["FUZZ"] = {
            "token": world.token,
            "device_id": world.runner.devices[0].id,
            "run_ids": [world.planned.id, world.synced.id],
            "synced_run_id": world.synced.id,
            "hero_id": world.hero.id,
            "track_id": world.track.id,
            "shipment_id": world.shipment.id,
            "email": world.runner.email,
        }
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


def seeds(real: dict):
    """Which real ids a case gets: each mostly real, sometimes left as generated."""
    mostly = st.sampled_from([True, True, True, False])
    return st.fixed_dictionaries(
        {
            "device": mostly,
            "run": mostly,
            "hero": mostly,
            "track": mostly,
            "shipment": mostly,
            "run_id": st.sampled_from(real["run_ids"]),
        }
    )


def seed_case(case, real: dict, pick: dict) -> None:
    """Put the seeded database's ids into a generated case, where the case has such a field."""
    params = case.path_parameters or {}
    if "run_id" in params and pick["run"]:
        # A shipment is only for a synced run; other run paths take either run.
        shipping = case.path.endswith("/shipments") and case.method == "POST"
        params["run_id"] = real["synced_run_id"] if shipping else pick["run_id"]
    if "shipment_id" in params and pick["shipment"]:
        params["shipment_id"] = real["shipment_id"]
    body = case.body
    if case.path == "/api/v1/auth/token" and isinstance(body, dict) and pick["device"]:
        body.update(email=real["email"], password=PASSWORD)
    if case.path == "/api/v1/sync" and isinstance(body, dict):
        if pick["device"]:
            body["device_id"] = real["device_id"]
        for run in body.get("runs") or []:
            if isinstance(run, dict):
                if pick["hero"]:
                    run["hero_id"] = real["hero_id"]
                if pick["track"]:
                    run["track_id"] = real["track_id"]


def reached_handler(method: str, path: str, response) -> bool:
    """Whether the handler's own validation saw the request (not only the guards before it)."""
    status = response.status_code
    if status == 429 or (status == 401 and path != "/api/v1/auth/token"):
        return False
    if path == "/api/v1/sync":
        # Past the device check: the runs were read (200, or 422 with a result per run, or a
        # 422 about the runs list only).
        if status == 200:
            return True
        body = response.json()
        return "results" in body or (status == 422 and "device_id" not in body["error"]["fields"])
    return status != 404


def _takes_input(method: str, path: str) -> bool:
    item = openapi_document()["paths"][path]
    return bool(
        item.get("parameters")
        or item[method.lower()].get("parameters")
        or item[method.lower()].get("requestBody")
    )


# Negative (schema-invalid) cases for every operation that takes any input to break.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _takes_input(method, path)
]


@pytest.mark.parametrize(
    ("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES]
)
def test_api_never_fails_and_rejects_cleanly(fuzz_app, method, path, mode):
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)[path][method]
    real = fuzz_app.config["FUZZ"]
    headers = {"Authorization": f"Bearer {real['token']}"}
    positive = mode is GenerationMode.POSITIVE
    seen, reached = [], []

    @given(case=operation.as_strategy(generation_mode=mode), pick=seeds(real))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case, pick):
        seed_case(case, real, pick)
        before = database_fingerprint(fuzz_app)
        response = case.call(headers=headers)
        seen.append(response.status_code)
        assert response.status_code < 500, (method, path, case.body, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if response.status_code >= 400:
            body = response.json()
            assert set(body["error"]) == {"code", "message", "fields"}, body
            assert database_fingerprint(fuzz_app) == before, (method, path, response.text)
        reached.append(reached_handler(method, path, response))

    check()
    name = f"{method} {path}"
    GENERATED[name] = GENERATED.get(name, 0) + len(seen)
    assert seen, "no request was generated"
    if positive:
        REACHED[name] = (sum(reached), len(reached))
        share = sum(reached) / len(reached)
        assert share >= MIN_REACHED.get(name, 0), (name, f"{share:.0%} reached", seen)


# --- NUL and lone surrogates in every text field of every JSON endpoint -----------------------


def _valid_bodies(real: dict) -> dict[tuple[str, str], dict]:
    """A body each JSON endpoint takes, to change one text field of at a time."""
    started = utcnow() - timedelta(minutes=10)
    run = {
        "id": "7d8f3c2e-1111-4a6b-9c3d-2e4f5a6b7c8d",
        "hero_id": real["hero_id"],
        "track_id": real["track_id"],
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=9)).isoformat(),
        "laps": [],
        "words": "",
        "video_url": "",
        "checkins": [
            {
                "id": "0e1f2a3b-2222-4c5d-8e6f-7a8b9c0d1e2f",
                "name": "Officer",
                "agency": "",
                "badge": "",
            }
        ],
    }
    return {
        ("POST", "/api/v1/auth/token"): {
            "email": real["email"],
            "password": PASSWORD,
            "device_name": "Phone",
            "otp": "",
        },
        ("POST", "/api/v1/sync"): {"device_id": real["device_id"], "runs": [run]},
        ("POST", "/api/v1/runs/{run_id}/shipments"): {
            "recipient_name": "Family",
            "address_line1": "1 Main St",
            "address_line2": "",
            "city": "Springfield",
            "state": "FL",
            "postal_code": "32708",
            "note": "",
            "carrier": "",
            "tracking_number": "",
        },
    }


def _text_fields(body, path=()):
    """The path of every string value in a JSON body."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield from _text_fields(value, (*path, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from _text_fields(value, (*path, index))
    elif isinstance(body, str):
        yield path


def _with(body, path, value):
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b", "\udfff"], ids=["NUL", "high", "low"])
def test_nul_and_lone_surrogates_in_every_text_field_of_every_json_endpoint(fuzz_app, text):
    real = fuzz_app.config["FUZZ"]
    client = fuzz_app.test_client()
    headers = {"Authorization": f"Bearer {real['token']}", "Content-Type": "application/json"}
    bodies = _valid_bodies(real)
    documented = {(m, p) for m, p in OPERATIONS if m == "POST"}
    assert bodies.keys() == documented  # a new JSON endpoint needs a body here
    checked = 0
    for (method, path), body in bodies.items():
        url = path.replace("{run_id}", real["synced_run_id"])
        for field in _text_fields(body):
            before = database_fingerprint(fuzz_app)
            # json.dumps writes a lone surrogate as its \ud800 escape, as a hostile client would.
            response = client.open(
                url, method=method, headers=headers, data=json.dumps(_with(body, field, text))
            )
            assert response.status_code in (400, 422), (path, field, response.text)
            assert database_fingerprint(fuzz_app) == before, (path, field)
            checked += 1
    assert checked >= 15
    for (method, path), body in bodies.items():  # and unchanged, each body is taken
        url = path.replace("{run_id}", real["synced_run_id"])
        response = client.open(url, method=method, headers=headers, data=json.dumps(body))
        assert response.status_code in (200, 201), (path, response.text)
