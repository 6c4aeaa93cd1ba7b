"""Two-factor sign-in for admins: TOTP or a one-time recovery code after the password.

No app context is held between requests (Flask would share `g`, and Flask-Login's cached
user with it, across the test's requests).
"""

import re

import pyotp
import pytest
import sqlalchemy as sa

from r4h_pwa.auth.service import issue_device_token
from r4h_pwa.extensions import db
from r4h_pwa.models import Device, RecoveryCode, Runner, hash_token
from tests.factories import PASSWORD, make_admin, make_runner
from tests.helpers import totp_code

ADMIN = "ada@example.org"


@pytest.fixture
def enrolled(app):
    """An admin enrolled with the test authenticator (TOTP_SECRET)."""
    with app.app_context():
        make_admin(email=ADMIN)
        db.session.commit()


@pytest.fixture
def unenrolled(app):
    """An admin with no second factor yet, as `create-user` or `seed-demo` makes one."""
    with app.app_context():
        make_admin(email=ADMIN, totp_secret=None)
        db.session.commit()


def _password(client, email: str = ADMIN):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def _admin(app) -> Runner:
    with app.app_context():
        runner = db.session.scalar(sa.select(Runner).where(Runner.email == ADMIN))
        db.session.expunge(runner)
        return runner


def _signed_in_as_admin(client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200


def _enrol(client) -> tuple[str, list[str]]:
    """Go through the setup page; the secret and the recovery codes it showed."""
    page = client.get("/login/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    secret = secret.replace(" ", "")
    response = client.post("/login/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z0-9-]+)</code>", response.get_data(as_text=True))
    return secret, codes


def test_a_password_alone_opens_no_page(app, client, enrolled):
    response = _password(client)
    assert response.status_code == 302
    assert response.location == "/login/code"
    assert client.get("/admin/").location.startswith("/login")
    assert client.get("/logout").location.startswith("/login")


def test_the_authenticators_code_signs_the_admin_in(app, client, enrolled):
    _password(client)
    response = client.post("/login/code", data={"code": totp_code()})
    assert response.status_code == 302
    assert _signed_in_as_admin(client)


def test_a_wrong_code_is_refused_and_signs_nobody_in(app, client, enrolled):
    _password(client)
    wrong = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    response = client.post("/login/code", data={"code": wrong})
    assert response.status_code == 422
    assert "That code did not work" in response.get_data(as_text=True)
    assert not _signed_in_as_admin(client)


def test_a_code_works_only_once(app, enrolled):
    code = totp_code()
    first, second = app.test_client(), app.test_client()
    _password(first)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    _password(second)
    assert second.post("/login/code", data={"code": code}).status_code == 422
    assert not _signed_in_as_admin(second)


def test_the_code_page_needs_the_password_first(app, client, enrolled):
    response = client.post("/login/code", data={"code": totp_code()})
    assert response.location == "/login"
    assert not _signed_in_as_admin(client)


def test_a_password_change_voids_a_pending_sign_in(app, client, enrolled):
    from r4h_pwa.auth.sessions import end_all_sessions

    _password(client)
    with app.app_context():
        end_all_sessions(db.session.scalar(sa.select(Runner).where(Runner.email == ADMIN)))
        db.session.commit()
    assert client.post("/login/code", data={"code": totp_code()}).location == "/login"
    assert not _signed_in_as_admin(client)


def test_an_admin_without_a_second_factor_must_set_one_up(app, client, unenrolled):
    response = _password(client)
    assert response.location == "/login/two-factor/setup"
    assert client.get("/admin/").location.startswith("/login")
    page = client.get("/login/two-factor/setup")
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    assert "<svg" in body and 'aria-label="QR code' in body
    secret, codes = _enrol(client)
    assert _signed_in_as_admin(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    admin = _admin(app)
    assert admin.totp_secret == secret
    with app.app_context():
        stored = set(
            db.session.scalars(
                sa.select(RecoveryCode.code_hash).where(RecoveryCode.runner_id == admin.id)
            )
        )
    assert stored == {hash_token(code.replace("-", "")) for code in codes}
    assert not any(code.replace("-", "") in h for code in codes for h in stored)


def test_the_setup_refuses_a_wrong_code(app, client, unenrolled):
    _password(client)
    client.get("/login/two-factor/setup")
    response = client.post("/login/two-factor/setup", data={"code": "000000"})
    assert response.status_code == 422
    assert _admin(app).totp_secret is None
    assert not _signed_in_as_admin(client)


def test_a_recovery_code_signs_in_once(app, unenrolled):
    setup = app.test_client()
    _password(setup)
    _secret, codes = _enrol(setup)
    first, second = app.test_client(), app.test_client()
    _password(first)
    assert first.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    assert _signed_in_as_admin(first)
    _password(second)
    assert second.post("/login/code", data={"code": codes[3]}).status_code == 422
    assert not _signed_in_as_admin(second)


def test_a_runner_is_not_asked_for_a_code(app, client):
    with app.app_context():
        make_runner(email="sam@example.org")
        db.session.commit()
    response = _password(client, "sam@example.org")
    assert response.location == "/"


@pytest.fixture
def strict_limits(app_config):
    app_config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")


def test_the_code_page_is_rate_limited(strict_limits, app, enrolled):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.0.1"
    _password(client)
    statuses = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_the_code_page_limit_follows_the_account_across_addresses(strict_limits, app, enrolled):
    statuses = []
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.9.1.{n + 1}"
        _password(client)
        statuses.append(client.post("/login/code", data={"code": "000000"}).status_code)
    assert statuses == [422, 422, 422, 429]


# ---- the operator's reset ---------------------------------------------------------------


def test_reset_2fa_removes_the_factor_and_signs_the_account_out(app, enrolled):
    browser = app.test_client()
    _password(browser)
    browser.post("/login/code", data={"code": totp_code()})
    with app.app_context():
        admin = db.session.scalar(sa.select(Runner).where(Runner.email == ADMIN))
        token, _device = issue_device_token(admin, "Pixel", 30)
        db.session.add(RecoveryCode(runner_id=admin.id, code_hash=hash_token("x")))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["reset-2fa", "--email", "Ada@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Two-factor sign-in is off for ada@example.org" in result.output
    admin = _admin(app)
    assert admin.totp_secret is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        assert db.session.scalar(sa.select(Device.revoked_at)) is not None
    assert not _signed_in_as_admin(browser)
    assert _password(app.test_client()).location == "/login/two-factor/setup"


def test_reset_2fa_names_an_unknown_email(app):
    result = app.test_cli_runner().invoke(args=["reset-2fa", "--email", "nobody@example.org"])
    assert result.exit_code != 0
    assert "No account has the email nobody@example.org" in result.output


# ---- the phone's device token -----------------------------------------------------------


def _token(client, **extra):
    body = {"email": ADMIN, "password": PASSWORD, "device_name": "Pixel", **extra}
    return client.post("/api/v1/auth/token", json=body)


def _devices(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Device))


def test_an_admins_device_token_needs_the_code(app, client, enrolled):
    response = _token(client)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "otp_required"
    assert _token(client, otp="000000").json["error"]["code"] == "otp_invalid"
    assert _devices(app) == 0
    response = _token(client, otp=totp_code())
    assert response.status_code == 200
    assert _devices(app) == 1


def test_an_admin_without_a_second_factor_gets_no_device_token(app, client, unenrolled):
    response = _token(client)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "two_factor_setup_required"
    assert _devices(app) == 0
