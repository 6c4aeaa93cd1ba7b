"""The OpenAPI document is valid 3.1 and describes exactly the API routes that exist."""

import re

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _documented(client):
    return client.get("/api/v1/openapi.json").json


def _api_routes(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_document_is_valid_openapi_3_1(client):
    document = _documented(client)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_is_documented_and_nothing_else(app, client):
    documented = {
        path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
        for path, item in _documented(client)["paths"].items()
    }
    assert documented == _api_routes(app)


def test_bearer_routes_declare_bearer_security(app, client):
    document = _documented(client)
    checked = 0
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "requires_device", False):
            checked += 1
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert document["paths"][path][method.lower()].get("security")
    assert checked >= 1
