"""Sessions are revocable: sign-out, a new password, a new role or disabling ends them.

These tests hold no app context between requests: Flask would otherwise share one `g`, and
with it Flask-Login's cached user, across every request of the test.
"""

import pytest

from r4h_pwa.admin import service as admin_service
from r4h_pwa.auth.service import issue_device_token
from r4h_pwa.extensions import db
from r4h_pwa.models import Runner
from tests.factories import PASSWORD, make_admin, make_runner
from tests.helpers import pass_second_factor

EMAIL = "sam@example.org"


def _sign_in(client, email: str) -> str:
    """Sign in through the login form; the session cookie's value."""
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get_cookie("session").value


def _signed_in(client) -> bool:
    """Whether the client's cookie opens a page that needs a login."""
    response = client.get("/logout")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.location.startswith("/login")
    return False


def _cookie_client(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def _bearer_status(app, token: str) -> int:
    response = app.test_client().get(
        "/api/v1/bootstrap", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


@pytest.fixture
def token(app):
    """A runner account with a phone signed in; the phone's device token."""
    with app.app_context():
        runner = make_runner(email=EMAIL)
        plain, _device = issue_device_token(runner, "Pixel", 30)
        db.session.commit()
    return plain


def _edit_account(app, **change) -> None:
    """Save the account through the admin service, as the admin page does."""
    with app.app_context():
        runner = db.session.scalar(db.select(Runner).where(Runner.email == EMAIL))
        values = {
            "name": runner.name,
            "email": runner.email,
            "role": runner.role,
            "is_active_account": True,
            "runs_miles": runner.runs_miles,
            "notify_by_email": runner.notify_by_email,
            "starting_mile_count": 0,
            "password": "",
            **change,
        }
        admin_service.save_runner(runner, values)
        db.session.commit()


def test_a_copied_cookie_stops_working_after_sign_out(app, client, token):
    copied = _sign_in(client, EMAIL)
    assert _signed_in(_cookie_client(app, copied))
    assert client.post("/logout").status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(_cookie_client(app, copied))


def test_sign_out_leaves_the_accounts_phones_signed_in(app, client, token):
    _sign_in(client, EMAIL)
    client.post("/logout")
    assert _bearer_status(app, token) == 200


def test_the_session_holds_flask_logins_alternative_id(app, client, token):
    _sign_in(client, EMAIL)
    with client.session_transaction() as session:
        user_id = session["_user_id"]
    with app.app_context():
        runner = db.session.scalar(db.select(Runner).where(Runner.email == EMAIL))
        assert user_id == f"{runner.id}:{runner.session_token}"
    client.post("/logout")
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    assert not _signed_in(forged)


@pytest.mark.parametrize(
    "change",
    [{"password": "a brand new password"}, {"is_active_account": False}, {"role": "admin"}],
    ids=["password", "disabled", "role"],
)
def test_an_account_change_ends_its_sessions_and_device_tokens(app, client, token, change):
    copied = _sign_in(client, EMAIL)
    assert _bearer_status(app, token) == 200
    _edit_account(app, **change)
    assert not _signed_in(client)
    assert not _signed_in(_cookie_client(app, copied))
    assert _bearer_status(app, token) == 401


def test_a_name_change_keeps_the_sessions(app, client, token):
    _sign_in(client, EMAIL)
    _edit_account(app, name="Sam R.")
    assert _signed_in(client)
    assert _bearer_status(app, token) == 200


def test_an_admin_setting_a_new_password_ends_the_old_cookie_and_token(app, client, token):
    copied = _sign_in(client, EMAIL)
    with app.app_context():
        make_admin(email="ada@example.org")
        runner_id = db.session.scalar(db.select(Runner.id).where(Runner.email == EMAIL))
        db.session.commit()
    admin_browser = app.test_client()
    response = admin_browser.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert pass_second_factor(admin_browser, response).status_code == 302
    response = admin_browser.post(
        f"/admin/runners/{runner_id}/edit",
        data={
            "name": "Sam",
            "email": EMAIL,
            "role": "runner",
            "is_active_account": "y",
            "starting_mile_count": "0",
            "password": "brand new secret",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert not _signed_in(_cookie_client(app, copied))
    assert not _signed_in(client)
    response = app.test_client().get(
        "/api/v1/bootstrap", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"
