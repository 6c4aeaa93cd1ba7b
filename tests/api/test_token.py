"""POST /api/v1/auth/token issues revocable device tokens, stored hashed."""

import pytest
import sqlalchemy as sa

from r4h_pwa.models import Device, hash_token
from tests.factories import PASSWORD, make_runner


@pytest.fixture
def account(db):
    runner = make_runner(email="runner@example.org")
    db.session.commit()
    return runner


def _count(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Device))


def test_token_is_issued_for_good_credentials(client, db, account):
    response = client.post(
        "/api/v1/auth/token",
        json={"email": "Runner@Example.org ", "password": PASSWORD, "device_name": "Pixel"},
    )
    assert response.status_code == 200
    body = response.json
    device = db.session.get(Device, body["device_id"])
    assert device.runner_id == account.id
    assert device.name == "Pixel"
    assert device.token_hash == hash_token(body["token"])
    assert body["token"] not in device.token_hash
    assert len(body["token"]) == 32  # 24 random bytes, base64url


def test_issued_token_opens_the_bootstrap(client, db, account):
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "runner@example.org", "password": PASSWORD, "device_name": "Pixel"},
    ).json["token"]
    response = client.get("/api/v1/bootstrap", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_wrong_password_gets_401_and_no_device(client, db, account):
    response = client.post(
        "/api/v1/auth/token",
        json={"email": "runner@example.org", "password": "wrong", "device_name": "Pixel"},
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_credentials"
    assert _count(db) == 0


def test_disabled_account_gets_no_token(client, db, account):
    account.is_active_account = False
    db.session.commit()
    response = client.post(
        "/api/v1/auth/token",
        json={"email": "runner@example.org", "password": PASSWORD, "device_name": "Pixel"},
    )
    assert response.status_code == 401
    assert _count(db) == 0


GOOD = {"email": "runner@example.org", "password": PASSWORD, "device_name": "Pixel"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**GOOD, "email": ""}, 422, "email"),
        ({**GOOD, "device_name": ""}, 422, "device_name"),
        ({**GOOD, "device_name": "x" * 121}, 422, "device_name"),
        ({**GOOD, "email": "x" * 10_000}, 422, "email"),
        ({**GOOD, "email": 42}, 422, "email"),
        ({**GOOD, "password": ["a"]}, 422, "password"),
        ({**GOOD, "device_name": {"a": 1}}, 422, "device_name"),
        ({"email": "runner@example.org"}, 422, "password"),
    ],
)
def test_bad_token_requests_are_refused(client, db, account, body, status, field):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == status
    assert field in response.json["error"]["fields"]
    assert _count(db) == 0


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("email=a", "application/x-www-form-urlencoded", 415),
    ],
)
def test_malformed_token_bodies_are_refused(client, db, account, data, content_type, status):
    response = client.post("/api/v1/auth/token", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"]["message"]
    assert _count(db) == 0
