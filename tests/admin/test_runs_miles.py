"""A runner is someone who runs: runner pickers list only accounts that run miles.

Admins appear only if their account says they also run; nobody leads the list for being an
admin. The flag is set on the account form, by create-user and by the migration.
"""

import re

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Run, Runner
from tests.factories import make_admin, make_hero, make_run, make_runner, make_track
from tests.helpers import count

MIGRATION = "d2b6e8f1a3c7"
PICKERS = ["/admin/runs/new", "/admin/coverage/plan?hero={hero}", "/admin/coverage"]
ACCOUNT = {
    "name": "Casey Coach",
    "email": "casey@example.org",
    "role": "admin",
    "is_active_account": "y",
    "starting_mile_count": "0",
    "password": "a long password",
}


@pytest.fixture
def team(db, admin):
    """The signed-in admin "Ada Admin" (does not run), an admin who runs, runners, a hero."""
    team = {
        "admin": admin,
        "running_admin": make_admin(name="Zoe Admin", runs_miles=True),
        "ben": make_runner(name="Ben Runner"),
        "amy": make_runner(name="amy runner"),
        "resting": make_runner(name="Rita Resting", runs_miles=False),
        "gone": make_runner(name="Gus Gone", is_active_account=False),
        "hero": make_hero(name="Jordan Avery"),
        "track": make_track(name="School track"),
    }
    db.session.commit()
    return team


def _picked(html: str, select_name: str = "runner_id") -> list[str]:
    """The runner names a page's first runner select offers, in order."""
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option (?:selected )?value="\d+">([^<]+)</option>', select.group(1))


@pytest.mark.parametrize("path", PICKERS)
def test_pickers_list_only_accounts_that_run_by_name(admin_client, team, path):
    html = admin_client.get(path.format(hero=team["hero"].id)).get_data(as_text=True)
    assert _picked(html) == ["amy runner", "Ben Runner", "Zoe Admin"]


def test_new_accounts_run_if_they_are_runners(db):
    runner, admin = make_runner(), make_admin()
    db.session.commit()
    assert (runner.runs_miles, admin.runs_miles) == (True, False)


def test_the_account_form_sets_and_clears_the_flag(admin_client, db):
    form = admin_client.get("/admin/runners/new").get_data(as_text=True)
    assert re.search(r'<input [^>]*checked id="runs_miles" name="runs_miles" type="checkbox"', form)
    assert (
        admin_client.post("/admin/runners/new", data={**ACCOUNT, "runs_miles": "y"}).status_code
        == 303
    )
    casey = db.session.scalar(sa.select(Runner).where(Runner.email == "casey@example.org"))
    assert (casey.role, casey.runs_miles) == ("admin", True)
    listing = admin_client.get("/admin/runners").get_data(as_text=True)
    assert "Admin who runs" in listing

    edit = {**ACCOUNT, "password": ""}  # an unticked box is not sent
    assert admin_client.post(f"/admin/runners/{casey.id}/edit", data=edit).status_code == 303
    db.session.expire_all()
    assert casey.runs_miles is False
    form = admin_client.get(f"/admin/runners/{casey.id}/edit").get_data(as_text=True)
    assert re.search(r'<input [^>]*id="runs_miles"', form)
    assert not re.search(r'<input [^>]*checked id="runs_miles"', form)


@pytest.mark.parametrize("path", ["/admin/runs/new", "/admin/coverage/plan"])
def test_a_run_for_an_account_that_does_not_run_is_refused(admin_client, db, team, path):
    for who in ("admin", "resting"):
        data = {
            "hero_id": team["hero"].id,
            "runner_id": team[who].id,
            "track_id": team["track"].id,
            "scheduled_at": "2030-05-01T19:00",
        }
        response = admin_client.post(path, data=data)
        assert response.status_code == 422
        assert f"{team[who].name} does not run miles." in response.get_data(as_text=True)
    assert count(Run) == 0


def test_a_planned_run_keeps_its_runner_after_they_stop_running(admin_client, db, team):
    run = make_run(team["ben"], team["hero"], team["track"])
    team["ben"].runs_miles = False
    db.session.commit()
    form = admin_client.get(f"/admin/runs/{run.id}/edit").get_data(as_text=True)
    assert "Ben Runner" in _picked(form)
    assert re.search(rf'<option selected value="{team["ben"].id}">Ben Runner<', form)
    data = {
        "hero_id": team["hero"].id,
        "runner_id": team["ben"].id,
        "track_id": team["track"].id,
        "scheduled_at": "2030-05-01T19:00",
        "words": "Later",
    }
    assert admin_client.post(f"/admin/runs/{run.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert (run.runner_id, run.words) == (team["ben"].id, "Later")


def test_seed_demo_admin_does_not_lead_the_picker(app, cli, db, admin_client):
    assert cli.invoke(args=["seed-demo", "--password", "demo password"]).exit_code == 0
    db.session.expire_all()
    demo = {r.name: r.runs_miles for r in db.session.scalars(sa.select(Runner))}
    assert demo["Demo Admin"] is False and demo["Demo Runner"] is True
    html = admin_client.get("/admin/runs/new").get_data(as_text=True)
    assert _picked(html) == ["Demo Runner"]
    assert "Demo Admin" not in html.split('name="runner_id"')[1].split("</select>")[0]


@pytest.mark.parametrize(
    ("args", "runs"),
    [
        (["--role", "runner"], True),
        (["--role", "admin"], False),
        (["--role", "admin", "--runs"], True),
        (["--role", "runner", "--does-not-run"], False),
    ],
)
def test_create_user_sets_the_flag_from_the_role_unless_told(cli, db, args, runs):
    result = cli.invoke(
        args=[
            "create-user",
            "--email",
            "new@example.org",
            "--name",
            "New",
            "--password",
            "long enough",
            *args,
        ]
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(sa.select(Runner).where(Runner.email == "new@example.org"))
    assert account.runs_miles is runs


def test_the_migration_makes_runners_run_and_admins_not(empty_app):
    with empty_app.app_context():
        upgrade(revision=f"{MIGRATION}-1")
        with _db.engine.begin() as conn:
            for email, role in (("r@example.org", "runner"), ("a@example.org", "admin")):
                conn.execute(
                    sa.text(
                        "INSERT INTO runners (email, name, password_hash, role,"
                        " starting_mile_count, miles_logged, is_active_account, created_at,"
                        " session_token) VALUES "
                        "(:email, :email, 'x', :role, 0, 0, true, CURRENT_TIMESTAMP, :email)"
                    ),
                    {"email": email, "role": role},
                )
        upgrade(revision=MIGRATION)
        with _db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT role, runs_miles FROM runners")).all())
    assert {role: bool(runs) for role, runs in rows.items()} == {"runner": True, "admin": False}
