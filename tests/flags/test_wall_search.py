"""/honor: search by name, agency and state with a plain GET form; totals said in words;
linked from the home page; still nothing private, even with photos and a family page."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from r4h_pwa.formatting import team_zone
from r4h_pwa.models import Photo, utcnow
from r4h_pwa.runs.photos import clean_photo
from tests.factories import make_hero, make_runner, make_shipment, make_synced_run


@pytest.fixture
def wall(db):
    """Three honored heroes in two states; a runner with 1,293 miles from before the site."""
    runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=3)
    becerra = make_hero(name="Julian Becerra", rank="Officer", state="CO",
                        agency="Fountain Police Department")
    ruiz = make_hero(name="Maria Ruiz", rank="Firefighter", kind="fire", state="FL",
                     agency="Orlando Fire Department")
    hale = make_hero(name="Tom Hale", rank="Deputy", state="FL",
                     agency="Orange County Sheriff's Office")
    make_synced_run(runner, mile_number=1294, hero=becerra)  # run in 2023
    make_synced_run(runner, mile_number=1295, hero=ruiz)
    this_year = make_synced_run(runner, mile_number=1296, hero=hale,
                                started_at=utcnow() - timedelta(minutes=30))
    shipment = make_shipment(this_year)
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "navy").save(out, "JPEG")
    photo_id = str(uuid.uuid4())
    db.session.add(Photo(id=photo_id, run_id=this_year.id,
                         **vars(clean_photo(out.getvalue(), "image/jpeg"))))
    db.session.commit()
    return {"family_token": shipment.family_token, "photo_id": photo_id,
            "year": utcnow().astimezone(team_zone()).year}


def _heroes(html: str) -> list[str]:
    return re.findall(r'<p class="who"><strong>([^<]+)</strong>', html)


def _get(client, query: str = "") -> str:
    response = client.get(f"/honor{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_totals_say_what_they_count(client, wall):
    html = _get(client)
    assert 'data-testid="team-miles">1,296<' in html
    assert ("Every mile its runners have run: 1,293 before this site kept count, and 3 "
            "recorded here.") in html
    assert 'data-testid="heroes-honored">3<' in html
    assert (f'data-testid="miles-this-year">1</strong> mile recorded here in {wall["year"]}'
            in html)
    assert (f"Run since January 1, {wall['year']}. They are part of the team's 1,296, which "
            "also counts earlier years and the miles before this site.") in html
    assert "miles this year" not in html  # the words that read as a contradiction


@pytest.mark.parametrize(
    ("query", "heroes"),
    [
        ("", ["Deputy Tom Hale", "Firefighter Maria Ruiz", "Officer Julian Becerra"]),
        ("?name=becerra", ["Officer Julian Becerra"]),
        ("?name=+officer++julian+", ["Officer Julian Becerra"]),  # rank and name, spaces tidied
        ("?name=MARIA", ["Firefighter Maria Ruiz"]),
        ("?agency=fire", ["Firefighter Maria Ruiz"]),
        ("?agency=sheriff%27s", ["Deputy Tom Hale"]),
        ("?state=FL", ["Deputy Tom Hale", "Firefighter Maria Ruiz"]),
        ("?state=fl&agency=orange", ["Deputy Tom Hale"]),
        ("?state=CO&name=ruiz", []),
        ("?name=%25", []),  # % is a character to find, not a wildcard
        ("?name=_", []),
        ("?state=ZZ", ["Deputy Tom Hale", "Firefighter Maria Ruiz", "Officer Julian Becerra"]),
        ("?name=" + "x" * 5000, []),
    ],
)
def test_search_by_name_agency_and_state(client, wall, query, heroes):
    html = _get(client, query)
    assert _heroes(html) == heroes
    if not heroes:
        assert "No mile on this wall matches that search yet." in html


def test_the_search_result_names_the_search_and_the_way_back(client, wall):
    html = _get(client, "?name=ruiz&state=FL")
    result = re.search(r'data-testid="search-result">(.*?)</p>', html, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", result).split()) == (
        "1 mile for heroes matching name “ruiz”, state FL. Show every mile")
    assert '<a href="/honor">Show every mile</a>' in result
    assert 'id="search-name" name="name" type="search" value="ruiz"' in html
    assert '<option value="FL" selected>FL</option>' in html
    assert 'data-testid="search-result"' not in _get(client)


def test_the_search_is_a_labelled_get_form_that_needs_no_script(client, wall):
    html = _get(client)
    form = re.search(r'<form [^>]*data-testid="wall-search">.*?</form>', html, re.S).group(0)
    assert 'method="get" action="/honor"' in form and 'role="search"' in form
    for name, label in (("name", "Name"), ("agency", "Agency"), ("state", "State")):
        assert f'<label for="search-{name}">{label}</label>' in form
        assert f'id="search-{name}" name="{name}"' in form
    assert '<button class="button" type="submit"' in form
    assert "<script" not in html
    # Only states of heroes on the wall are offered.
    assert re.findall(r'<option value="([A-Z]{2})"', form) == ["CO", "FL"]


def test_the_pager_keeps_the_search(client, wall, monkeypatch):
    monkeypatch.setattr("r4h_pwa.flags.wall.WALL_PAGE_SIZE", 1)
    html = _get(client, "?state=FL")
    assert _heroes(html) == ["Deputy Tom Hale"] and "Page 1 of 2" in html
    assert 'href="/honor?page=2&amp;state=FL"' in html
    assert _heroes(_get(client, "?page=2&state=FL")) == ["Firefighter Maria Ruiz"]


def test_the_home_page_links_to_the_wall(client, db):
    html = _get(client)  # the wall itself, even empty, answers
    assert "The first miles will appear here once they are run." in html
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/honor"[^>]*>Wall of honor</a>', home)


@pytest.mark.parametrize("query", ["", "?name=hale", "?state=FL&agency=orange"])
def test_the_wall_shows_no_family_link_and_no_photo(client, wall, query):
    html = _get(client, query)
    assert "Deputy Tom Hale" in html  # the run with a shipment and a photo is on the wall
    for private in (wall["family_token"], "/f/", wall["photo_id"], "/photos/", ".jpg",
                    "<img", "Sgt. Dana Reyes", "Ofc. Quiet Person", "/shipments/"):
        assert private not in html, private
