"""Arbitrary JSON in any field of a run: never a 500, and a rejected run stores nothing."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Run
from tests.factories import escort, run_payload
from tests.helpers import counts

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

_json = st.recursive(
    st.none()
    | st.booleans()
    # beyond 64 bits the whole body is malformed (400): tests/api/test_json_bodies.py
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    # lone surrogates: valid JSON escapes that UTF-8 cannot hold
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_paths = st.sampled_from(
    [
        ("id",),
        ("hero_id",),
        ("track_id",),
        ("started_at",),
        ("finished_at",),
        ("laps",),
        ("laps", 0),
        ("laps", 3, "seq"),
        ("laps", 6, "elapsed_ms"),
        ("checkins",),
        ("checkins", 0),
        ("checkins", 0, "id"),
        ("checkins", 0, "name"),
        ("checkins", 0, "role"),
        ("checkins", 0, "public"),
        ("words",),
        ("video_url",),
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=st.lists(st.tuples(_paths, _json), min_size=1, max_size=3))
def test_any_json_in_a_run_is_answered_and_never_stored_in_part(client, db, phone, changes):
    run = run_payload(phone, checkins=[escort()])
    for path, value in changes:
        target = run
        for key in path[:-1]:
            target = _child(target, key)
        last = path[-1]
        if isinstance(target, dict) or (
            isinstance(target, list) and isinstance(last, int) and len(target) > last
        ):
            target[last] = value
    before = counts(db)
    body = json.dumps({"device_id": phone.device_id, "runs": [run]})
    response = client.post(
        "/api/v1/sync", data=body, content_type="application/json", headers=phone.headers
    )
    assert response.status_code in (200, 422), response.data
    result = response.json["results"][0]
    if result["status"] == "created":
        assert response.status_code == 200
        stored = _db.session.get(Run, str(uuid.UUID(run["id"])))
        assert [lap.elapsed_ms for lap in stored.laps] == [lap["elapsed_ms"] for lap in run["laps"]]
        assert counts(db)[0] == before[0] + 1
    else:
        assert result["status"] == "rejected"
        assert result["errors"]
        assert response.status_code == 422
        assert counts(db) == before
    _db.session.remove()


def _child(container, key):
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None
