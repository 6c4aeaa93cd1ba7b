"""The organisation's time zone: admins type and read times in it; the database keeps UTC.

The team here is in America/Denver (MST in winter, MDT in summer), so nothing passes by
accident of the America/New_York default.
"""

import csv
import io
from datetime import UTC, datetime

import pytest

from r4h_pwa import create_app
from r4h_pwa.models import Checkin, Run
from tests.factories import make_hero, make_run, make_runner, make_track
from tests.helpers import count, make_config

SPRING_GAP = "2027-03-14T02:30"  # Denver's clocks go from 2:00 MST to 3:00 MDT
FALL_TWICE = "2026-11-01T01:30"  # Denver's clocks go from 2:00 MDT back to 1:00 MST


@pytest.fixture
def app_config(app_config):
    """The shared config, with the team in Denver."""
    app_config["TIMEZONE"] = "America/Denver"
    return app_config


@pytest.fixture
def parts(db):
    """A hero, a runner and a track to plan with."""
    parts = {
        "hero": make_hero(name="Jordan Avery"),
        "runner": make_runner(name="Sam Runner"),
        "track": make_track(name="School track"),
    }
    db.session.commit()
    return parts


def _form(parts, scheduled_at: str) -> dict:
    return {
        "hero_id": str(parts["hero"].id),
        "runner_id": str(parts["runner"].id),
        "track_id": str(parts["track"].id),
        "scheduled_at": scheduled_at,
    }


def _planned(db) -> Run:
    db.session.expire_all()
    return db.session.scalars(db.select(Run)).one()


# (path, extra form fields): the run form and planning from the coverage queue.
FORMS = [("/admin/runs/new", {}), ("/admin/coverage/plan", {})]


@pytest.mark.parametrize(("path", "extra"), FORMS, ids=["run-form", "plan-from-queue"])
def test_a_run_typed_in_denver_is_stored_in_utc(admin_client, db, parts, path, extra):
    response = admin_client.post(path, data={**_form(parts, "2026-12-01T18:00"), **extra})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _planned(db).scheduled_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert _planned(db).scheduled_at.isoformat().replace("+00:00", "Z") == "2026-12-02T01:00:00Z"


@pytest.mark.parametrize(("path", "extra"), FORMS, ids=["run-form", "plan-from-queue"])
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2027-03-14T01:59", datetime(2027, 3, 14, 8, 59, tzinfo=UTC)),  # last minute of MST
        ("2027-03-14T03:00", datetime(2027, 3, 14, 9, 0, tzinfo=UTC)),  # first of MDT
        ("2026-11-01T00:59", datetime(2026, 11, 1, 6, 59, tzinfo=UTC)),  # still MDT
        ("2026-11-01T02:00", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),  # MST again
        ("2026-07-04T07:00", datetime(2026, 7, 4, 13, 0, tzinfo=UTC)),  # summer: MDT, -6
    ],
)
def test_times_either_side_of_a_clock_change_are_stored_exactly(
    admin_client, db, parts, path, extra, typed, stored
):
    response = admin_client.post(path, data={**_form(parts, typed), **extra})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _planned(db).scheduled_at == stored


@pytest.mark.parametrize(("path", "extra"), FORMS, ids=["run-form", "plan-from-queue"])
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            SPRING_GAP,
            "2:30 AM on March 14, 2027 does not exist in America/Denver: the clocks "
            "spring forward that night (MST to MDT) and skip it.",
        ),
        (
            FALL_TWICE,
            "1:30 AM on November 1, 2026 happens twice in America/Denver: the clocks "
            "fall back that night (MDT to MST).",
        ),
    ],
    ids=["spring-forward-gap", "fall-back-twice"],
)
def test_a_time_the_clock_skips_or_repeats_gets_a_form_error(
    admin_client, db, parts, path, extra, typed, message
):
    response = admin_client.post(path, data={**_form(parts, typed), **extra})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="error-summary"' in html
    assert message in html
    assert count(Run) == 0


def test_the_forms_name_the_zone_and_its_abbreviations(admin_client, parts):
    for path in (
        "/admin/runs/new",
        f"/admin/coverage/plan?hero={parts['hero'].id}",
        "/admin/coverage",
    ):
        html = admin_client.get(path).get_data(as_text=True)
        assert "America/Denver (MST/MDT)" in html, path
        assert "America/New_York" not in html, path


