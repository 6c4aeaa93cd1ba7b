"""The audit log: who changed what, old and new values, addresses hidden, append-only, readable."""

import json

import pytest
import sqlalchemy as sa

from r4h_pwa.audit import AuditLogIsAppendOnly
from r4h_pwa.models import AuditEntry, Checkin, Device, Hero, Runner, Track
from tests.factories import (
    ADDRESS,
    PASSWORD,
    TRACKING,
    escort,
    make_admin,
    make_device_token,
    make_hero,
    make_phone,
    make_run,
    make_runner,
    make_shipment,
    make_synced_run,
    make_track,
    run_payload,
)
from tests.helpers import sign_in

YES = {"confirmed": "yes"}


def log(db, object_type: str, object_id=None) -> list[AuditEntry]:
    """The entries for a kind of object (or one object), oldest first."""
    db.session.expire_all()
    query = sa.select(AuditEntry).where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def last(db, object_type: str, object_id=None) -> AuditEntry:
    entries = log(db, object_type, object_id)
    assert entries, f"no {object_type} entry"
    return entries[-1]


def by(entry: AuditEntry, actor: Runner) -> bool:
    return (entry.actor_id, entry.actor_name) == (actor.id, actor.name)


# --- heroes, runners and tracks ------------------------------------------------------------------


def test_an_admin_adding_editing_and_deleting_a_hero_is_logged(admin_client, admin, db):
    data = {
        "name": "Jordan Avery",
        "rank": "Officer",
        "agency": "Example PD",
        "state": "FL",
        "kind": "police",
        "end_of_watch": "2024-02-11",
    }
    assert admin_client.post("/admin/heroes/new", data=data).status_code == 303
    created = last(db, "hero")
    assert created.action == "created" and by(created, admin)
    assert created.new_values["name"] == "Jordan Avery" and created.old_values is None
    hero_id = created.object_id

    edit = {**data, "agency": "Example County PD"}
    assert admin_client.post(f"/admin/heroes/{hero_id}/edit", data=edit).status_code == 303
    updated = last(db, "hero", hero_id)
    assert updated.action == "updated" and by(updated, admin)
    assert updated.old_values == {"agency": "Example PD"}
    assert updated.new_values == {"agency": "Example County PD"}

    assert admin_client.post(f"/admin/heroes/{hero_id}/delete", data=YES).status_code == 303
    deleted = last(db, "hero", hero_id)
    assert deleted.action == "deleted" and by(deleted, admin)
    assert deleted.old_values["name"] == "Jordan Avery" and deleted.new_values is None


def test_a_password_and_role_change_log_no_secret(admin_client, admin, db):
    runner = make_runner(name="Sam Runner")
    make_device_token(runner)
    db.session.commit()
    secret_before = runner.password_hash
    data = {
        "name": "Sam Runner",
        "email": runner.email,
        "role": "admin",
        "is_active_account": "y",
        "starting_mile_count": "0",
        "password": "a new password",
    }
    assert admin_client.post(f"/admin/runners/{runner.id}/edit", data=data).status_code == 303
    entry = last(db, "runner", runner.id)
    assert by(entry, admin)
    assert entry.old_values["role"] == "runner" and entry.new_values["role"] == "admin"
    assert entry.new_values["password_hash"] == "changed"
    assert entry.new_values["session_token"] == "changed"  # every session ended
    text = json.dumps(
        [e.old_values for e in log(db, "runner")] + [e.new_values for e in log(db, "runner")]
    )
    db.session.expire_all()
    for secret in (secret_before, runner.password_hash, runner.session_token, "a new password"):
        assert secret not in text
    device = last(db, "device", runner.devices[0].id)  # the password change signed it out
    assert device.action == "updated" and by(device, admin)
    assert device.old_values == {"revoked_at": None} and device.new_values["revoked_at"]


def test_an_admin_editing_a_track_is_logged(admin_client, admin, db):
    track = make_track(name="Old name", laps_per_mile=7)
    db.session.commit()
    data = {"name": "Old name", "laps_per_mile": "4", "min_lap_seconds": "40"}
    assert admin_client.post(f"/admin/tracks/{track.id}/edit", data=data).status_code == 303
    entry = last(db, "track", track.id)
    assert by(entry, admin)
    assert (entry.old_values, entry.new_values) == ({"laps_per_mile": 7}, {"laps_per_mile": 4})


# --- runs and check-ins --------------------------------------------------------------------------


