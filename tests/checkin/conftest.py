"""Fixtures for check-in tests: a planned run, a signed-in admin, and the form's CSRF token."""

import re

import pytest

from r4h_pwa.models import Checkin
from tests.factories import PASSWORD, make_admin, make_hero, make_run, make_runner, make_track

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = _CSRF.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def checkins(db) -> list[Checkin]:
    """Every stored check-in."""
    return list(db.session.scalars(db.select(Checkin).order_by(Checkin.checked_in_at)))


@pytest.fixture
def run(db):
    """A planned run for Officer Jane Doe at the school track, committed."""
    hero = make_hero(name="Jane Doe", rank="Officer", agency="Example County Sheriff's Office")
    planned = make_run(make_runner(), hero=hero, track=make_track(name="Winter Springs HS"))
    db.session.commit()
    return planned


@pytest.fixture
def admin_client(app, db):
    """A test client signed in as an admin."""
    admin = make_admin()
    db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert response.status_code == 302
    return client
