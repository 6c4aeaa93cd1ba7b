"""/honor: search by name, agency and state with a plain GET form; totals said in words;
linked from the home page; each entry leads to its hero's page (/honor/heroes/<id>); still
nothing private on either, even with photos, escorts, a shipment and a family message."""

import io
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from r4h_pwa.formatting import long_date, team_zone
from r4h_pwa.models import Hero, Photo, Run, Runner, utcnow
from r4h_pwa.runs.photos import clean_photo
from tests.factories import (
    ADDRESS,
    TRACKING,
    make_hero,
    make_ruiz,
    make_run,
    make_runner,
    make_shipment,
    make_synced_run,
)

STORY = (
    "Deputy Hale served eleven years on the night shift.\n\n"
    "He stopped to help a stranded driver on I-4."
)
SOURCE = "https://memorial.example.org/officers/tom-hale"
MESSAGE = "Thank you for running for Tom. The flag is on his desk now."


@pytest.fixture
def wall(db):
    """Three honored heroes in two states; a runner with 1,293 miles from before the site."""
    runner = make_runner(name="Zechariah", starting_mile_count=1293, miles_logged=3)
    becerra = make_hero(
        name="Julian Becerra", rank="Officer", state="CO", agency="Fountain Police Department"
    )
    ruiz = make_ruiz()
    hale = make_hero(
        name="Tom Hale",
        rank="Deputy",
        state="FL",
        agency="Orange County Sheriff's Office",
        story=STORY,
        source_url=SOURCE,
    )
    make_synced_run(runner, mile_number=1294, hero=becerra)  # run in 2023
    make_synced_run(runner, mile_number=1295, hero=ruiz)
    this_year = make_synced_run(
        runner, mile_number=1296, hero=hale, started_at=utcnow() - timedelta(minutes=30)
    )
    shipment = make_shipment(this_year, ack_message=MESSAGE, received_at=utcnow())
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "navy").save(out, "JPEG")
    photo_id = str(uuid.uuid4())
    db.session.add(
        Photo(id=photo_id, run_id=this_year.id, **vars(clean_photo(out.getvalue(), "image/jpeg")))
    )
    db.session.commit()
    return {
        "family_token": shipment.family_token,
        "photo_id": photo_id,
        "year": utcnow().astimezone(team_zone()).year,
        "hale": hale.id,
        "becerra": becerra.id,
        "shipment_id": shipment.id,
    }


def _heroes(html: str) -> list[str]:
    return re.findall(r'<p class="who"><a href="[^"]+"><strong>([^<]+)</strong>', html)


def _get(client, query: str = "") -> str:
    response = client.get(f"/honor{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_totals_say_what_they_count(client, wall):
    html = _get(client)
    assert 'data-testid="team-miles">1,296<' in html
    assert (
        "Every mile its runners have run: 1,293 before this site kept count, and 3 recorded here."
    ) in html
    assert 'data-testid="heroes-honored">3<' in html
    assert f'data-testid="miles-this-year">1</strong> mile recorded here in {wall["year"]}' in html
    assert (
        f"Run since January 1, {wall['year']}. They are part of the team's 1,296, which "
        "also counts earlier years and the miles before this site."
    ) in html
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
        "1 mile for heroes matching name “ruiz”, state FL. Show every mile"
    )
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


def _private(wall) -> tuple[str, ...]:
    """What the run of Tom Hale carries that no public page may show."""
    return (
        wall["family_token"],
        "/f/",
        wall["photo_id"],
        "/photos/",
        ".jpg",
        "<img",
        "Sgt. Dana Reyes",
        "Ofc. Quiet Person",
        "/shipments/",
        wall["shipment_id"],
        MESSAGE,
        "Thank you for running",
        TRACKING,
        "video.example.org",
        *(v for k, v in ADDRESS.items() if k not in ("state", "recipient_kind")),
    )


@pytest.mark.parametrize("query", ["", "?name=hale", "?state=FL&agency=orange"])
def test_the_wall_shows_no_family_link_and_no_photo(client, wall, query):
    html = _get(client, query)
    assert "Deputy Tom Hale" in html  # the run with a shipment and a photo is on the wall
    for private in _private(wall):
        assert private not in html, private


# --- a hero's page -----------------------------------------------------------------------------


