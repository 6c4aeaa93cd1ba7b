"""GET /f/<token>: the mile for the family's hero, and nothing private."""

import pytest

from r4h_pwa.models import Hero
from tests.factories import TRACKING, make_shipment, make_synced_run
from tests.helpers import reload


def _page(client, story):
    response = client.get(story.family_path)
    assert response.status_code == 200
    return response, response.get_data(as_text=True)


def test_shows_the_memorial_card(client, story):
    _, html = _page(client, story)
    assert "Officer Julian Becerra" in html
    assert "Fountain Police Department" in html
    assert "February 11, 2023" in html  # end of watch
    assert "Thin blue line" in html


def test_shows_mile_runner_date_and_track(client, story):
    _, html = _page(client, story)
    # 01:30 UTC on the 15th is the evening of the 14th at the team's track.
    assert (
        "Mile 1,294, run by Zechariah on February 14, 2023 at Winter Springs High School"
    ) in html


def test_shows_total_time_and_every_lap_split_in_an_svg_chart(client, story):
    _, html = _page(client, story)
    assert 'data-testid="total-time">10:12.4<' in html
    assert 'data-testid="splits-chart"' in html and "<svg" in html
    for split in ("1:28.0", "1:29.5", "1:26.5", "1:28.9", "1:27.2", "1:26.9", "1:25.4"):
        assert f">{split}<" in html
    assert html.count('<rect class="bar"') == 7


def test_shows_consenting_escorts_only(client, story):
    _, html = _page(client, story)
    assert "Sgt. Dana Reyes" in html
    assert "Winter Springs Police" in html
    assert "Ofc. Quiet Person" not in html
    assert "Seminole County Sheriff" not in html


def test_never_shows_address_tracking_number_note_or_badge(client, story):
    _, html = _page(client, story)
    for private in (
        "800 Research Drive",
        "Suite 9",
        "Woodland Park",
        "80863",
        TRACKING,
        "USPS",
        "Chief Chris Deisler",
        "Deliver with the chief",
        "1234",
    ):
        assert private not in html


def test_shows_the_runners_words_and_video_link(client, story):
    _, html = _page(client, story)
    assert "I ran for Officer Becerra and his family tonight." in html
    assert 'href="https://video.example.org/becerra"' in html


def test_headers_keep_it_private(client, story):
    response, html = _page(client, story)
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "no-store" in response.headers["Cache-Control"]


def test_makes_no_third_party_requests_and_has_no_inline_script_or_style(client, story):
    _, html = _page(client, story)
    assert "<script" not in html
    assert " style=" not in html and "<style" not in html
    for attr in ("src=", "href="):
        for chunk in html.split(attr)[1:]:
            url = chunk[1:].split(chunk[0], 1)[0]
            # Only same-site resources load; the video is a link the family may choose.
            assert url.startswith(("/", "#", "data:")) or url == "https://video.example.org/becerra"
    assert '<link rel="stylesheet" href="/static/css/family.css">' in html


def test_is_small(client, story):
    response, _ = _page(client, story)
    assert len(response.data) < 16_000
    with client.get("/static/css/family.css") as css:
        assert len(css.data) < 12_000


def test_fundraiser_is_shown_only_when_verified_and_never_names_the_staff_member(client, db, story):
    hero = db.session.scalar(db.select(Hero).where(Hero.name == "Julian Becerra"))
    hero.fundraiser_url = "https://fund.example.org/becerra"
    db.session.commit()
    _, html = _page(client, story)
    assert "fund.example.org" not in html
    hero.fundraiser_verified_by = "Chief Chris Deisler"
    db.session.commit()
    _, html = _page(client, story)
    assert 'href="https://fund.example.org/becerra"' in html
    assert "Verified by Running 4 Heroes." in html
    assert "Chief Chris Deisler" not in html


@pytest.mark.parametrize("field", ["words", "escort", "hero"])
def test_script_in_any_field_is_shown_escaped(client, db, story, field):
    script = "<script>alert('x')</script>"
    runner = reload(db, story.shipment_id).run.runner
    hero = Hero(
        name=script if field == "hero" else "Plain Hero",
        rank="Deputy",
        agency="X",
        state="FL",
        kind="police",
        end_of_watch=reload(db, story.shipment_id).run.hero.end_of_watch,
    )
    db.session.add(hero)
    run = make_synced_run(
        runner,
        mile_number=1295,
        hero=hero,
        words=script if field == "words" else "Plain words.",
        checkins=[
            {
                "name": script if field == "escort" else "Plain Name",
                "public": True,
                "role": "escort",
            }
        ],
    )
    shipment = make_shipment(run, recipient_name=script)
    db.session.commit()
    html = client.get(f"/f/{shipment.family_token}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_a_javascript_video_link_is_not_rendered_as_a_link(client, db, story):
    shipment = reload(db, story.shipment_id)
    shipment.run.video_url = "javascript:alert(1)"
    db.session.commit()
    _, html = _page(client, story)
    assert "javascript:" not in html


def test_unknown_token_is_404_with_private_headers(client, story):
    response = client.get("/f/" + "A" * 32)
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


@pytest.mark.parametrize("token", ["short", "x" * 65, "bad%20chars%21%21%21%21%21%21%21%21%21"])
def test_malformed_token_is_404(client, story, token):
    assert client.get(f"/f/{token}").status_code == 404


def test_revoked_token_is_404(client, db, story):
    shipment = reload(db, story.shipment_id)
    from r4h_pwa.flags import service

    service.revoke_family_link(shipment)
    db.session.commit()
    assert client.get(story.family_path).status_code == 404
    assert client.post(f"{story.family_path}/ack", data={"message": ""}).status_code == 404


def test_reissued_token_replaces_the_old_one(client, db, story):
    from r4h_pwa.flags import service

    shipment = reload(db, story.shipment_id)
    service.revoke_family_link(shipment)
    service.reissue_family_link(shipment)
    db.session.commit()
    assert client.get(story.family_path).status_code == 404
    assert client.get(f"/f/{shipment.family_token}").status_code == 200


def test_unnumbered_run_says_a_mile_without_a_number(client, db, story):
    runner = reload(db, story.shipment_id).run.runner
    shipment = make_shipment(make_synced_run(runner, mile_number=None, lap_ms=[90_000]))
    db.session.commit()
    html = client.get(f"/f/{shipment.family_token}").get_data(as_text=True)
    assert "A mile, run by Zechariah" in html
    assert "Mile None" not in html
