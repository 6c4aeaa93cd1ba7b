"""Tests for SECURITY.md's claims about tokens, cookies, password checks and device expiry.

Each goes through create_app and the real routes, and checks the thing itself: the bytes a
token decodes to, the answers a visitor gets, the hash a check is made against.
"""

import base64
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

import r4h_pwa.auth.service as auth_service
import r4h_pwa.models as models
from r4h_pwa import create_app
from r4h_pwa.models import Device, Runner, utcnow
from tests.factories import (
    PASSWORD,
    bearer,
    make_device_token,
    make_run,
    make_runner,
    make_shipment,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _random_bytes(token: str) -> int:
    """How many bytes a URL-safe base64 token decodes to (it is sent without padding)."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token), token
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def test_every_token_carries_192_random_bits(app, client, db):
    runner = make_runner(email="t@example.org")
    run = make_run(runner)
    shipment = make_shipment(run)
    db.session.commit()
    issued = client.post(
        "/api/v1/auth/token",
        json={"email": "t@example.org", "password": PASSWORD, "device_name": "Phone"},
    ).json
    for token in (issued["token"], run.checkin_token, shipment.family_token, runner.session_token):
        assert _random_bytes(token) == 24, token
    stored = db.session.scalar(sa.select(Device.token_hash))
    assert issued["token"] not in stored and len(bytes.fromhex(stored)) == 32  # SHA-256 only


def _family_answer(app, token: str):
    """What a new visitor (no cookies) gets for /f/<token>."""
    with app.test_client().get(f"/f/{token}") as response:
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"Date", "X-Request-ID"}
        }
        return response.status_code, response.get_data(), headers


def test_unknown_and_revoked_family_tokens_get_the_same_answer(app, client, db):
    runner = make_runner()
    run = make_run(runner, status="synced", mile_number=1)
    shipment = make_shipment(run)
    db.session.commit()
    revoked = shipment.family_token
    assert _family_answer(app, revoked)[0] == 200
    shipment.family_token_revoked_at = utcnow()
    db.session.commit()
    unknown = models.new_token()  # same length and alphabet as a real one
    status, body, headers = _family_answer(app, revoked)
    assert status == 404
    other = _family_answer(app, unknown)
    assert status == other[0] and body == other[1], (body, other[1])
    assert headers == other[2], set(headers.items()) ^ set(other[2].items())
    assert headers["Cache-Control"] == "no-store"


def _signed_in(client, email: str) -> str:
    """Sign in through the login form; the session cookie's value."""
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client.get_cookie("session").value


def _replace_session(client, value: str) -> None:
    client.delete_cookie("session")
    client.set_cookie("session", value)
    assert client.get_cookie("session").value == value


def test_a_tampered_session_cookie_is_refused(app, client):
    # No app context is held around the requests: Flask-Login caches the user on g.
    from r4h_pwa.extensions import db

    with app.app_context():
        alternative_id = make_runner(email="c@example.org").get_id()
        db.session.commit()
    cookie = _signed_in(client, "c@example.org")
    assert client.get("/logout").status_code == 200  # a page for signed-in users only
    # Change one character of the signed data, keeping the signature: not signed by us.
    at = cookie.index(".", 1) // 2
    _replace_session(client, cookie[:at] + ("A" if cookie[at] != "A" else "B") + cookie[at + 1 :])
    assert client.get("/logout").status_code == 302  # sent to the login page
    # A cookie signed with another key, claiming the same account, is refused as well.
    forged = URLSafeTimedSerializer(
        "not-our-key",
        salt="cookie-session",
        serializer=SecureCookieSessionInterface.serializer,
        signer_kwargs={
            "key_derivation": "hmac",
            "digest_method": SecureCookieSessionInterface.digest_method,
        },
    ).dumps({"_user_id": alternative_id, "_fresh": True})
    _replace_session(client, forged)
    assert client.get("/logout").status_code == 302


def test_rotating_secret_key_ends_every_session(app_config, tmp_path):
    from r4h_pwa.extensions import db

    first = create_app(app_config)
    with first.app_context():
        db.create_all()
        make_runner(email="r@example.org")
        db.session.commit()
    client = first.test_client()
    cookie = _signed_in(client, "r@example.org")
    assert client.get("/logout").status_code == 200
    rotated = create_app({**app_config, "SECRET_KEY": "a-new-secret"}).test_client()
    _replace_session(rotated, cookie)
    response = rotated.get("/logout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with first.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "scrypt"])
def test_an_unknown_email_costs_the_same_hash_check_as_a_wrong_password(
    app_config, monkeypatch, method
):
    from r4h_pwa.extensions import db

    app = create_app({**app_config, "PASSWORD_HASH_METHOD": method})
    with app.app_context():
        db.create_all()
        make_runner(email="known@example.org")
        db.session.commit()
    checked: list[str] = []

    def recording(real):
        def check(pwhash, password):
            checked.append(pwhash.split("$")[0])
            return real(pwhash, password)

        return check

    monkeypatch.setattr(models, "check_password_hash", recording(models.check_password_hash))
    monkeypatch.setattr(
        auth_service, "check_password_hash", recording(auth_service.check_password_hash)
    )
    client = app.test_client()
    for email in ("known@example.org", "nobody@example.org"):
        answer = client.post(
            "/api/v1/auth/token", json={"email": email, "password": "wrong", "device_name": "Phone"}
        )
        assert answer.status_code == 401
        assert client.post("/login", data={"email": email, "password": "wrong"}).status_code == 422
    # One hash check per attempt, each against a hash of the app's own method and cost.
    with app.app_context():
        real_method = db.session.scalar(sa.select(Runner.password_hash)).split("$")[0]
        db.engine.dispose()
    assert real_method.startswith(method)
    assert checked == [real_method] * 4


def test_a_device_token_past_its_expiry_is_refused(app, client, db):
    assert app.config["DEVICE_TOKEN_DAYS"] == 180
    runner = make_runner(email="e@example.org")
    db.session.commit()
    issued = client.post(
        "/api/v1/auth/token",
        json={"email": "e@example.org", "password": PASSWORD, "device_name": "Phone"},
    ).json
    device = db.session.get(Device, issued["device_id"])
    lifetime = device.expires_at - utcnow()
    assert timedelta(days=179, hours=23) < lifetime <= timedelta(days=180)
    assert client.get("/api/v1/bootstrap", headers=bearer(issued["token"])).status_code == 200
    device.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    refused = client.get("/api/v1/bootstrap", headers=bearer(issued["token"]))
    assert refused.status_code == 401 and refused.json["error"]["code"]
    other = make_device_token(runner)  # the account's other phones still work
    db.session.commit()
    assert client.get("/api/v1/bootstrap", headers=bearer(other)).status_code == 200