def test_a_synced_run_and_its_checkins_are_logged_for_the_phones_runner(client, db):
    phone = make_phone(db)
    body = run_payload(phone, checkins=[escort(name="Sgt. Dana Reyes")])
    response = client.post(
        "/api/v1/sync", json={"device_id": phone.device_id, "runs": [body]}, headers=phone.headers
    )
    assert response.get_json()["results"][0]["status"] == "created"
    runner = db.session.get(Runner, phone.runner_id)
    run = last(db, "run", body["id"])
    assert run.action == "created" and by(run, runner)
    assert run.new_values["mile_number"] == 1 and run.new_values["status"] == "synced"
    assert run.new_values["checkin_token"] == "changed"  # a token, never its value
    checkin = last(db, "checkin", body["checkins"][0]["id"])
    assert checkin.action == "created" and by(checkin, runner)
    assert checkin.new_values["name"] == "Sgt. Dana Reyes"


def test_a_planned_run_filled_in_by_sync_logs_old_and_new(client, db):
    phone = make_phone(db)
    runner = db.session.get(Runner, phone.runner_id)
    planned = make_run(
        runner,
        hero=db.session.get(Hero, phone.hero_id),
        track=db.session.get(Track, phone.track_id),
    )
    db.session.commit()
    body = run_payload(phone, id=planned.id)
    client.post(
        "/api/v1/sync", json={"device_id": phone.device_id, "runs": [body]}, headers=phone.headers
    )
    entry = last(db, "run", planned.id)
    assert entry.action == "updated" and by(entry, runner)
    assert entry.old_values["status"] == "planned" and entry.new_values["status"] == "synced"
    assert entry.old_values["mile_number"] is None and entry.new_values["mile_number"] == 1


def test_the_checkin_form_logs_the_officer_and_an_admin_edit_logs_the_admin(
    admin_client, admin, db
):
    run = make_run(make_runner())
    db.session.commit()
    officer = admin_client.application.test_client()
    form = {"name": "Ofc. Lee", "agency": "SCSO", "badge": "12", "role": "escort"}
    assert officer.post(f"/c/{run.checkin_token}", data=form).status_code == 200
    created = last(db, "checkin")
    assert (created.actor_id, created.actor_name) == (None, "officer via check-in form")
    assert created.action == "created" and created.new_values["public"] is False
    assert officer.post(f"/c/{run.checkin_token}", data={**form, "public": "y"}).status_code == 200
    changed = last(db, "checkin", created.object_id)
    assert changed.actor_name == "officer via check-in form"
    assert (changed.old_values, changed.new_values) == ({"public": False}, {"public": True})

    edit = {**form, "name": "Officer Lee", "public": "y"}
    url = f"/admin/runs/{run.id}/checkins/{created.object_id}"
    assert admin_client.post(f"{url}/edit", data=edit).status_code == 302
    entry = last(db, "checkin", created.object_id)
    assert by(entry, admin) and entry.new_values == {"name": "Officer Lee"}
    assert admin_client.post(f"{url}/remove", data=YES).status_code == 302
    removed = last(db, "checkin", created.object_id)
    # A removed check-in stays as a tombstone (issue 12): its removal is logged as the update.
    assert removed.action == "updated" and by(removed, admin)
    assert removed.new_values["removed_at"] and removed.new_values["name"] == ""
    db.session.expire_all()
    assert db.session.get(Checkin, created.object_id).removed_at is not None


# --- shipments, addresses and tracking numbers ---------------------------------------------------


def test_a_shipment_logs_its_tracking_number_but_its_address_only_as_changed(
    admin_client, admin, db
):
    run = make_synced_run(make_runner())
    shipment = make_shipment(run)
    db.session.commit()
    created = last(db, "shipment", shipment.id)
    for key in ("recipient_name", "address_line1", "address_line2", "city", "postal_code"):
        assert created.new_values[key] == "changed"
    assert created.new_values["tracking_number"] == TRACKING

    data = {
        **ADDRESS,
        "address_line1": "12 Secret Lane",
        "city": "Hiddenville",
        "handwritten_note": "y",
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
    }
    response = admin_client.post(f"/admin/shipments/{shipment.id}/edit", data=data)
    assert response.status_code == 303
    entry = last(db, "shipment", shipment.id)
    assert by(entry, admin)
    assert entry.old_values["address_line1"] == "changed" == entry.new_values["address_line1"]
    assert entry.new_values["city"] == "changed"
    assert (entry.old_values["tracking_number"], entry.new_values["tracking_number"]) == (
        TRACKING,
        "1Z999AA10123456784",
    )
    assert (entry.old_values["carrier"], entry.new_values["carrier"]) == ("USPS", "UPS")
    every_value = json.dumps([(e.old_values, e.new_values) for e in log(db, "shipment")])
    for personal in ("12 Secret Lane", "Hiddenville", *ADDRESS.values()):
        if personal not in ("intermediary", "Deliver with the chief's letter.", "CO"):
            assert personal not in every_value
    page = admin_client.get(f"/admin/audit?type=shipment&id={shipment.id}")
    assert "12 Secret Lane" not in page.get_data(as_text=True)


# --- tokens, devices, two-factor -----------------------------------------------------------------


