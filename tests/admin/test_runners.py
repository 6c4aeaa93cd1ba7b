"""Runner accounts: add and edit; the starting mile count locks at the first numbered mile."""

import re

import pytest

from r4h_pwa.models import Runner
from tests.factories import PASSWORD, make_run, make_runner
from tests.helpers import count

GOOD = {
    "name": "Sam Runner",
    "email": "Sam.Runner@Example.org",
    "role": "runner",
    "is_active_account": "y",
    "starting_mile_count": "1,293",
    "password": "a long password",
}
BIG = "x" * 10_000


def _runners(db):
    db.session.expire_all()
    return {r.email: r for r in db.session.scalars(db.select(Runner))}


def test_admin_adds_a_runner_with_a_starting_count(admin_client, db):
    response = admin_client.post("/admin/runners/new", data=GOOD)
    assert response.status_code == 303
    runner = _runners(db)["sam.runner@example.org"]
    assert (runner.name, runner.role, runner.is_active_account) == ("Sam Runner", "runner", True)
    assert runner.starting_mile_count == 1293
    assert runner.total_miles + 1 == 1294
    assert runner.check_password("a long password")
    listing = admin_client.get("/admin/runners").get_data(as_text=True)
    assert "1,293" in listing and "1,294" in listing
    assert runner.password_hash not in listing


def test_new_account_can_sign_in(admin_client, app, db):
    admin_client.post("/admin/runners/new", data=GOOD)
    other = app.test_client()
    response = other.post(
        "/login", data={"email": "sam.runner@example.org", "password": "a long password"}
    )
    assert response.status_code == 302


def test_admin_edits_a_runner_and_keeps_the_password(admin_client, db):
    runner = make_runner(email="old@example.org", starting_mile_count=5)
    db.session.commit()
    data = {
        **GOOD,
        "email": "new@example.org",
        "password": "",
        "starting_mile_count": "40",
        "role": "admin",
    }
    data.pop("is_active_account")  # an unticked box is not sent
    assert admin_client.post(f"/admin/runners/{runner.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert (runner.email, runner.starting_mile_count, runner.role) == (
        "new@example.org",
        40,
        "admin",
    )
    assert runner.is_active_account is False
    assert runner.check_password(PASSWORD)


def test_admin_sets_a_new_password(admin_client, db):
    runner = make_runner()
    db.session.commit()
    data = {**GOOD, "email": runner.email, "password": "brand new secret"}
    assert admin_client.post(f"/admin/runners/{runner.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert runner.check_password("brand new secret")


def test_edit_page_never_shows_the_password_hash(admin_client, db):
    runner = make_runner()
    db.session.commit()
    html = admin_client.get(f"/admin/runners/{runner.id}/edit").get_data(as_text=True)
    assert runner.password_hash not in html
    assert 'name="password" type="password" value=""' in html


BAD = [
    ("name", "", "This field is required."),
    ("name", BIG, "At most 120 characters."),
    ("email", "", "This field is required."),
    ("email", "not-an-email", "Enter an email address"),
    ("email", BIG + "@example.org", "At most 254 characters."),
    ("role", "", "This field is required."),
    ("role", "superuser", "Choose admin or runner."),
    ("starting_mile_count", "", "This field is required."),
    ("starting_mile_count", "abc", "Enter a whole number, like 7."),
    ("starting_mile_count", "-5", "Enter a whole number, like 7."),
    ("starting_mile_count", "1.5", "Enter a whole number, like 7."),
    ("starting_mile_count", "100001", "Must be between 0 and 100,000."),
    ("starting_mile_count", BIG, "Enter a whole number, like 7."),
    ("password", "", "Set a password for the new account."),
    ("password", "short", "Use at least 8 characters."),
    ("password", BIG, "At most 200 characters."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_runner_is_explained_and_not_stored(admin_client, db, field, value, message):
    before = count(Runner)
    response = admin_client.post("/admin/runners/new", data={**GOOD, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Runner) == before


@pytest.mark.parametrize(("field", "value", "message"), [b for b in BAD if b[1] != ""][:8])
def test_bad_edit_leaves_the_runner_unchanged(admin_client, db, field, value, message):
    runner = make_runner(email="keep@example.org", name="Keep Me")
    db.session.commit()
    data = {**GOOD, "email": "keep@example.org", "password": "", field: value}
    response = admin_client.post(f"/admin/runners/{runner.id}/edit", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (runner.name, runner.email, runner.starting_mile_count) == (
        "Keep Me",
        "keep@example.org",
        0,
    )


def test_email_must_be_unique_ignoring_case(admin_client, db):
    make_runner(email="sam.runner@example.org")
    db.session.commit()
    response = admin_client.post("/admin/runners/new", data=GOOD)
    assert response.status_code == 422
    assert "Another account already uses this email." in response.get_data(as_text=True)
    assert count(Runner) == 2  # the admin and the first Sam


def test_starting_count_locks_at_the_first_numbered_mile(admin_client, db):
    runner = make_runner(starting_mile_count=1293)
    make_run(runner, mile_number=1294, status="synced")
    runner.miles_logged = 1
    db.session.commit()
    page = admin_client.get(f"/admin/runners/{runner.id}/edit").get_data(as_text=True)
    assert "Locked: this runner already has numbered miles" in page
    assert re.search(r'<input [^>]*disabled [^>]*id="starting_mile_count"', page)
    data = {**GOOD, "email": runner.email, "password": "", "starting_mile_count": "0"}
    response = admin_client.post(f"/admin/runners/{runner.id}/edit", data=data)
    assert response.status_code == 422
    assert "never changes, so the starting count can no longer move" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert runner.starting_mile_count == 1293


def test_locked_runner_can_still_be_edited_without_the_count(admin_client, db):
    runner = make_runner(starting_mile_count=10)
    make_run(runner, mile_number=11, status="synced")
    db.session.commit()
    data = {**GOOD, "email": runner.email, "password": "", "name": "Renamed"}
    data.pop("starting_mile_count")  # a disabled field is not sent
    assert admin_client.post(f"/admin/runners/{runner.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert (runner.name, runner.starting_mile_count) == ("Renamed", 10)


def test_unnumbered_runs_do_not_lock_the_count(admin_client, db):
    runner = make_runner(starting_mile_count=10)
    make_run(runner)  # planned, no mile number yet
    db.session.commit()
    data = {**GOOD, "email": runner.email, "password": "", "starting_mile_count": "12"}
    assert admin_client.post(f"/admin/runners/{runner.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert runner.starting_mile_count == 12


def test_admin_cannot_lock_themselves_out(admin_client, admin, db):
    data = {**GOOD, "email": admin.email, "password": "", "role": "runner"}
    data.pop("is_active_account")
    response = admin_client.post(f"/admin/runners/{admin.id}/edit", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "You cannot take away your own admin role." in html
    assert "You cannot disable your own account." in html
    db.session.expire_all()
    assert admin.role == "admin" and admin.is_active_account


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_runner_is_404(admin_client, method):
    before = count(Runner)
    response = getattr(admin_client, method)("/admin/runners/999/edit", data=GOOD)
    assert response.status_code == 404
    assert count(Runner) == before


def test_fields_carry_no_stray_none_attributes(admin_client):
    html = admin_client.get("/admin/runners/new").get_data(as_text=True)
    assert '="None"' not in html
    bad = admin_client.post("/admin/runners/new", data={**GOOD, "email": "nope"})
    html = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'aria-describedby="email-hint email-error"' in html
