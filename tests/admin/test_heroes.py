"""Hero pages: add, edit and delete heroes; bad input is explained and stores nothing."""

import re
from datetime import date, timedelta

import pytest

from r4h_pwa.models import Hero
from tests.factories import make_admin, make_hero, make_run, make_runner
from tests.helpers import count, csrf_token, pass_second_factor

GOOD = {
    "name": "Jordan Avery",
    "rank": "Officer",
    "agency": "Example County Police Department",
    "state": "fl",
    "kind": "police",
    "end_of_watch": "2024-02-11",
    "incident_date": "2024-02-10",
    "cause": "Struck by a vehicle",
    "story": "Officer Avery served for twelve years.",
    "source_url": "https://example.org/memorial/avery",
    "fundraiser_url": "https://example.org/fund/avery",
    "fundraiser_verified_by": "Chief Lopez, by phone",
}

TOMORROW_PLUS = (date.today() + timedelta(days=3)).isoformat()
BIG = "x" * 10_000

BAD = [
    ("name", "", "This field is required."),
    ("name", "   ", "This field is required."),
    ("name", BIG, "At most 120 characters."),
    ("rank", BIG, "At most 80 characters."),
    ("agency", "", "This field is required."),
    ("agency", BIG, "At most 160 characters."),
    ("state", "", "This field is required."),
    ("state", "Florida", "Use the two-letter postal code, like FL."),
    ("state", "XX", "Use the two-letter postal code, like FL."),
    ("state", BIG, "At most 40 characters."),
    ("kind", "", "This field is required."),
    ("kind", "dragon", "Choose one of: Police, Fire, EMS"),
    ("end_of_watch", "", "This field is required."),
    ("end_of_watch", "abc", "Must be a date like 2024-02-11."),
    ("end_of_watch", "2024-13-45", "Must be a date like 2024-02-11."),
    ("end_of_watch", TOMORROW_PLUS, "End of watch cannot be in the future."),
    ("end_of_watch", "1066-10-14", "too long ago"),
    ("incident_date", "yesterday", "Must be a date like 2024-02-11."),
    ("incident_date", "2024-02-12", "The incident cannot be after the end of watch."),
    ("cause", BIG, "At most 160 characters."),
    ("story", BIG, "At most 5000 characters."),
    ("source_url", "javascript:alert(1)", "Must be an http:// or https:// link."),
    ("source_url", "ftp://example.org/x", "Must be an http:// or https:// link."),
    ("source_url", "https://" + BIG, "At most 500 characters."),
    ("fundraiser_url", "example.org/fund", "Must be an http:// or https:// link."),
    ("fundraiser_verified_by", "", "Say who checked that the fundraiser is real"),
    ("fundraiser_verified_by", BIG, "At most 120 characters."),
]


def _with(field, value):
    return {**GOOD, field: value}


