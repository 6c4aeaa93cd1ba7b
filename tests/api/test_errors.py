"""Every /api/ error has the JSON shape; browsers get pages."""

import pytest


def _assert_error_shape(response, status):
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    error = response.json["error"]
    # A server error also names the request, so that it can be found in the log.
    expected = {"code", "message", "fields"} | ({"request_id"} if status >= 500 else set())
    assert set(error) == expected
    assert error["message"]


def test_unknown_api_path_is_json_404(client):
    _assert_error_shape(client.get("/api/v1/nope"), 404)


def test_wrong_method_on_api_is_json_405(client):
    response = client.delete("/api/v1/bootstrap")
    _assert_error_shape(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unknown_page_is_html_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"Not found" in response.data


def test_json_client_gets_json_404_off_the_api(client):
    response = client.get("/nope", headers={"Accept": "application/json"})
    _assert_error_shape(response, 404)


def test_oversized_body_is_json_413(client):
    response = client.post(
        "/api/v1/auth/token",
        data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        content_type="application/json",
    )
    _assert_error_shape(response, 413)


def test_unexpected_exception_is_json_500_and_rolls_back(app, client):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/api/v1/boom")
    _assert_error_shape(response, 500)
    assert b"kaboom" not in response.data


@pytest.mark.parametrize("path", ["/api/v1/bootstrap"])
def test_missing_token_is_json_401(client, path):
    response = client.get(path)
    _assert_error_shape(response, 401)
    assert response.json["error"]["code"] == "token_missing"
