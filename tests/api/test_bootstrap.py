"""GET /api/v1/bootstrap gives the phone what it caches; bad tokens are refused."""

from datetime import timedelta

import pytest

from r4h_pwa.models import Device, utcnow
from tests.factories import bearer, make_device_token, make_hero, make_run, make_runner, make_track


@pytest.fixture
def phone(db):
    runner = make_runner(starting_mile_count=1293)
    token = make_device_token(runner)
    db.session.commit()
    return runner, token


def test_bootstrap_lists_heroes_tracks_and_own_planned_runs(client, db, phone):
    runner, token = phone
    hero = make_hero(kind="k9", name="Ranger")
    track = make_track(laps_per_mile=7)
    mine = make_run(runner, hero=hero, track=track)
    theirs = make_run(make_runner())  # someone else's
    db.session.commit()
    body = client.get("/api/v1/bootstrap", headers=bearer(token)).json
    assert sorted(h["name"] for h in body["heroes"]) == sorted(["Ranger", theirs.hero.name])
    k9 = next(h for h in body["heroes"] if h["name"] == "Ranger")
    assert k9["flag_type"] == "Thin blue line"
    assert {t["name"]: (t["laps_per_mile"], t["min_lap_ms"]) for t in body["tracks"]} == {
        track.name: (7, 40_000),
        theirs.track.name: (7, 40_000),
    }
    assert [r["id"] for r in body["planned_runs"]] == [mine.id]
    planned = body["planned_runs"][0]
    assert planned["checkin_url"].startswith("https://r4h.test/c/")
    assert planned["checkin_qr_svg"].startswith("<svg")
    assert body["runner"]["next_mile_number"] == 1294


def test_bootstrap_marks_heroes_whose_mile_is_run(client, db, phone):
    runner, token = phone
    run_for, waiting = make_hero(name="Honored"), make_hero(name="Waiting")
    make_run(runner, hero=run_for, status="synced", mile_number=1294)
    make_run(runner, hero=waiting)  # planned only: no mile yet
    db.session.commit()
    heroes = client.get("/api/v1/bootstrap", headers=bearer(token)).json["heroes"]
    assert {h["name"]: h["honored"] for h in heroes} == {"Honored": True, "Waiting": False}


@pytest.mark.parametrize(
    ("change", "code"),
    [("revoke", "token_revoked"), ("expire", "token_expired"), ("garbage", "token_invalid")],
)
def test_bad_tokens_get_401(client, db, phone, change, code):
    runner, token = phone
    device = runner.devices[0]
    if change == "revoke":
        device.revoked_at = utcnow()
    elif change == "expire":
        device.expires_at = utcnow() - timedelta(seconds=1)
    else:
        token = "x" * 32
    db.session.commit()
    response = client.get("/api/v1/bootstrap", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == code


def test_bootstrap_marks_the_device_used(client, db, phone):
    runner, token = phone
    client.get("/api/v1/bootstrap", headers=bearer(token))
    db.session.expire_all()
    assert db.session.get(Device, runner.devices[0].id).last_used_at is not None


@pytest.mark.parametrize("zone", ["America/Denver", "America/New_York"])
def test_bootstrap_gives_the_teams_time_zone(app_config, request, zone):
    """The phone shows planned times in the team's zone, not the phone's: it needs its name."""
    app_config["TIMEZONE"] = zone
    client = request.getfixturevalue("client")
    runner, token = request.getfixturevalue("phone")
    body = client.get("/api/v1/bootstrap", headers=bearer(token)).json
    assert body["time_zone"] == zone
