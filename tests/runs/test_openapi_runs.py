"""The runs paths in /api/v1/openapi.json: bearer security, every answer, the real limits."""

import pytest

from r4h_pwa.runs import service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_sync_documents_every_answer_and_bearer_security(client):
    document = client.get("/api/v1/openapi.json").json
    sync = document["paths"]["/api/v1/sync"]["post"]
    assert sync["security"] == [{"bearer": []}]
    assert set(sync["responses"]) == {"200", "400", "401", "413", "422", "503"}
    body = sync["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SyncRequest"}
    refused = document["components"]["schemas"]["SyncRefused"]
    assert {"$ref": "#/components/schemas/Error"} in refused["allOf"]


def test_documented_limits_are_the_enforced_ones(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert schemas["SyncRequest"]["properties"]["runs"]["maxItems"] == service.MAX_RUNS_PER_SYNC
    run = schemas["SyncRun"]["properties"]
    assert run["laps"]["maxItems"] == service.MAX_LAPS == 200
    assert run["checkins"]["maxItems"] == service.MAX_CHECKINS == 100
    assert run["words"]["maxLength"] == service.MAX_WORDS == 5000
    assert schemas["SyncLap"]["properties"]["elapsed_ms"]["maximum"] == 24 * 3600 * 1000 - 1


@pytest.mark.parametrize("path", ["/api/v1/runs", "/api/v1/runs/{run_id}"])
def test_run_reads_are_documented_with_bearer_security(client, path):
    get = client.get("/api/v1/openapi.json").json["paths"][path]["get"]
    assert get["security"] == [{"bearer": []}]
    assert "401" in get["responses"]
