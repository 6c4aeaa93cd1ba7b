"""Devices: admins see every phone and revoke one; its token then stops working."""

from r4h_pwa.models import Device
from tests.factories import bearer, make_device_token, make_runner


def test_devices_are_listed_without_tokens(admin_client, db):
    runner = make_runner(name="Sam Runner")
    token = make_device_token(runner)
    db.session.commit()
    html = admin_client.get("/admin/devices").get_data(as_text=True)
    assert "Sam Runner" in html and "Test phone" in html
    assert token not in html and runner.devices[0].token_hash not in html
    assert 'data-testid="revoke-device"' in html


def test_revoked_device_token_gets_401(admin_client, client, db):
    runner = make_runner()
    token = make_device_token(runner)
    db.session.commit()
    device_id = runner.devices[0].id
    assert client.get("/api/v1/bootstrap", headers=bearer(token)).status_code == 200
    response = admin_client.post(
        f"/admin/devices/{device_id}/revoke", data={"confirmed": "yes"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Signed out Test phone" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Device, device_id).revoked_at is not None
    refused = client.get("/api/v1/bootstrap", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"


def test_revoking_twice_keeps_the_first_time(admin_client, db):
    runner = make_runner()
    make_device_token(runner)
    db.session.commit()
    device_id = runner.devices[0].id
    admin_client.post(f"/admin/devices/{device_id}/revoke", data={"confirmed": "yes"})
    db.session.expire_all()
    first = db.session.get(Device, device_id).revoked_at
    admin_client.post(f"/admin/devices/{device_id}/revoke", data={"confirmed": "yes"})
    db.session.expire_all()
    assert db.session.get(Device, device_id).revoked_at == first


def test_unknown_device_is_404(admin_client):
    assert admin_client.post("/admin/devices/no-such-device/revoke").status_code == 404
