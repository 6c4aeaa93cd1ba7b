"""The coverage queue: imported heroes, hand-checked figures, the API, planning."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from r4h_pwa.coverage import service
from r4h_pwa.models import Hero, Run
from tests.factories import bearer, make_device_token, make_hero, make_run, make_runner, make_track
from tests.helpers import count

# Alternative headers, as memorial lists export them: first and last name, "Department",
# "ST", "Type", "EOW" in US format, and a column the app does not know.
CSV = """First Name,Last Name,Rank,Department,ST,Type,EOW,Cause of Death,Notes
Jordan,Avery,Officer,Example County PD,FL,Law Enforcement,02/11/2024,Gunfire,call 1
Casey,Morgan,Firefighter,Example Fire Rescue,FL,Firefighter,"January 5, 2024",Collapse,
Rex,,K9,Example Sheriff,GA,K-9,2023-12-01,Gunfire,
Riley,Brooks,Paramedic,Example EMS,TX,EMS,13/45/2024,,
,,Officer,Example PD,FL,police,2024-03-01,,
Jordan,Avery,Officer,example county pd,FL,police,2024-02-11,,
Sam,Whitfield,Agent,Example Task Force,ZZ,federal,2024-05-05,,
Taylor,Quinn,Lieutenant,Example Jail,FL,Corrections Officer,2024-06-30,,
"""


def _heroes(db) -> dict[str, Hero]:
    return {h.name: h for h in db.session.scalars(sa.select(Hero))}


@pytest.fixture
def imported(cli, db, tmp_path):
    """The CSV imported, plus miles run for three heroes and one older hero still waiting."""
    path = tmp_path / "odmp-export.csv"
    path.write_text(CSV, encoding="utf-8")
    result = cli.invoke(args=["import-heroes", str(path)])
    assert result.exit_code == 0, result.output
    heroes = _heroes(db)
    runner = make_runner(name="Rita Runner")
    other = make_runner(name="Omar Other")
    track = make_track()

    def mile(hero, runner, number, started):
        return make_run(
            runner,
            heroes[hero],
            track,
            status="synced",
            mile_number=number,
            started_at=started,
            finished_at=started + timedelta(minutes=8),
            synced_at=started + timedelta(hours=1),
            scheduled_at=None,
        )

    # Avery: first mile on Feb 21 at 18:30 New York time (23:30 UTC), a second one later.
    mile("Jordan Avery", runner, 1, datetime(2024, 2, 21, 23, 30, tzinfo=UTC))
    mile("Jordan Avery", other, 1, datetime(2024, 3, 1, 23, 0, tzinfo=UTC))
    # Rex: 03:00 UTC on Jan 1 is still Dec 31 in New York: 30 days, not 31.
    mile("Rex", runner, 2, datetime(2024, 1, 1, 3, 0, tzinfo=UTC))
    mile("Casey Morgan", other, 2, datetime(2024, 1, 9, 17, 0, tzinfo=UTC))
    # Quinn: a planned run and an incomplete synced run are not a mile.
    make_run(runner, heroes["Taylor Quinn"], track)
    make_run(
        other,
        heroes["Taylor Quinn"],
        track,
        status="synced",
        mile_number=None,
        started_at=datetime(2024, 7, 2, 22, 0, tzinfo=UTC),
        scheduled_at=None,
    )
    make_hero(
        kind="dispatch",
        name="Morgan Lee",
        rank="Dispatcher",
        agency="Example 911",
        end_of_watch=date(2022, 7, 4),
    )
    db.session.commit()
    return result.output


def test_import_reads_alternative_headers_and_reports_bad_rows(imported, db):
    out = imported
    assert "Ignoring unknown column(s): Notes" in out
    assert "row 5: rejected: end_of_watch: Must be a date like 2024-02-11." in out
    assert "row 6: rejected: name: This field is required." in out
    assert "row 7: skipped duplicate: Jordan Avery is already listed" in out
    assert "row 8: rejected: state: Use the two-letter postal code, like FL." in out
    assert "Imported 4, skipped duplicates 1, rejected 3 (of 8 rows" in out
    heroes = _heroes(db)
    assert {
        n: (h.kind, h.end_of_watch, h.agency, h.state, h.rank)
        for n, h in heroes.items()
        if n != "Morgan Lee"
    } == {
        "Jordan Avery": ("police", date(2024, 2, 11), "Example County PD", "FL", "Officer"),
        "Casey Morgan": ("fire", date(2024, 1, 5), "Example Fire Rescue", "FL", "Firefighter"),
        "Rex": ("k9", date(2023, 12, 1), "Example Sheriff", "GA", "K9"),
        "Taylor Quinn": ("corrections", date(2024, 6, 30), "Example Jail", "FL", "Lieutenant"),
    }
    assert heroes["Jordan Avery"].cause == "Gunfire"


def test_import_never_imports_a_hero_twice(cli, imported, tmp_path):
    path = tmp_path / "again.csv"
    path.write_text(CSV, encoding="utf-8")
    again = cli.invoke(args=["import-heroes", str(path)])
    assert "Imported 0, skipped duplicates 5, rejected 3" in again.output
    assert count(Hero) == 5


def test_import_refuses_two_columns_for_one_field(cli, db, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text(
        "Name,Agency,State,Kind,EOW,Date of death\nRex,PD,FL,k9,2024-01-01,2024-01-01\n",
        encoding="utf-8",
    )
    result = cli.invoke(args=["import-heroes", str(path)])
    assert result.exit_code != 0
    assert "Two columns mean end_of_watch: 'EOW' and 'Date of death'" in result.output
    assert count(Hero) == 0


def test_coverage_figures_match_hand_computed_values(imported, db):
    figures = service.coverage(on=date(2024, 8, 1))
    # Honored: Avery 10 days (Feb 11 -> 21), Morgan 4 (Jan 5 -> 9), Rex 30 (Dec 1 -> 31).
    assert (figures.heroes_total, figures.honored, figures.awaiting) == (5, 3, 2)
    assert figures.share_honored == 0.6
    assert figures.days_to_mile_median == 10  # sorted 4, 10, 30: rank ceil(1.5) = 2
    assert figures.days_to_mile_p90 == 30  # rank ceil(2.7) = 3
    assert [(a.hero.name, a.days_waiting) for a in figures.awaiting_heroes] == [
        ("Morgan Lee", (date(2024, 8, 1) - date(2022, 7, 4)).days),  # 759
        ("Taylor Quinn", 32),
    ]
    assert [r.runner.name for r in figures.awaiting_heroes[1].planned] == ["Rita Runner"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"kind": "police"}, (1, 1, 1.0, 10, 10)),
        ({"year": "2024"}, (3, 2, 0.6667, 4, 10)),  # Avery, Morgan, Quinn: 4, 10
        ({"state": "GA"}, (1, 1, 1.0, 30, 30)),
        ({"kind": "dispatch", "state": "fl"}, (1, 0, 0.0, None, None)),
        ({"year": "1999"}, (0, 0, None, None, None)),
    ],
)
def test_coverage_filters_by_kind_state_and_year(imported, db, args, expected):
    figures = service.coverage(service.read_filters(args), on=date(2024, 8, 1))
    assert (
        figures.heroes_total,
        figures.honored,
        figures.share_honored,
        figures.days_to_mile_median,
        figures.days_to_mile_p90,
    ) == expected


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([15, 20, 35, 40, 50], 30, 20),
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        ([4, 1, 3, 2], 50, 2),
        ([4, 1, 3, 2], 90, 4),
        ([7], 90, 7),
        ([], 50, None),
    ],
)
def test_nearest_rank(values, percent, expected):
    assert service.nearest_rank(values, percent) == expected


def _api_today() -> date:
    return datetime.now(ZoneInfo("America/New_York")).date()


def test_api_returns_the_figures_to_an_admin(imported, db, client, admin):
    token = make_device_token(admin)
    db.session.commit()
    response = client.get("/api/v1/coverage", headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert {k: v for k, v in body.items() if k != "awaiting_heroes"} == {
        "heroes_total": 5,
        "honored": 3,
        "awaiting": 2,
        "share_honored": 0.6,
        "days_to_mile_median": 10,
        "days_to_mile_p90": 30,
    }
    lee, quinn = (_heroes(db)[n] for n in ("Morgan Lee", "Taylor Quinn"))
    assert body["awaiting_heroes"] == [
        {
            "id": lee.id,
            "name": "Morgan Lee",
            "kind": "dispatch",
            "state": "FL",
            "end_of_watch": "2022-07-04",
            "days_waiting": (_api_today() - date(2022, 7, 4)).days,
        },
        {
            "id": quinn.id,
            "name": "Taylor Quinn",
            "kind": "corrections",
            "state": "FL",
            "end_of_watch": "2024-06-30",
            "days_waiting": (_api_today() - date(2024, 6, 30)).days,
        },
    ]
    filtered = client.get("/api/v1/coverage?kind=k9", headers=bearer(token)).get_json()
    assert (filtered["heroes_total"], filtered["awaiting_heroes"]) == (1, [])


def test_api_refuses_a_runner_and_nobody(db, client):
    token = make_device_token(make_runner())
    db.session.commit()
    refused = client.get("/api/v1/coverage", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/coverage").status_code == 401


def test_api_says_which_filter_is_bad(db, client, admin):
    token = make_device_token(admin)
    db.session.commit()
    response = client.get("/api/v1/coverage?kind=dragon&year=20x4", headers=bearer(token))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"kind", "year"}


def test_page_shows_the_same_figures_as_the_api(imported, db, admin_client, admin):
    token = make_device_token(admin)
    db.session.commit()
    api = admin_client.get("/api/v1/coverage", headers=bearer(token)).get_json()
    page = admin_client.get("/admin/coverage").get_data(as_text=True)
    assert "60%</strong> honored: 3 of 5 heroes" in page
    assert "<strong>2</strong> awaiting a mile" in page
    assert "<strong>10</strong> days to the mile (median); 90% within 30 days" in page
    shown = [
        int(d.replace(",", "")) for d in re.findall(r'data-testid="days-waiting">([\d,]+)<', page)
    ]
    assert shown == [h["days_waiting"] for h in api["awaiting_heroes"]]
    assert page.index("Morgan Lee") < page.index("Taylor Quinn")
    assert "Jordan Avery" not in page.split('id="queue-heading"')[1].split("</section>")[0]


def test_page_filters_and_refuses_a_runner(imported, admin_client):
    page = admin_client.get("/admin/coverage?kind=corrections").get_data(as_text=True)
    assert "0%</strong> honored: 0 of 1 heroes" in page
    assert "Taylor Quinn" in page and "Morgan Lee" not in page
    assert admin_client.get("/admin/coverage?year=abc").status_code == 422


def test_runner_cannot_see_the_page(runner_client):
    assert runner_client.get("/admin/coverage").status_code == 403


def test_week_plan_lists_this_weeks_runs_by_runner(db, admin_client):
    runner = make_runner(name="Wes Weekly")
    start, end = service.week_bounds(service.today())
    hero = make_hero(name="Pat Planned")
    make_run(runner, hero, scheduled_at=start + timedelta(hours=30))
    make_run(runner, make_hero(name="Next Week"), scheduled_at=end + timedelta(hours=1))
    db.session.commit()
    page = admin_client.get("/admin/coverage").get_data(as_text=True)
    week = page.split('data-testid="week-plan"')[1]
    assert "Wes Weekly" in week and "Pat Planned" in week and "Next Week" not in week


def _plan(client, hero, runner, track, **extra):
    data = {
        "hero_id": hero.id,
        "runner_id": runner.id,
        "track_id": track.id,
        "scheduled_at": "2026-12-01T18:00",
        **extra,
    }
    return client.post("/admin/coverage/plan", data=data)


def test_plan_from_the_queue_in_one_action(imported, db, admin_client, client):
    quinn = _heroes(db)["Taylor Quinn"]
    runner = make_runner(name="Quick Planner")
    track = make_track()
    token = make_device_token(runner)
    db.session.commit()
    before = count(Run)
    response = _plan(admin_client, quinn, runner, track, back_kind="corrections")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/coverage?kind=corrections"
    assert count(Run) == before + 1
    run = db.session.scalar(sa.select(Run).where(Run.runner_id == runner.id))
    assert (run.status, run.hero_id, run.track_id) == ("planned", quinn.id, track.id)
    # 18:00 in New York in December is 23:00 UTC.
    assert run.scheduled_at == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    planned = client.get("/api/v1/bootstrap", headers=bearer(token)).get_json()["planned_runs"]
    assert [p["id"] for p in planned] == [run.id]


def test_plan_with_bad_fields_stores_nothing(imported, db, admin_client):
    quinn = _heroes(db)["Taylor Quinn"]
    before = count(Run)
    response = admin_client.post(
        "/admin/coverage/plan",
        data={"hero_id": quinn.id, "runner_id": "", "track_id": "999", "scheduled_at": "soon"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a runner." in page and "That track does not exist" in page
    assert "Enter a date and time" in page
    assert count(Run) == before


def test_second_mile_asks_for_confirmation_naming_the_first(imported, db, admin_client):
    avery = _heroes(db)["Jordan Avery"]
    runner = make_runner(name="Second Runner")
    track = make_track()
    db.session.commit()
    before = count(Run)
    response = _plan(admin_client, avery, runner, track)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert (
        "Officer Jordan Avery already has a mile: mile 1, run by Rita Runner on "
        "February 21, 2024. Plan another mile anyway?"
    ) in page
    assert 'name="confirm"' in page
    assert count(Run) == before
    form = admin_client.get(f"/admin/coverage/plan?hero={avery.id}").get_data(as_text=True)
    assert "run by Rita Runner on February 21, 2024" in form
    confirmed = _plan(admin_client, avery, runner, track, confirm="y")
    assert confirmed.status_code == 303
    assert count(Run) == before + 1
