"""Every JSON endpoint refuses a bad body with a 400 in the API's error shape and stores nothing.

The policy lives in r4h_pwa/jsonbody.py; these tests walk app.url_map, so an endpoint added
later is covered without being listed here.
"""

import uuid

import pytest
import sqlalchemy as sa

from r4h_pwa.extensions import db as _db
from r4h_pwa.jsonbody import MalformedJSON, strict_loads
from r4h_pwa.models import Device, Run, Shipment
from tests.factories import bearer, build_story

DEEP = b"[" * 1000 + b"]" * 1000  # the 2 KB body that gave a 500 without a login
MALFORMED = {
    "nested arrays": DEEP,
    "nested arrays, unclosed": b"[" * 1000,
    "nested objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "not json": b"not json",
    "cut short": b'{"email": ',
    "empty": b"",
    "NaN": b'{"email": NaN}',
    "Infinity": b'{"email": -Infinity}',
    "not UTF-8": b"\xff\xfe\x00",
    "a list": b"[]",
    "a string": b'"email"',
    "a number": b"42",
    "null": b"null",
    "a repeated key": b'{"email": "a@example.org", "email": "b@example.org"}',
    "a repeated key, nested": b'{"runs": [{"id": 1, "id": 2}]}',
    "an integer over 64 bits": b'{"n": 9223372036854775808}',
    "an integer under 64 bits": b'{"n": -9223372036854775809}',
    "5,000 digits": b'{"n": ' + b"7" * 5000 + b"}",
    "a float past a double": b'{"n": 1e400}',
}


# Endpoints whose body is not JSON: a photo upload is the image itself.
NOT_JSON = {("PUT", "/api/v1/runs/<run_id>/photos/<uuid:photo_id>")}


def _json_endpoints(app) -> list[tuple[str, str]]:
    """(method, rule) for every /api/ rule that takes a JSON body."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods & {"POST", "PUT", "PATCH"}
        if (method, rule.rule) not in NOT_JSON
    )


def _stored() -> tuple[int, int, int]:
    _db.session.expire_all()
    return tuple(
        _db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Device, Run, Shipment)
    )


def test_the_json_endpoints_are_found(app):
    assert _json_endpoints(app) == [
        ("PATCH", "/api/v1/runs/<run_id>/photos/<uuid:photo_id>"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/runs/<run_id>/shipments"),
        ("POST", "/api/v1/sync"),
    ]


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_json_endpoint_answers_a_bad_body_with_400(app, client, db, body):
    story = build_story()
    before = _stored()
    for method, rule in _json_endpoints(app):
        path = rule.replace("<run_id>", story.run_id).replace("<uuid:photo_id>", str(uuid.uuid4()))
        response = client.open(
            path,
            method=method,
            data=body,
            headers={**bearer(story.token), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert response.is_json
        error = response.json["error"]
        assert error["code"] == "malformed_json"
        assert error["message"] and error["fields"] == {}
    assert _stored() == before


def test_deep_nesting_on_the_token_endpoint_needs_no_login_to_get_its_400(client, db):
    response = client.post("/api/v1/auth/token", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "malformed_json",
        "message": "The body is nested too deeply.",
        "fields": {},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": 1, "a": 1}', "An object in the body repeats a key."),
        (b'{"n": 9223372036854775808}', "A number in the body is outside 64 bits."),
        (b'{"n": 1e400}', "A number in the body is outside 64 bits."),
        (b'{"n": NaN}', "NaN is not JSON."),
        (b"[]", "The body must be a JSON object."),
        (b"{", "The body is not valid JSON."),
    ],
)
def test_the_400_says_what_is_wrong(client, db, body, message):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["message"] == message


def test_numbers_at_the_edges_of_64_bits_are_read():
    body = b'{"low": -9223372036854775808, "high": 9223372036854775807, "f": 1.797e308}'
    assert strict_loads(body) == {"low": -(2**63), "high": 2**63 - 1, "f": 1.797e308}


def test_any_get_json_call_parses_strictly_too(app, client):
    """A view that calls request.get_json() itself still gets the strict parser and a 400."""
    from flask import jsonify, request

    @app.post("/api/v1/echo-for-test")
    def echo():
        return jsonify(echo=request.get_json())

    for body in (DEEP, b'{"a": 1, "a": 2}', b'{"n": 1e400}'):
        response = client.post("/api/v1/echo-for-test", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.json["error"]["code"] == "bad_request"


def test_strict_loads_refuses_with_a_value_error():
    with pytest.raises(MalformedJSON):
        strict_loads(DEEP)
    assert issubclass(MalformedJSON, ValueError)
