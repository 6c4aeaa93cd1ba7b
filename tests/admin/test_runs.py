"""Planned runs: plan, edit while planned, and the run page with laps and splits."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from r4h_pwa.models import Lap, Run
from tests.factories import make_hero, make_run, make_runner, make_track
from tests.helpers import count

BIG = "x" * 10_000


@pytest.fixture
def parts(db):
    """A hero, a runner and a track to plan with."""
    hero = make_hero(name="Jordan Avery")
    runner = make_runner(name="Sam Runner")
    track = make_track(name="School track", laps_per_mile=7)
    db.session.commit()
    return {"hero": hero, "runner": runner, "track": track}


def _form(parts, **changes):
    data = {
        "hero_id": str(parts["hero"].id),
        "runner_id": str(parts["runner"].id),
        "track_id": str(parts["track"].id),
        "scheduled_at": "2030-05-01T23:30",
        "words": "Tonight we run for Officer Avery.",
        "video_url": "https://example.org/video/avery",
    }
    data.update(changes)
    return data


def test_admin_plans_a_run(admin_client, db, parts):
    response = admin_client.post("/admin/runs/new", data=_form(parts))
    assert response.status_code == 303
    run = db.session.scalars(db.select(Run)).one()
    assert response.headers["Location"] == f"/admin/runs/{run.id}"
    assert (run.hero_id, run.runner_id, run.track_id) == (
        parts["hero"].id,
        parts["runner"].id,
        parts["track"].id,
    )
    assert run.status == "planned" and run.mile_number is None
    # The form takes the team's local time: 11:30 pm EDT is 03:30 UTC the next day.
    assert run.scheduled_at == datetime(2030, 5, 2, 3, 30, tzinfo=UTC)
    assert run.words == "Tonight we run for Officer Avery."
    assert run.video_url == "https://example.org/video/avery"


def test_new_run_form_lists_the_choices_and_the_time_zone_hint(admin_client, parts):
    html = admin_client.get("/admin/runs/new").get_data(as_text=True)
    assert "Officer Jordan Avery" in html and f'value="{parts["runner"].id}">Sam Runner<' in html
    assert "School track · 7 laps per mile" in html
    assert 'type="datetime-local"' in html
    assert "in the team&#39;s time zone: America/New_York (EST/EDT)." in html


def test_admin_edits_a_planned_run(admin_client, db, parts):
    run = make_run(parts["runner"], parts["hero"], parts["track"])
    other = make_track(name="Other", laps_per_mile=4)
    db.session.commit()
    form = admin_client.get(f"/admin/runs/{run.id}/edit").get_data(as_text=True)
    local = run.scheduled_at.astimezone(ZoneInfo("America/New_York"))
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in form
    data = _form(parts, track_id=str(other.id), scheduled_at="2031-01-02T08:05", words="New")
    response = admin_client.post(f"/admin/runs/{run.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    assert (run.track_id, run.words) == (other.id, "New")
    assert run.scheduled_at == datetime(2031, 1, 2, 13, 5, tzinfo=UTC)  # 8:05 am EST
    assert count(Run) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hero_id", "", "Choose a hero."),
        ("hero_id", "999", "That hero does not exist."),
        ("hero_id", "abc", "That hero does not exist."),
        ("runner_id", "", "Choose a runner."),
        ("runner_id", "999", "That runner does not exist."),
        ("track_id", "", "Choose a track."),
        ("track_id", "-1", "That track does not exist."),
        ("track_id", BIG, "That track does not exist."),
        ("scheduled_at", "", "This field is required."),
        ("scheduled_at", "tomorrow", "Enter a date and time"),
        ("scheduled_at", "2030-02-30T10:00", "Enter a date and time"),
        ("scheduled_at", BIG, "Enter a date and time"),
        ("words", BIG, "At most 2000 characters."),
        ("video_url", "www.example.org/v", "Must be an http:// or https:// link."),
        ("video_url", "javascript:alert(1)", "Must be an http:// or https:// link."),
        ("video_url", "https://" + BIG, "At most 500 characters."),
    ],
)
def test_bad_run_is_explained_and_not_stored(admin_client, db, parts, field, value, message):
    response = admin_client.post("/admin/runs/new", data=_form(parts, **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Run) == 0
    run = make_run(parts["runner"], parts["hero"], parts["track"], words="Keep")
    db.session.commit()
    response = admin_client.post(f"/admin/runs/{run.id}/edit", data=_form(parts, **{field: value}))
    assert response.status_code == 422
    db.session.expire_all()
    assert run.words == "Keep" and count(Run) == 1


def test_disabled_runner_cannot_be_planned(admin_client, db, parts):
    parts["runner"].is_active_account = False
    db.session.commit()
    response = admin_client.post("/admin/runs/new", data=_form(parts))
    assert response.status_code == 422
    assert "This account is disabled" in response.get_data(as_text=True)
    assert count(Run) == 0


def test_a_run_that_was_run_cannot_be_edited(admin_client, db, parts):
    run = make_run(
        parts["runner"], parts["hero"], parts["track"], status="synced", mile_number=1, words="Keep"
    )
    db.session.commit()
    assert admin_client.get(f"/admin/runs/{run.id}/edit").status_code == 409
    response = admin_client.post(f"/admin/runs/{run.id}/edit", data=_form(parts, words="New"))
    assert response.status_code == 409
    assert "Only a planned run can be changed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert run.words == "Keep"


@pytest.mark.parametrize("path", ["", "/edit"])
def test_unknown_run_is_404(admin_client, path):
    assert admin_client.get(f"/admin/runs/no-such-run{path}").status_code == 404


def test_unknown_run_post_is_404(admin_client, parts):
    response = admin_client.post("/admin/runs/no-such-run/edit", data=_form(parts))
    assert response.status_code == 404
    assert count(Run) == 0


def test_run_page_shows_everything(admin_client, db, parts):
    run = make_run(
        parts["runner"],
        parts["hero"],
        parts["track"],
        status="synced",
        mile_number=1294,
        finished_at=datetime(2024, 3, 1, 23, 50, tzinfo=UTC),
        words="For Officer Avery.",
        video_url="https://example.org/v",
    )
    db.session.add_all(
        [Lap(run=run, seq=1, elapsed_ms=95_000), Lap(run=run, seq=2, elapsed_ms=188_400)]
    )
    db.session.commit()
    html = admin_client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    for text in (
        "Officer Jordan Avery",
        "Sam Runner",
        "School track",
        "Synced",
        "1,294",
        "For Officer Avery.",
        "https://example.org/v",
        "1:35.0",
        "1:33.4",
        "3:08.4",
    ):
        assert text in html, text
    assert f'href="/admin/runs/{run.id}/checkins">Check-ins</a>' in html
    assert f'href="/admin/runs/{run.id}/checkin-sheet">Printable check-in sheet</a>' in html
    assert f"/admin/runs/{run.id}/edit" not in html


def test_runs_list_shows_status_and_mile(admin_client, db, parts):
    make_run(
        parts["runner"],
        parts["hero"],
        parts["track"],
        status="synced",
        mile_number=1294,
        finished_at=datetime(2024, 3, 1, tzinfo=UTC),
    )
    make_run(parts["runner"], parts["hero"], parts["track"])
    db.session.commit()
    html = admin_client.get("/admin/runs").get_data(as_text=True)
    assert "1,294" in html and "Planned" in html and "Synced" in html


def test_planned_run_can_be_deleted(admin_client, db, parts):
    run = make_run(parts["runner"], parts["hero"], parts["track"])
    db.session.commit()
    response = admin_client.post(f"/admin/runs/{run.id}/delete", data={"confirmed": "yes"})
    assert response.status_code == 303
    assert count(Run) == 0


def test_numbered_run_cannot_be_deleted(admin_client, db, parts):
    run = make_run(parts["runner"], parts["hero"], parts["track"], status="synced", mile_number=3)
    db.session.commit()
    response = admin_client.post(f"/admin/runs/{run.id}/delete", follow_redirects=True)
    assert "Only a planned run that has not been run can be deleted." in response.get_data(
        as_text=True
    )
    assert count(Run) == 1
