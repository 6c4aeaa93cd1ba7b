"""A check-in an admin removed stays removed: the phone that made it cannot bring it back."""

from r4h_pwa.checkin import service
from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin
from tests.factories import bearer, make_device_token, make_shipment

GOOD = {
    "name": "Sgt. Maria Lopez",
    "agency": "Winter Springs PD",
    "badge": "417",
    "role": "escort",
    "public": "y",
}


def _remove(admin_client, run, checkin_id):
    response = admin_client.post(
        f"/admin/runs/{run.id}/checkins/{checkin_id}/remove", data={"confirmed": "yes"}
    )  # past the confirmation page
    assert response.status_code == 302


def test_a_removed_checkin_stays_removed_when_the_phone_submits_again(app, admin_client, db, run):
    officer = app.test_client()
    officer.post(f"/c/{run.checkin_token}", data=GOOD)
    [made] = db.session.scalars(db.select(Checkin)).all()
    _remove(admin_client, run, made.id)

    again = officer.post(f"/c/{run.checkin_token}", data={**GOOD, "name": "Maria L."})
    body = again.get_data(as_text=True)
    assert again.status_code == 410
    assert "removed by the team" in body
    assert "checked in" not in body.lower().replace("check-in was removed", "")
    db.session.expire_all()
    [kept] = db.session.scalars(db.select(Checkin)).all()  # the tombstone, nothing new
    assert kept.id == made.id
    assert kept.removed_at is not None
    # The tombstone keeps no personal data.
    assert (kept.name, kept.agency, kept.badge, kept.public) == ("", "", "", False)
    assert service.roster(run) == []
    # Opening the link again says the same, instead of an empty form.
    shown = officer.get(f"/c/{run.checkin_token}")
    assert shown.status_code == 410
    assert "removed by the team" in shown.get_data(as_text=True)


def test_another_phone_can_still_check_in_after_a_removal(app, admin_client, db, run):
    first = app.test_client()
    first.post(f"/c/{run.checkin_token}", data=GOOD)
    _remove(admin_client, run, db.session.scalars(db.select(Checkin)).one().id)
    other = app.test_client().post(f"/c/{run.checkin_token}", data={**GOOD, "name": "Ofc. Ray"})
    assert other.status_code == 200
    assert [c.name for c in service.roster(run)] == ["Ofc. Ray"]


def test_a_removed_checkin_shows_nowhere(app, admin_client, client, db, run):
    token = make_device_token(run.runner)
    run.status, run.mile_number = "synced", 1
    family_token = make_shipment(run).family_token
    db.session.commit()
    app.test_client().post(f"/c/{run.checkin_token}", data=GOOD)
    made = db.session.scalars(db.select(Checkin)).one()
    assert "Maria Lopez" in client.get(f"/f/{family_token}").get_data(as_text=True)
    _remove(admin_client, run, made.id)

    assert "Maria Lopez" not in client.get(f"/f/{family_token}").get_data(as_text=True)
    roster = client.get(f"/api/v1/runs/{run.id}/checkins", headers=bearer(token))
    assert roster.json == {"checkins": []}
    one = client.get(f"/api/v1/runs/{run.id}", headers=bearer(token))
    assert one.json["checkins"] == []
    admin_client.get(f"/admin/runs/{run.id}/checkins")  # shows the flash "Removed ..."
    admin_page = admin_client.get(f"/admin/runs/{run.id}/checkins").get_data(as_text=True)
    assert "Maria Lopez" not in admin_page
    csv_text = admin_client.get(f"/admin/runs/{run.id}/checkins.csv").get_data(as_text=True)
    assert "Maria Lopez" not in csv_text
    edit = admin_client.get(f"/admin/runs/{run.id}/checkins/{made.id}/edit")
    assert edit.status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Checkin, made.id).removed_at is not None
