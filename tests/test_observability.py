"""JSON logs with the request id, and /metrics: what it counts and who may read it.

Every request goes through create_app with real headers; the metrics are read back from
/metrics itself with prometheus_client's own parser. Metrics live in the process, so the
tests compare figures before and after, never absolute counts.
"""

import io
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from r4h_pwa import create_app
from r4h_pwa.models import Run
from tests.bench._gunicorn import Gunicorn
from tests.factories import make_phone, run_payload
from tests.helpers import count

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def metric(client, name: str, **labels) -> float:
    """One sample of /metrics as the client reads it (0 when it is not there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    return sample(response.get_data(as_text=True), name, **labels)


def sample(text: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


# --- JSON logs ----------------------------------------------------------------------------------


@pytest.fixture
def boom(app):
    def fail():
        raise RuntimeError("kaboom in the view")

    app.add_url_rule("/api/v1/boom-for-test", "api_boom", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@SQLITE
def test_an_error_is_logged_as_one_json_line_with_the_id_the_answer_carries(boom, client):
    errors = io.StringIO()
    response = client.get(
        "/api/v1/boom-for-test",
        environ_overrides={"wsgi.errors": errors},
        headers={"X-Request-ID": "nginx-7f3a9c21d4"},
    )
    assert response.status_code == 500
    assert response.json["error"]["request_id"] == "nginx-7f3a9c21d4"
    [entry] = _json_lines(errors)
    assert entry["request_id"] == "nginx-7f3a9c21d4"
    assert entry["level"] == "ERROR"
    assert (entry["method"], entry["path"]) == ("GET", "/api/v1/boom-for-test")
    assert "RuntimeError: kaboom in the view" in entry["exception"]
    assert "\n" not in errors.getvalue().strip()  # the traceback is inside the one line


@SQLITE
def test_a_made_up_id_is_logged_too_and_a_forged_one_is_not(boom, client):
    errors = io.StringIO()
    response = client.get(
        "/api/v1/boom-for-test",
        environ_overrides={"wsgi.errors": errors},
        headers={"X-Request-ID": '<script>"id"'},
    )
    [entry] = _json_lines(errors)
    assert entry["request_id"] == response.headers["X-Request-ID"] != '<script>"id"'


# --- /metrics: who may read it ------------------------------------------------------------------


def _get(client, remote: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})


@SQLITE
@pytest.mark.parametrize("remote", ["127.0.0.1", "::1"])
def test_metrics_answer_the_machine_itself(client, remote):
    response = _get(client, remote)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert b"r4h_http_requests_total" in response.data


@SQLITE
@pytest.mark.parametrize("remote", ["203.0.113.9", "10.0.0.5", "not-an-address"])
def test_metrics_are_a_plain_404_for_anyone_else(client, remote):
    response = _get(client, remote)
    assert response.status_code == 404
    assert b"r4h_" not in response.data


@pytest.fixture
def behind_proxy(app_config):
    """The app behind nginx: ProxyFix trusts one proxy hop."""
    app_config["PROXY_FIX"] = True
    return app_config


@SQLITE
def test_behind_the_proxy_the_client_address_is_checked_not_the_proxys(behind_proxy, client):
    # nginx connects from loopback; what counts is the client it saw and appended.
    assert _get(client, "127.0.0.1", forwarded="203.0.113.9").status_code == 404
    assert _get(client, "127.0.0.1", forwarded="127.0.0.1").status_code == 200


@SQLITE
def test_a_forged_forwarded_for_does_not_get_through(behind_proxy, client):
    # The client wrote 127.0.0.1 itself; nginx appended the real address after it.
    assert _get(client, "127.0.0.1", forwarded="127.0.0.1, 203.0.113.9").status_code == 404


@SQLITE
def test_allowed_networks_come_from_the_setting(behind_proxy, app_config):
    app_config["METRICS_ALLOWED_NETWORKS"] = ["10.20.0.0/16"]
    scraper = create_app(app_config).test_client()
    assert _get(scraper, "127.0.0.1", forwarded="10.20.3.4").status_code == 200
    assert _get(scraper, "127.0.0.1", forwarded="10.21.3.4").status_code == 404
    assert _get(scraper, "127.0.0.1", forwarded="127.0.0.1").status_code == 404


@SQLITE
def test_allowed_networks_may_be_one_comma_separated_string(behind_proxy, app_config, monkeypatch):
    # As deploy/env.example writes it: an env file cannot carry JSON's quotes through systemd.
    monkeypatch.setenv("R4H_METRICS_ALLOWED_NETWORKS", "10.20.0.0/16, ::1/128")
    app_config.pop("METRICS_ALLOWED_NETWORKS", None)
    scraper = create_app(app_config).test_client()
    assert _get(scraper, "127.0.0.1", forwarded="10.20.3.4").status_code == 200
    assert _get(scraper, "127.0.0.1", forwarded="::1").status_code == 200
    assert _get(scraper, "127.0.0.1", forwarded="127.0.0.1").status_code == 404


def test_a_network_that_is_not_one_stops_the_start(app_config):
    app_config["METRICS_ALLOWED_NETWORKS"] = "127.0.0.1/32,localhost"
    with pytest.raises(ValueError, match="METRICS_ALLOWED_NETWORKS"):
        create_app(app_config)


# --- /metrics: what it counts --------------------------------------------------------------------


def test_requests_are_counted_by_rule_never_by_raw_path(client, db):
    token = "Zx" * 16
    labels = {"endpoint": "/f/<token>", "method": "GET", "status": "404"}
    before = metric(client, "r4h_http_requests_total", **labels)
    timed = metric(
        client, "r4h_http_request_duration_seconds_count", endpoint="/f/<token>", method="GET"
    )
    assert client.get(f"/f/{token}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    body = client.get("/metrics").get_data(as_text=True)
    assert sample(body, "r4h_http_requests_total", **labels) == before + 1
    assert (
        sample(body, "r4h_http_request_duration_seconds_count", endpoint="/f/<token>", method="GET")
        == timed + 1
    )
    assert token not in body and "/no/such/page" not in body
    assert sample(body, "r4h_http_requests_total", endpoint="<unmatched>", status="404") >= 1


def test_sync_results_are_counted_by_status_with_the_outbox_age(client, db):
    phone = make_phone(db)
    created = metric(client, "r4h_sync_results_total", status="created")
    duplicate = metric(client, "r4h_sync_results_total", status="duplicate")
    rejected = metric(client, "r4h_sync_results_total", status="rejected")
    ages = metric(client, "r4h_sync_outbox_age_seconds_count")
    age_sum = metric(client, "r4h_sync_outbox_age_seconds_sum")
    waited = metric(client, "r4h_sync_outbox_age_seconds_bucket", le="300.0")
    run = run_payload(phone)
    body = {
        "device_id": phone.device_id,
        "runs": [run, run, {"id": "nope"}],
        "outbox_age_seconds": 240,
    }
    assert client.post("/api/v1/sync", json=body, headers=phone.headers).status_code == 200
    assert metric(client, "r4h_sync_results_total", status="created") == created + 1
    assert metric(client, "r4h_sync_results_total", status="duplicate") == duplicate + 1
    assert metric(client, "r4h_sync_results_total", status="rejected") == rejected + 1
    assert metric(client, "r4h_sync_outbox_age_seconds_count") == ages + 1
    assert metric(client, "r4h_sync_outbox_age_seconds_sum") == age_sum + 240
    assert metric(client, "r4h_sync_outbox_age_seconds_bucket", le="300.0") == waited + 1


def test_a_sync_without_outbox_age_is_not_counted_as_one(client, db):
    phone = make_phone(db)
    ages = metric(client, "r4h_sync_outbox_age_seconds_count")
    body = {"device_id": phone.device_id, "runs": [run_payload(phone)]}
    assert client.post("/api/v1/sync", json=body, headers=phone.headers).status_code == 200
    assert metric(client, "r4h_sync_outbox_age_seconds_count") == ages


@pytest.mark.parametrize("age", [-1, 1.5, "60", True, 366 * 24 * 3600 + 1])
def test_a_bad_outbox_age_refuses_the_sync_and_stores_nothing(client, db, age):
    phone = make_phone(db)
    body = {"device_id": phone.device_id, "runs": [run_payload(phone)], "outbox_age_seconds": age}
    response = client.post("/api/v1/sync", json=body, headers=phone.headers)
    assert response.status_code == 422
    assert "outbox_age_seconds" in response.json["error"]["fields"]
    assert count(Run, db) == 0


def test_the_database_pool_is_reported(client, db):
    assert client.get("/healthz").status_code == 200
    body = client.get("/metrics").get_data(as_text=True)
    assert sample(body, "r4h_db_pool_size") >= 1
    assert sample(body, "r4h_db_pool_open") >= 1
    # /metrics reads the gauges while its own request holds no connection
    assert sample(body, "r4h_db_pool_checked_out") >= 0


def test_the_openapi_document_describes_the_outbox_age(client):
    document = client.get("/api/v1/openapi.json").json
    field = document["components"]["schemas"]["SyncRequest"]["properties"]["outbox_age_seconds"]
    assert field["type"] == "integer" and field["minimum"] == 0
    assert "outbox_age_seconds" not in document["components"]["schemas"]["SyncRequest"]["required"]


# --- under gunicorn -----------------------------------------------------------------------------


def test_every_gunicorn_worker_is_counted_in_multiprocess_mode(tmp_path, sqlite_only):
    figures = tmp_path / "prometheus"
    figures.mkdir()
    server = Gunicorn(
        sqlite_only, tmp_path, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(figures)}
    )
    base = f"http://127.0.0.1:{server.port}"

    def scrape() -> str:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            return response.read().decode()

    try:
        labels = {"endpoint": "/healthz", "method": "GET", "status": "200"}
        before = sample(scrape(), "r4h_http_requests_total", **labels)
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Until both workers have answered some (each writes files named by its pid).
            while len(_pids(figures)) < 2 and sent < 2000:
                assert all(pool.map(lambda _: health(base), range(40)))
                sent += 40
        after = [sample(scrape(), "r4h_http_requests_total", **labels) for _ in range(6)]
        pids = _pids(figures)
    finally:
        server.stop()
    assert len(pids) == 2, pids
    # Whichever worker answers the scrape, it reports both workers' requests.
    assert after == [before + sent] * 6


def health(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
        return response.status == 200


def _pids(folder) -> set[str]:
    return {p.stem.rsplit("_", 1)[-1] for p in folder.glob("*.db")}