def test_a_device_token_is_logged_for_its_runner_and_a_revoke_for_the_admin(
    admin_client, admin, client, db
):
    runner = make_runner(name="Sam Runner")
    db.session.commit()
    answer = client.post(
        "/api/v1/auth/token",
        json={"email": runner.email, "password": PASSWORD, "device_name": "Sam's phone"},
    )
    device_id = answer.get_json()["device_id"]
    created = last(db, "device", device_id)
    assert created.action == "created" and by(created, runner)
    assert created.new_values["token_hash"] == "changed"
    assert answer.get_json()["token"] not in json.dumps(created.new_values)
    admin_client.post(f"/admin/devices/{device_id}/revoke", data=YES)
    revoked = last(db, "device", device_id)
    assert by(revoked, admin) and revoked.old_values == {"revoked_at": None}


def test_a_two_factor_reset_from_the_cli_is_logged_as_cli(app, cli, db):
    admin = make_admin(name="Ada Admin")
    token = make_device_token(admin)
    db.session.commit()
    result = cli.invoke(args=["reset-2fa", "--email", admin.email])
    assert result.exit_code == 0, result.output
    entry = last(db, "runner", admin.id)
    assert (entry.actor_id, entry.actor_name) == (None, "cli")
    assert entry.old_values["two_factor"] is True and entry.new_values["two_factor"] is False
    assert token not in json.dumps(entry.new_values)
    assert last(db, "device").actor_name == "cli"
    assert db.session.scalars(sa.select(Device)).one().revoked_at is not None


def test_sign_out_is_logged_as_the_sessions_ending(client, db):
    admin = make_admin(name="Ada Admin")
    db.session.commit()
    sign_in(client, admin.email)
    assert client.post("/logout").status_code == 302
    entry = last(db, "runner", admin.id)
    assert by(entry, admin) and entry.new_values == {"session_token": "changed"}


# --- append-only ---------------------------------------------------------------------------------


def _an_entry(db) -> AuditEntry:
    make_hero(name="Logged Hero")
    db.session.commit()
    return last(db, "hero")


def test_the_orm_refuses_to_change_an_entry(db):
    entry = _an_entry(db)
    entry.actor_name = "someone else"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert last(db, "hero").actor_name == "system"


def test_the_orm_refuses_to_delete_an_entry(db):
    entry = _an_entry(db)
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert len(log(db, "hero")) == 1


@pytest.mark.parametrize(
    "statement", [sa.update(AuditEntry).values(actor_name="x"), sa.delete(AuditEntry)]
)
def test_the_orm_refuses_bulk_statements_on_the_log(db, statement):
    _an_entry(db)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()
    assert last(db, "hero").actor_name == "system"


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor_name = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_raw_update_and_delete(db, sql):
    _an_entry(db)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text(sql))
    assert last(db, "hero").actor_name == "system"


# --- reading it ----------------------------------------------------------------------------------


def test_the_audit_page_filters_by_object_newest_first(admin_client, db):
    make_hero(name="First Hero")
    second = make_hero(name="Second Hero")
    db.session.commit()
    second.cause = "Vehicle pursuit"
    db.session.commit()
    html = admin_client.get(f"/admin/audit?type=hero&id={second.id}").get_data(as_text=True)
    assert html.count('data-testid="audit-entry"') == 2
    assert "Vehicle pursuit" in html and "First Hero" not in html
    assert html.index("Vehicle pursuit") < html.index("Second Hero")  # newest first
    every_hero = admin_client.get("/admin/audit?type=hero").get_data(as_text=True)
    assert "First Hero" in every_hero and "Second Hero" in every_hero
    assert admin_client.get("/admin/audit?type=nonsense").status_code == 400


def test_the_audit_page_is_paginated(admin_client, db):
    for n in range(55):
        make_hero(name=f"Hero number {n}")
    db.session.commit()
    html = admin_client.get("/admin/audit?type=hero").get_data(as_text=True)
    assert html.count('data-testid="audit-entry"') == 50 and "Hero number 54" in html
    older = admin_client.get("/admin/audit?type=hero&page=2").get_data(as_text=True)
    assert older.count('data-testid="audit-entry"') == 5 and "Hero number 0" in older


def test_the_audit_page_is_for_admins_only(client, runner_client):
    assert runner_client.get("/admin/audit").status_code == 403
    runner_client.post("/logout")
    anonymous = client.application.test_client().get("/admin/audit")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_object_pages_link_to_their_history(admin_client, db):
    hero = make_hero()
    db.session.commit()
    html = admin_client.get(f"/admin/heroes/{hero.id}/edit").get_data(as_text=True)
    assert f"/admin/audit?type=hero&amp;id={hero.id}" in html


def test_no_route_changes_the_log(app):
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in audit_rules] == [
        ("/admin/audit", ["GET"])
    ]
