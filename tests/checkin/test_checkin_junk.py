"""Refused check-ins cannot lock a run: only stored check-ins use up the run-wide budget.

No app context is held between requests here: Flask would share one `g` across them, and
with it Flask-WTF's cached CSRF token, so a second phone would send the first one's token.
"""

import pytest

from r4h_pwa.extensions import db
from r4h_pwa.models import Checkin
from tests.factories import make_run, make_runner
from tests.helpers import csrf_token

GOOD = {
    "name": "Sgt. Maria Lopez",
    "agency": "Example County Sheriff's Office",
    "badge": "4471",
    "role": "escort",
    "public": "y",
}
JUNK = {"name": "", "agency": "", "badge": "", "role": "escort"}


@pytest.fixture
def real_limits(app_config):
    """The production limits and CSRF, as an attacker meets them."""
    app_config.update(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True)


@pytest.fixture
def small_run_limit(app_config):
    """Rate limits on, with a run-wide limit small enough to reach in a test."""
    app_config.update(RATELIMIT_ENABLED=True, CHECKIN_RUN_RATE_LIMIT="3 per hour")


@pytest.fixture
def url(app) -> str:
    """The check-in URL of a planned run."""
    with app.app_context():
        run = make_run(make_runner())
        db.session.commit()
        return f"/c/{run.checkin_token}"


def _stored(app) -> list[Checkin]:
    with app.app_context():
        return list(db.session.scalars(db.select(Checkin).order_by(Checkin.checked_in_at)))


def _phone(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _form_token(client, url: str) -> str:
    return csrf_token(client.get(url).get_data(as_text=True))


def test_junk_from_many_addresses_does_not_lock_the_runs_check_in(real_limits, app, url):
    attacker = app.test_client()
    junk = {**JUNK, "csrf_token": _form_token(attacker, url)}
    statuses = []
    for n in range(200):
        attacker.environ_base["REMOTE_ADDR"] = f"10.1.{n // 250}.{n % 250 + 1}"
        statuses.append(attacker.post(url, data=junk).status_code)
    assert statuses == [422] * 200
    assert _stored(app) == []

    escort = _phone(app, "192.0.2.10")
    response = escort.post(url, data={**GOOD, "csrf_token": _form_token(escort, url)})
    assert response.status_code == 200
    assert [c.name for c in _stored(app)] == ["Sgt. Maria Lopez"]


def test_refused_submissions_are_limited_per_address(real_limits, app, url):
    limit = int(app.config["CHECKIN_REFUSED_RATE_LIMIT"].split()[0])
    statuses = []
    for _ in range(limit + 1):
        attacker = _phone(app, "10.2.0.1")  # a new phone each time: no cookie to key on
        junk = {**JUNK, "csrf_token": _form_token(attacker, url)}
        statuses.append(attacker.post(url, data=junk).status_code)
    assert statuses == [422] * limit + [429]

    escort = _phone(app, "192.0.2.11")
    response = escort.post(url, data={**GOOD, "csrf_token": _form_token(escort, url)})
    assert response.status_code == 200
    assert len(_stored(app)) == 1


def test_a_phone_correcting_its_own_check_in_does_not_use_up_the_run(small_run_limit, app, url):
    phone = _phone(app, "10.3.0.9")
    statuses = [phone.post(url, data={**GOOD, "badge": str(n)}).status_code for n in range(5)]
    assert statuses == [200] * 5
    assert [c.badge for c in _stored(app)] == ["4"]
    others = [
        _phone(app, f"10.3.0.{n}").post(url, data={**GOOD, "name": f"Officer {n}"})
        for n in range(1, 4)
    ]
    # The run now holds 3 stored check-ins: the run-wide limit still holds for new ones.
    assert [r.status_code for r in others] == [200, 200, 429]
    assert len(_stored(app)) == 3
