"""Tracks: laps per mile and the shortest plausible lap; bad input stores nothing."""

import pytest

from r4h_pwa.admin import service
from r4h_pwa.models import Track
from r4h_pwa.validation import ValidationError
from tests.factories import make_track
from tests.helpers import count

GOOD = {"name": "Lincoln Middle School track", "laps_per_mile": "7", "min_lap_seconds": "40"}
BIG = "x" * 10_000


def test_admin_adds_a_track(admin_client, db):
    response = admin_client.post("/admin/tracks/new", data=GOOD)
    assert response.status_code == 303
    track = db.session.scalars(db.select(Track)).one()
    assert (track.name, track.laps_per_mile, track.min_lap_seconds) == (
        "Lincoln Middle School track",
        7,
        40,
    )
    assert "Lincoln Middle School track" in admin_client.get("/admin/tracks").get_data(as_text=True)


def test_admin_edits_a_track(admin_client, db):
    track = make_track(name="Old name", laps_per_mile=7)
    db.session.commit()
    data = {"name": "High school 400 m", "laps_per_mile": "4", "min_lap_seconds": "50"}
    assert admin_client.post(f"/admin/tracks/{track.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert (track.name, track.laps_per_mile, track.min_lap_seconds) == ("High school 400 m", 4, 50)


def test_keeping_its_own_name_is_fine(admin_client, db):
    track = make_track(name=GOOD["name"])
    db.session.commit()
    assert admin_client.post(f"/admin/tracks/{track.id}/edit", data=GOOD).status_code == 303


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", BIG, "At most 120 characters."),
        ("laps_per_mile", "", "This field is required."),
        ("laps_per_mile", "abc", "Enter a whole number, like 7."),
        ("laps_per_mile", "7.5", "Enter a whole number, like 7."),
        ("laps_per_mile", "0", "Must be between 1 and 50."),
        ("laps_per_mile", "51", "Must be between 1 and 50."),
        ("laps_per_mile", BIG, "Enter a whole number, like 7."),
        ("min_lap_seconds", "", "This field is required."),
        ("min_lap_seconds", "fast", "Enter a whole number, like 7."),
        ("min_lap_seconds", "0", "Must be between 1 and 3,600."),
        ("min_lap_seconds", "3601", "Must be between 1 and 3,600."),
    ],
)
def test_bad_track_is_explained_and_not_stored(admin_client, db, field, value, message):
    track = make_track(name="Existing", laps_per_mile=4, min_lap_seconds=50)
    db.session.commit()
    response = admin_client.post("/admin/tracks/new", data={**GOOD, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Track) == 1
    response = admin_client.post(f"/admin/tracks/{track.id}/edit", data={**GOOD, field: value})
    assert response.status_code == 422
    db.session.expire_all()
    assert (track.name, track.laps_per_mile, track.min_lap_seconds) == ("Existing", 4, 50)


def test_track_names_are_unique_ignoring_case(admin_client, db):
    make_track(name="Lincoln middle school TRACK")
    db.session.commit()
    response = admin_client.post("/admin/tracks/new", data=GOOD)
    assert response.status_code == 422
    assert "Another track already has this name." in response.get_data(as_text=True)
    assert count(Track) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_track_is_404(admin_client, method):
    assert getattr(admin_client, method)("/admin/tracks/999/edit", data=GOOD).status_code == 404
    assert count(Track) == 0


def test_track_name_taken_meanwhile_is_explained(admin_client, db, monkeypatch):
    make_track(name=GOOD["name"])
    db.session.commit()
    checked = service.validate_track

    def as_if_added_after_the_check(data, track=None):
        with pytest.raises(ValidationError) as refused:
            checked(data, track)
        assert set(refused.value.fields) == {"name"}
        return {"name": GOOD["name"], "laps_per_mile": 7, "min_lap_seconds": 40}

    monkeypatch.setattr(service, "validate_track", as_if_added_after_the_check)
    response = admin_client.post("/admin/tracks/new", data=GOOD)
    assert response.status_code == 422
    assert "Another track already has this name." in response.get_data(as_text=True)
    assert count(Track) == 1
