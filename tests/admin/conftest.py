"""Fixtures for the admin pages: a signed-in admin, a signed-in runner, and a row counter."""

import pytest
import sqlalchemy as sa

from r4h_pwa.extensions import db as _db
from tests.factories import PASSWORD, make_admin, make_runner, pass_second_factor


def sign_in(client, account) -> None:
    """Sign the test client in through the real login form."""
    response = client.post("/login", data={"email": account.email, "password": PASSWORD})
    response = pass_second_factor(client, response)
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def admin(db):
    """An admin account, committed."""
    account = make_admin(name="Ada Admin")
    db.session.commit()
    return account


@pytest.fixture
def admin_client(client, admin):
    """A client signed in as the admin."""
    sign_in(client, admin)
    return client


@pytest.fixture
def runner_client(client, db):
    """A client signed in as a runner (not an admin)."""
    account = make_runner()
    db.session.commit()
    sign_in(client, account)
    return client


def count(model) -> int:
    """How many rows the model's table holds (outside the test's session cache)."""
    _db.session.expire_all()
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))