def test_the_edit_form_shows_the_stored_time_back_in_denver(admin_client, db, parts):
    run = make_run(
        parts["runner"],
        parts["hero"],
        parts["track"],
        scheduled_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
    )
    db.session.commit()
    html = admin_client.get(f"/admin/runs/{run.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-01T18:00"' in html


def test_the_check_in_page_and_the_admin_lists_read_the_same_local_time(
    admin_client, client, db, parts
):
    admin_client.post("/admin/runs/new", data=_form(parts, "2026-12-01T18:00"))
    run = _planned(db)
    checkin = client.get(f"/c/{run.checkin_token}").get_data(as_text=True)
    assert "Tuesday, December 1, 2026 at 6:00 PM MST" in checkin
    for path in ("/admin/runs", f"/admin/runs/{run.id}", "/admin/"):
        html = admin_client.get(path).get_data(as_text=True)
        assert "Tue Dec 1, 2026 · 18:00 MST" in html, path
        assert "UTC" not in html.replace("+00:00", ""), path


def test_a_summer_run_reads_with_the_summer_abbreviation(admin_client, client, db, parts):
    admin_client.post("/admin/runs/new", data=_form(parts, "2026-07-04T07:00"))
    run = _planned(db)
    assert "Saturday, July 4, 2026 at 7:00 AM MDT" in client.get(
        f"/c/{run.checkin_token}"
    ).get_data(as_text=True)
    assert "Sat Jul 4, 2026 · 07:00 MDT" in admin_client.get("/admin/runs").get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "EST5EDT/../../etc", "../UTC"])
def test_a_time_zone_that_is_not_an_iana_name_stops_the_app_starting(sqlite_only, tmp_path, zone):
    with pytest.raises(ValueError, match="TIMEZONE"):
        create_app(make_config(sqlite_only, tmp_path, TIMEZONE=zone))


def test_the_time_zone_comes_from_the_environment(sqlite_only, tmp_path, monkeypatch):
    monkeypatch.setenv("R4H_TIMEZONE", "America/Chicago")
    assert create_app(make_config(sqlite_only, tmp_path)).config["TIMEZONE"] == "America/Chicago"
    monkeypatch.setenv("R4H_TIMEZONE", "Not/AZone")
    with pytest.raises(ValueError, match="Not/AZone"):
        create_app(make_config(sqlite_only, tmp_path))


def test_the_default_time_zone_is_new_york(sqlite_only, tmp_path):
    assert create_app(make_config(sqlite_only, tmp_path)).config["TIMEZONE"] == "America/New_York"


def test_the_roster_csv_gives_check_in_times_in_the_team_zone(admin_client, db, parts):
    run = make_run(
        parts["runner"],
        parts["hero"],
        parts["track"],
        scheduled_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC),
    )
    db.session.add(
        Checkin(
            run=run,
            name="Sgt. Dana Reyes",
            agency="Denver Police",
            checked_in_at=datetime(2026, 12, 2, 1, 5, 9, tzinfo=UTC),
        )
    )
    db.session.commit()
    rows = list(
        csv.reader(
            io.StringIO(
                admin_client.get(f"/admin/runs/{run.id}/checkins.csv").get_data(as_text=True)
            )
        )
    )
    column = rows[0].index("checked_in_at")
    assert rows[1][column] == "2026-12-01T18:05:09-07:00"
    roster = admin_client.get(f"/admin/runs/{run.id}/checkins").get_data(as_text=True)
    assert "Tue Dec 1, 2026 · 18:05 MST" in roster


@pytest.mark.parametrize(
    "stored",
    [
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),  # 1:30 MDT
        datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
    ],
)  # 1:30 MST
def test_a_run_in_the_repeated_hour_keeps_its_time_when_edited_unchanged(
    admin_client, db, parts, stored
):
    run = make_run(parts["runner"], parts["hero"], parts["track"], scheduled_at=stored)
    db.session.commit()
    data = {**_form(parts, FALL_TWICE), "words": "Changed words"}
    response = admin_client.post(f"/admin/runs/{run.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    assert (run.scheduled_at, run.words) == (stored, "Changed words")
    # Typing the repeated hour anew still asks for another time.
    other = make_run(parts["runner"], parts["hero"], parts["track"])
    db.session.commit()
    response = admin_client.post(f"/admin/runs/{other.id}/edit", data=data)
    assert response.status_code == 422
    assert "happens twice in America/Denver" in response.get_data(as_text=True)
