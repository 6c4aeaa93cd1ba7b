"""/honor: the public wall of honor, with totals and nothing private."""

from tests.factories import TRACKING, make_synced_run
from tests.helpers import reload


def test_wall_lists_heroes_with_mile_date_and_kind(client, story):
    response = client.get("/honor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Officer Julian Becerra" in html
    assert "Mile 1,294" in html
    assert "February 14, 2023" in html
    assert "Police" in html


def test_wall_shows_team_totals(client, db, story):
    html = client.get("/honor").get_data(as_text=True)
    assert 'data-testid="team-miles">1,294<' in html
    assert 'data-testid="heroes-honored">1<' in html


def test_wall_links_to_nothing_private(client, db, story):
    html = client.get("/honor").get_data(as_text=True)
    for private in (
        story.family_token,
        "/f/",
        "800 Research",
        TRACKING,
        "Sgt. Dana Reyes",
        "Ofc. Quiet Person",
        story.shipment_id,
        "/shipments/",
    ):
        assert private not in html


def test_wall_leaves_out_unsynced_and_unnumbered_runs(client, db, story):
    runner = reload(db, story.shipment_id).run.runner
    from tests.factories import make_hero

    make_synced_run(runner, mile_number=None, hero=make_hero(name="Not Yet Numbered"))
    make_synced_run(runner, mile_number=None, status="planned", hero=make_hero(name="Unsynced"))
    db.session.commit()
    html = client.get("/honor").get_data(as_text=True)
    assert "Not Yet Numbered" not in html and "Unsynced" not in html


def test_wall_pages_and_ignores_bad_page_numbers(client, story):
    assert client.get("/honor?page=999").status_code == 200
    assert client.get("/honor?page=-1").status_code == 200
    assert client.get("/honor?page=abc").status_code == 200