def test_admin_adds_a_hero(admin_client, db):
    response = admin_client.post("/admin/heroes/new", data=GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/heroes"
    hero = db.session.scalars(db.select(Hero)).one()
    assert (hero.name, hero.rank, hero.state, hero.kind) == (
        "Jordan Avery",
        "Officer",
        "FL",
        "police",
    )
    assert hero.end_of_watch == date(2024, 2, 11)
    assert hero.incident_date == date(2024, 2, 10)
    assert hero.fundraiser_verified_by == "Chief Lopez, by phone"
    listing = admin_client.get("/admin/heroes").get_data(as_text=True)
    assert "Officer Jordan Avery" in listing and "Thin blue line" in listing


def test_optional_fields_may_be_empty(admin_client, db):
    data = {
        **GOOD,
        "incident_date": "",
        "source_url": "",
        "fundraiser_url": "",
        "fundraiser_verified_by": "",
        "rank": "",
        "cause": "",
        "story": "",
        "kind": "k9",
    }
    assert admin_client.post("/admin/heroes/new", data=data).status_code == 303
    hero = db.session.scalars(db.select(Hero)).one()
    assert hero.incident_date is None and hero.fundraiser_url == ""
    assert hero.flag_type == "Thin blue line"


def test_admin_edits_a_hero(admin_client, db):
    hero = make_hero(name="Casey Morgan", kind="police")
    db.session.commit()
    data = _with("kind", "fire") | {"name": "Casey  Morgan", "story": "Changed story."}
    response = admin_client.post(f"/admin/heroes/{hero.id}/edit", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    assert (hero.kind, hero.flag_type, hero.story) == ("fire", "Thin red line", "Changed story.")
    assert hero.name == "Casey Morgan"  # runs of spaces collapse
    assert count(Hero) == 1


def test_edit_form_shows_the_stored_values(admin_client, db):
    hero = make_hero(name="Riley Brooks", kind="ems", incident_date=date(2024, 2, 1))
    db.session.commit()
    html = admin_client.get(f"/admin/heroes/{hero.id}/edit").get_data(as_text=True)
    assert 'value="Riley Brooks"' in html
    assert 'type="date" value="2024-02-11"' in html
    assert re.search(r'<option selected value="ems">', html)
    assert "Thin white line" in html


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_hero_is_explained_and_not_stored(admin_client, db, field, value, message):
    response = admin_client.post("/admin/heroes/new", data=_with(field, value))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'data-testid="error-summary"' in html
    assert f'id="{field}-error"' in html
    assert count(Hero) == 0

    hero = make_hero(name="Taylor Quinn")
    db.session.commit()
    response = admin_client.post(f"/admin/heroes/{hero.id}/edit", data=_with(field, value))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert hero.name == "Taylor Quinn" and hero.agency == "Example County Police Department"


def test_missing_fields_are_required(admin_client, db):
    response = admin_client.post("/admin/heroes/new", data={})
    assert response.status_code == 422
    assert "Fix these 5 problems" in response.get_data(as_text=True)
    assert count(Hero) == 0


def test_same_hero_twice_is_refused(admin_client, db):
    make_hero(
        name="Jordan Avery",
        agency="Example County Police Department",
        end_of_watch=date(2024, 2, 11),
    )
    db.session.commit()
    data = _with("name", "JORDAN AVERY")
    response = admin_client.post("/admin/heroes/new", data=data)
    assert response.status_code == 422
    assert "This hero is already listed" in response.get_data(as_text=True)
    assert count(Hero) == 1


def test_saving_a_hero_unchanged_is_not_a_duplicate(admin_client, db):
    hero = make_hero(
        **{k: v for k, v in GOOD.items() if k in ("name", "agency")}, end_of_watch=date(2024, 2, 11)
    )
    db.session.commit()
    assert admin_client.post(f"/admin/heroes/{hero.id}/edit", data=GOOD).status_code == 303


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_hero_is_404(admin_client, method):
    response = getattr(admin_client, method)("/admin/heroes/999/edit", data=GOOD)
    assert response.status_code == 404
    assert count(Hero) == 0


def test_unknown_hero_cannot_be_deleted(admin_client):
    assert admin_client.post("/admin/heroes/999/delete").status_code == 404


def test_hero_without_runs_is_deleted(admin_client, db):
    hero = make_hero()
    db.session.commit()
    response = admin_client.post(f"/admin/heroes/{hero.id}/delete", data={"confirmed": "yes"})
    assert response.status_code == 303
    assert count(Hero) == 0


def test_hero_with_runs_is_kept(admin_client, db):
    run = make_run(make_runner())
    db.session.commit()
    page = admin_client.get(f"/admin/heroes/{run.hero_id}/edit").get_data(as_text=True)
    assert "cannot be deleted: 1 run honors this hero" in page
    assert f"/admin/heroes/{run.hero_id}/delete" not in page
    response = admin_client.post(f"/admin/heroes/{run.hero_id}/delete", follow_redirects=True)
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert count(Hero) == 1


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_post_without_csrf_token_is_refused(csrf_on, client, db):
    admin = make_admin()
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    data = {"email": admin.email, "password": "correct horse battery", "csrf_token": token}
    assert pass_second_factor(client, client.post("/login", data=data)).status_code == 302
    response = client.post("/admin/heroes/new", data=GOOD)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert count(Hero) == 0


def test_post_with_csrf_token_is_accepted(csrf_on, client, db):
    admin = make_admin()
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    pass_second_factor(
        client,
        client.post(
            "/login",
            data={"email": admin.email, "password": "correct horse battery", "csrf_token": token},
        ),
    )
    form = client.get("/admin/heroes/new").get_data(as_text=True)
    token = csrf_token(form)
    assert client.post("/admin/heroes/new", data={**GOOD, "csrf_token": token}).status_code == 303
    assert count(Hero) == 1


def test_hero_added_by_someone_else_meanwhile_is_explained(admin_client, db, monkeypatch):
    make_hero(name=GOOD["name"], agency=GOOD["agency"], end_of_watch=date(2024, 2, 11))
    db.session.commit()
    # As if another admin saved the same hero between our check and our commit.
    monkeypatch.setattr("r4h_pwa.admin.service.find_same_hero", lambda *a, **k: None)
    response = admin_client.post("/admin/heroes/new", data=GOOD)
    assert response.status_code == 422
    assert "This hero is already listed" in response.get_data(as_text=True)
    assert count(Hero) == 1


def test_heroes_list_finds_by_name_or_agency(admin_client, db):
    make_hero(name="Jordan Avery", agency="Example County PD")
    make_hero(name="Casey Morgan", agency="Example Fire Rescue")
    make_hero(name="Rex 100%_sure", agency="Sheriff")
    db.session.commit()
    by_name = admin_client.get("/admin/heroes?q=avery").get_data(as_text=True)
    assert "Jordan Avery" in by_name and "Casey Morgan" not in by_name
    by_agency = admin_client.get("/admin/heroes?q=fire rescue").get_data(as_text=True)
    assert "Casey Morgan" in by_agency and "Jordan Avery" not in by_agency
    wildcard = admin_client.get("/admin/heroes?q=%25_").get_data(as_text=True)
    assert "Rex 100%_sure" in wildcard and "Jordan Avery" not in wildcard
    none = admin_client.get("/admin/heroes?q=nobody")
    assert none.status_code == 200 and "No hero matches." in none.get_data(as_text=True)


def test_heroes_list_pages(admin_client, db):
    for n in range(55):
        make_hero(name=f"Hero {n:02d}")
    db.session.commit()
    first = admin_client.get("/admin/heroes").get_data(as_text=True)
    assert "Page 1 of 2" in first and "/admin/heroes?page=2" in first
    assert admin_client.get("/admin/heroes?page=3").status_code == 404
