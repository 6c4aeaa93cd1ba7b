"""Every answer carries a request id; an unexpected error is logged with its traceback and that id,
and the id is shown to the person who met the error, so that they can report it."""

import logging
import re

import pytest

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def boom(app):
    """Routes that fail unexpectedly, on the API and on a page."""

    def fail():
        raise RuntimeError("kaboom in the view")

    app.add_url_rule("/api/v1/boom-for-test", "api_boom", fail)
    app.add_url_rule("/boom-for-test", "page_boom", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _logged_for(caplog, request_id: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if request_id in record.getMessage()]


def test_an_unexpected_api_error_is_logged_with_traceback_and_the_id_it_answers(
    boom, client, caplog
):
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom-for-test")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert response.json["error"]["request_id"] == request_id
    assert b"kaboom" not in response.data
    (record,) = _logged_for(caplog, request_id)
    assert record.levelno == logging.ERROR
    assert "GET /api/v1/boom-for-test" in record.getMessage()
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "Traceback" in caplog.text and "kaboom in the view" in caplog.text


def test_the_error_page_shows_the_request_id(boom, client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom-for-test", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    request_id = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert f'<code data-testid="request-id">{request_id}</code>' in page
    assert len(_logged_for(caplog, request_id)) == 1


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def test_a_sane_id_from_the_proxy_is_kept(boom, client, caplog):
    sent = "nginx-7f3a9c1e2b4d4e6f8a0b"
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom-for-test", headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent
    assert response.json["error"]["request_id"] == sent
    assert len(_logged_for(caplog, sent)) == 1


@pytest.mark.parametrize(
    "sent", ["short", "x" * 129, "two words here", "<script>alert(1)</script>", "é" * 20, ""]
)
def test_an_odd_incoming_id_is_replaced(client, sent):
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_a_client_error_is_not_logged_as_unexpected(client, caplog):
    with caplog.at_level(logging.ERROR):
        assert client.get("/api/v1/nope").status_code == 404
    assert caplog.records == []
