"""Every delete, remove, revoke and reissue first shows a page naming what it will do."""

import re

import pytest

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Device, Hero, Run, Shipment
from tests.factories import (
    PASSWORD,
    make_admin,
    make_device_token,
    make_hero,
    make_run,
    make_runner,
    make_shipment,
    make_synced_run,
)
from tests.helpers import pass_second_factor


def _hero():
    hero = make_hero(name="Jordan Avery", rank="Officer")
    return (
        f"/admin/heroes/{hero.id}/delete",
        "Delete the hero Officer Jordan Avery?",
        lambda: _db.session.get(Hero, hero.id) is None,
    )


def _run():
    run = make_run(make_runner(), hero=make_hero(name="Casey Lane", rank="Deputy"))
    return (
        f"/admin/runs/{run.id}/delete",
        "Delete the planned run for Deputy Casey Lane?",
        lambda: _db.session.get(Run, run.id) is None,
    )


def _device():
    runner = make_runner(name="Sam Runner")
    make_device_token(runner)
    device = runner.devices[0]
    return (
        f"/admin/devices/{device.id}/revoke",
        "Revoke the phone “Test phone” of Sam Runner?",
        lambda: _db.session.get(Device, device.id).revoked_at is not None,
    )


def _checkin():
    run = make_run(make_runner())
    checkin = Checkin(run=run, name="Ofc. Dana Reyes", agency="SCSO")
    _db.session.add(checkin)
    _db.session.flush()
    return (
        f"/admin/runs/{run.id}/checkins/{checkin.id}/remove",
        "Remove the check-in of Ofc. Dana Reyes?",
        lambda: _db.session.get(Checkin, checkin.id).removed_at is not None,
    )  # a tombstone


def _checkin_code(action: str, question: str):
    def build():
        run = make_run(make_runner(), hero=make_hero(name="Casey Lane", rank="Deputy"))
        token = run.checkin_token
        done = {
            "revoke": lambda: _db.session.get(Run, run.id).checkin_revoked_at is not None,
            "reissue": lambda: _db.session.get(Run, run.id).checkin_token != token,
        }[action]
        return f"/admin/runs/{run.id}/checkin-token/{action}", question, done

    return build


def _family_link(action: str, question: str):
    def build():
        shipment = make_shipment(make_synced_run(make_runner()))
        token = shipment.family_token
        done = {
            "revoke": lambda: (
                _db.session.get(Shipment, shipment.id).family_token_revoked_at is not None
            ),
            "reissue": lambda: _db.session.get(Shipment, shipment.id).family_token != token,
        }[action]
        return f"/admin/shipments/{shipment.id}/{action}", question, done

    return build


CASES = {
    "/admin/heroes/<int:hero_id>/delete": _hero,
    "/admin/runs/<run_id>/delete": _run,
    "/admin/devices/<device_id>/revoke": _device,
    "/admin/runs/<run_id>/checkins/<checkin_id>/remove": _checkin,
    "/admin/runs/<run_id>/checkin-token/revoke": _checkin_code(
        "revoke", "Revoke the check-in code of the run for Deputy Casey Lane?"
    ),
    "/admin/runs/<run_id>/checkin-token/reissue": _checkin_code(
        "reissue", "Replace the check-in code of the run for Deputy Casey Lane?"
    ),
    "/admin/shipments/<shipment_id>/revoke": _family_link(
        "revoke", "Turn off the family link of shipment"
    ),
    "/admin/shipments/<shipment_id>/reissue": _family_link(
        "reissue", "Make a new family link for shipment"
    ),
}


def test_every_destructive_admin_route_is_covered(app):
    destructive = re.compile(r"/(delete|remove|revoke|reissue)$")
    rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin") and destructive.search(r.rule)
    }
    assert rules == set(CASES)


@pytest.mark.parametrize("rule", list(CASES))
def test_a_destructive_post_first_asks_and_names_the_object(admin_client, db, rule):
    path, question, done = CASES[rule]()
    db.session.commit()
    page = admin_client.post(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="confirm-page"' in html and question in html
    assert f'action="{path}"' in html and 'name="confirmed" value="yes"' in html
    db.session.expire_all()
    assert not done(), "acted before the confirmation"
    answer = admin_client.post(path, data={"confirmed": "yes"})
    assert answer.status_code in (302, 303)
    db.session.expire_all()
    assert done()


def test_a_wrong_confirmation_value_still_only_asks(admin_client, db):
    path, _question, done = _hero()
    db.session.commit()
    assert admin_client.post(path, data={"confirmed": "no"}).status_code == 200
    db.session.expire_all()
    assert not done()


def test_the_confirmation_page_carries_a_working_csrf_token(app, db):
    app.config["WTF_CSRF_ENABLED"] = True
    admin = make_admin()
    path, _question, done = _hero()
    db.session.commit()
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    pass_second_factor(
        client,
        client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        ),
    )
    edit = client.get(path.replace("/delete", "/edit")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', edit).group(1)
    page = client.post(path, data={"csrf_token": token}).get_data(as_text=True)
    confirm_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(path, data={"confirmed": "yes"}).status_code == 400  # no token: refused
    db.session.expire_all()
    assert not done()
    answer = client.post(path, data={"confirmed": "yes", "csrf_token": confirm_token})
    assert answer.status_code == 303
    db.session.expire_all()
    assert done()


def test_cancel_leads_back_to_the_object(admin_client, db):
    hero = make_hero()
    db.session.commit()
    html = admin_client.post(f"/admin/heroes/{hero.id}/delete").get_data(as_text=True)
    assert f'href="/admin/heroes/{hero.id}/edit" data-testid="confirm-cancel"' in html
