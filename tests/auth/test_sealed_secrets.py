"""TOTP secrets are sealed at rest: the database and its backups hold no usable second factor.

Everything goes through create_app and real requests; the raw column is read with plain SQL,
as someone holding a dump would read it.
"""

import base64

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import downgrade, upgrade

from r4h_pwa import create_app
from r4h_pwa.extensions import db
from r4h_pwa.models import Runner
from r4h_pwa.sealing import seal
from tests.factories import PASSWORD, TOTP_SECRET, make_admin
from tests.helpers import totp_code

ADMIN = "ada@example.org"
OLD_KEY = "the key this server had last year, long and random enough"


def _raw_secret(app) -> str:
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT totp_secret FROM runners WHERE email = :email"), {"email": ADMIN}
        ).scalar_one()


def _set_raw_secret(app, value: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE runners SET totp_secret = :v WHERE email = :email"),
            {"v": value, "email": ADMIN},
        )
        db.session.commit()


def _sealed_under(app_config, key: str) -> str:
    """The test secret as a server with another SEALING_KEY would have sealed it."""
    with create_app({**app_config, "SEALING_KEY": key}).app_context():
        return seal(TOTP_SECRET)


def _code_answer(app, code: str) -> int:
    """The status of the code page's answer, after the password: 302 signs the admin in."""
    client = app.test_client()
    assert client.post("/login", data={"email": ADMIN, "password": PASSWORD}).status_code == 302
    return client.post("/login/code", data={"code": code}).status_code


@pytest.fixture
def admin(app):
    with app.app_context():
        make_admin(email=ADMIN)
        db.session.commit()


def test_the_stored_secret_is_a_fernet_token_not_the_secret(app, admin):
    raw = _raw_secret(app)
    assert TOTP_SECRET not in raw
    assert base64.urlsafe_b64decode(raw)[0] == 0x80  # Fernet's version byte
    # Without the app's key the token opens to nothing; through the app, it does.
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(raw.encode())
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Runner).where(Runner.email == ADMIN)).totp_secret
            == TOTP_SECRET
        )
    assert _code_answer(app, totp_code()) == 302


def test_after_a_key_rotation_the_fallback_opens_it_and_sign_in_seals_it_anew(
    app_config, app, admin
):
    sealed_old = _sealed_under(app_config, OLD_KEY)
    _set_raw_secret(app, sealed_old)
    rotated = create_app({**app_config, "SEALING_KEY_FALLBACKS": [OLD_KEY]})
    try:
        assert _code_answer(rotated, totp_code()) == 302
    finally:
        with rotated.app_context():
            db.engine.dispose()
    resealed = _raw_secret(app)
    assert resealed != sealed_old
    # Sealed under the current key now: the old key is no longer needed.
    assert _code_answer(app, totp_code(1)) == 302


def test_a_secret_no_key_opens_matches_no_code_but_keeps_the_factor_on(
    app_config, app, client, admin
):
    _set_raw_secret(app, _sealed_under(app_config, OLD_KEY))
    assert _code_answer(app, totp_code()) == 422
    with app.app_context():
        runner = db.session.scalar(sa.select(Runner).where(Runner.email == ADMIN))
        assert runner.has_two_factor  # no one may enrol a new authenticator with the password
    client.post("/login", data={"email": ADMIN, "password": PASSWORD})
    assert client.get("/login/two-factor/setup").status_code == 302


def test_the_migration_seals_plain_secrets_and_its_downgrade_opens_them(empty_app):
    with empty_app.app_context():
        upgrade(revision="e7a2c9d4f1b3")
        db.session.execute(
            sa.text(
                "INSERT INTO runners (name, email, password_hash, role, starting_mile_count,"
                " miles_logged, is_active_account, runs_miles, created_at, session_token,"
                " totp_secret, notify_by_email) VALUES ('Ada', :email, 'x', 'admin', 0, 0, true,"
                " false, CURRENT_TIMESTAMP, 'token', :secret, false)"
            ),
            {"email": ADMIN, "secret": TOTP_SECRET},
        )
        db.session.commit()
        upgrade()
        raw = _raw_secret(empty_app)
        assert raw != TOTP_SECRET
        assert db.session.scalar(sa.select(Runner.totp_secret)) == TOTP_SECRET
        db.session.rollback()
        downgrade(revision="e7a2c9d4f1b3")
        assert _raw_secret(empty_app) == TOTP_SECRET


def test_rotating_secret_key_to_end_sessions_keeps_the_second_factor(app_config, app, admin):
    app.config["SEALING_KEY"] = OLD_KEY
    with app.app_context():  # sealed under SEALING_KEY, as a production server does
        db.session.execute(
            sa.update(Runner).where(Runner.email == ADMIN).values(totp_secret=TOTP_SECRET)
        )
        db.session.commit()
    rotated = create_app({**app_config, "SEALING_KEY": OLD_KEY, "SECRET_KEY": "a new key " * 4})
    try:
        assert _code_answer(rotated, totp_code()) == 302
    finally:
        with rotated.app_context():
            db.engine.dispose()
