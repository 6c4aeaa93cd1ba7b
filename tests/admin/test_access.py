"""Every admin page renders for an admin, refuses a runner and sends a stranger to sign in."""

import pytest

from r4h_pwa.models import Device, Hero, Run, Runner, Track
from tests.factories import make_device_token, make_run, make_runner
from tests.helpers import count

PAGES = [
    "/admin/",
    "/admin/heroes",
    "/admin/heroes/new",
    "/admin/heroes/{hero}/edit",
    "/admin/runners",
    "/admin/runners/new",
    "/admin/runners/{runner}/edit",
    "/admin/tracks",
    "/admin/tracks/new",
    "/admin/tracks/{track}/edit",
    "/admin/runs",
    "/admin/runs/new",
    "/admin/runs/{run}",
    "/admin/runs/{run}/edit",
    "/admin/devices",
]

POSTS = [
    "/admin/heroes/new",
    "/admin/heroes/{hero}/edit",
    "/admin/heroes/{hero}/delete",
    "/admin/runners/new",
    "/admin/runners/{runner}/edit",
    "/admin/tracks/new",
    "/admin/tracks/{track}/edit",
    "/admin/runs/new",
    "/admin/runs/{run}/edit",
    "/admin/runs/{run}/delete",
    "/admin/devices/{device}/revoke",
]


@pytest.fixture
def ids(db):
    """One of everything, so pages with an id have something to show."""
    runner = make_runner(name="Sam Runner")
    run = make_run(runner)
    make_device_token(runner)
    db.session.commit()
    return {
        "hero": run.hero_id,
        "runner": runner.id,
        "track": run.track_id,
        "run": run.id,
        "device": runner.devices[0].id,
    }


def _counts():
    return [count(model) for model in (Hero, Runner, Track, Run)]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_for_an_admin(admin_client, ids, page):
    response = admin_client.get(page.format(**ids))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>" in html
    assert 'href="/admin/shipments"' in html and 'href="/honor"' in html
    assert "password_hash" not in html and "pbkdf2:" not in html


@pytest.mark.parametrize("page", PAGES)
def test_page_refuses_a_runner(runner_client, ids, page):
    assert runner_client.get(page.format(**ids)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_page_sends_a_stranger_to_sign_in(client, ids, page):
    response = client.get(page.format(**ids))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("action", POSTS)
def test_post_refuses_a_runner_and_changes_nothing(runner_client, ids, action, db):
    before = _counts()
    data = {"name": "Changed", "laps_per_mile": "3", "min_lap_seconds": "5"}
    assert runner_client.post(action.format(**ids), data=data).status_code == 403
    assert _counts() == before
    assert db.session.get(Device, ids["device"]).revoked_at is None
    assert db.session.get(Hero, ids["hero"]).name != "Changed"
    assert db.session.get(Track, ids["track"]).laps_per_mile == 7


@pytest.mark.parametrize("action", POSTS)
def test_post_sends_a_stranger_to_sign_in(client, ids, action):
    before = _counts()
    response = client.post(action.format(**ids), data={"name": "Changed"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _counts() == before