def _hero(client, hero_id: int, query: str = "") -> str:
    response = client.get(f"/honor/heroes/{hero_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_each_wall_entry_leads_to_its_heros_page_keeping_the_search(client, wall):
    assert f'<a href="/honor/heroes/{wall["hale"]}"><strong>Deputy Tom Hale' in _get(client)
    html = _get(client, "?state=fl&agency=orange")
    assert f'<a href="/honor/heroes/{wall["hale"]}?agency=orange&amp;state=FL">' in html
    hero = _hero(client, wall["hale"], "?agency=orange&state=FL")
    back = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>', hero)
    assert ("/honor?agency=orange&amp;state=FL", "← Back to the search") in back
    assert ("/honor?agency=orange&amp;state=FL", "Back to the search") in back


def test_the_page_of_the_wall_is_kept_too(client, wall, monkeypatch):
    monkeypatch.setattr("r4h_pwa.flags.wall.WALL_PAGE_SIZE", 1)
    html = _get(client, "?page=2&state=FL")
    assert _heroes(html) == ["Firefighter Maria Ruiz"]
    hero_id = re.search(r'href="/honor/heroes/(\d+)\?page=2&amp;state=FL"', html).group(1)
    hero = _hero(client, int(hero_id), "?page=2&state=FL")
    assert 'href="/honor?page=2&amp;state=FL"' in hero
    assert 'href="/honor"' in _hero(client, int(hero_id))  # no search: the whole wall


def test_the_heros_page_tells_the_tribute_and_the_miles(client, wall, db):
    runner = db.session.scalar(sa.select(Runner).where(Runner.name == "Zechariah"))
    hale = db.session.get(Hero, wall["hale"])
    make_synced_run(runner, mile_number=1297, hero=hale)  # a second mile for the same hero
    db.session.commit()
    html = _hero(client, wall["hale"])
    assert "<title>Deputy Tom Hale · Wall of honor" in html
    assert 'data-testid="hero-name">Deputy Tom Hale</h1>' in html
    assert 'data-testid="hero-agency">Orange County Sheriff&#39;s Office, FL</p>' in html
    assert 'data-testid="end-of-watch">February 11, 2024</dd>' in html
    assert 'data-testid="hero-kind">Police</dd>' in html
    assert re.findall(r'<p class="story">([^<]+)</p>', html) == [
        "Deputy Hale served eleven years on the night shift.",
        "He stopped to help a stranded driver on I-4.",
    ]
    assert f'<a href="{SOURCE}" rel="noopener noreferrer external"' in html
    miles = re.search(r'data-testid="hero-miles">(.*?)</ol>', html, re.S).group(1)
    assert re.findall(r"<li[^>]*>(.*?)</li>", _collapse(miles)) == [
        "Mile 1,296 Run by Zechariah on "
        + _today_day(db, hale)
        + ", at Winter Springs High School.",
        "Mile 1,297 Run by Zechariah on February 14, 2023, at Winter Springs High School.",
    ]
    assert "The miles run for Deputy Tom Hale" in html
    assert "<script" not in html


def _collapse(html: str) -> str:
    return re.sub(
        r"\s*<(/?)(li)[^>]*>\s*", r"<\1\2>", " ".join(re.sub(r"<(?!/?li)[^>]+>", " ", html).split())
    )


def _today_day(db, hale) -> str:
    run = db.session.scalar(sa.select(Run).where(Run.hero_id == hale.id, Run.mile_number == 1296))
    return long_date(run.started_at)


def test_a_memorial_link_that_is_not_a_web_link_is_left_out(client, wall, db):
    db.session.get(Hero, wall["becerra"]).source_url = "javascript:alert(1)"
    db.session.commit()
    html = _hero(client, wall["becerra"])
    assert "javascript:" not in html and 'data-testid="memorial-source"' not in html
    assert '<p class="story">' not in html  # no story: no empty paragraph either


def test_a_hero_not_on_the_wall_has_no_page(client, wall, db):
    runner = db.session.scalar(sa.select(Runner).where(Runner.name == "Zechariah"))
    planned = make_hero(name="Planned Only")
    make_run(runner, hero=planned)  # planned, not yet run: the wall does not announce it
    unnumbered = make_hero(name="Not Numbered")
    make_synced_run(runner, mile_number=None, hero=unnumbered)
    db.session.commit()
    for hero_id in (planned.id, unnumbered.id, 999_999, 2**31, 10**30):
        response = client.get(f"/honor/heroes/{hero_id}")
        assert response.status_code == 404, hero_id
        assert "Planned Only" not in response.get_data(as_text=True)
    assert client.get("/honor/heroes/abc").status_code == 404
    assert client.get("/honor/heroes/-1").status_code == 404


@pytest.mark.parametrize("query", ["", "?name=hale&state=FL"])
def test_the_heros_page_shows_nothing_private(client, wall, query):
    html = _hero(client, wall["hale"], query)
    assert "Deputy Tom Hale" in html and "Mile 1,296" in html
    for private in _private(wall):
        assert private not in html, private
    assert "I ran for Officer Becerra" not in html  # the runner's words are the family's


def test_a_family_taking_its_page_down_changes_neither_the_wall_nor_the_heros_page(client, wall):
    """The wall never showed anything from the family page, so hiding it changes nothing
    public: the mile stays honored, and still nothing private shows."""
    before = (_get(client), _hero(client, wall["hale"]))
    assert client.post(f"/f/{wall['family_token']}/hide").status_code == 303
    assert client.get(f"/f/{wall['family_token']}").status_code == 410
    after = (_get(client), _hero(client, wall["hale"]))
    assert after == before
    for private in _private(wall):
        assert private not in after[1], private


def test_the_heros_page_is_public_revalidated_and_answers_304(client, wall, db):
    first = client.get(f"/honor/heroes/{wall['hale']}")
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert "X-Robots-Tag" not in first.headers
    etag = first.headers["ETag"]
    again = client.get(f"/honor/heroes/{wall['hale']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    by_date = client.get(
        f"/honor/heroes/{wall['hale']}",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert by_date.status_code == 304
    db.session.get(Hero, wall["hale"]).story = "A new story."
    db.session.commit()  # a write to a shown table: the cached page is of an older version
    changed = client.get(f"/honor/heroes/{wall['hale']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "A new story." in changed.get_data(as_text=True)
