"""The family page as a story: the sentence, the photos, the order, the page taken down,
and the family's message reaching the runner's phone."""

import io
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image

from r4h_pwa.extensions import db as _db
from r4h_pwa.flags.family import silence_words
from r4h_pwa.models import Photo, Run, Shipment
from r4h_pwa.runs.photos import clean_photo
from tests.factories import make_shipment, make_synced_run
from tests.helpers import csrf_token, reload, sign_in

SENTENCE = (
    "On February 14, 2023, Zechariah ran mile 1,294 for Officer Julian Becerra at Winter "
    "Springs High School, carrying the thin blue line flag, escorted by officers of Winter "
    "Springs Police."
)


def _ceremony(run_id: str, **values) -> None:
    run = _db.session.get(Run, run_id)
    ceremony = {
        "prayer_before": True,
        "silence_seconds": 60,
        "flag_carried": True,
        "prayer_after": False,
        **values,
    }
    for key, value in ceremony.items():
        setattr(run, key, value)
    _db.session.commit()


def add_photo(run_id: str, hidden: bool = False, size=(1200, 900)) -> str:
    """A photo of the run, stored as the upload stores it."""
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "JPEG")
    photo_id = str(uuid.uuid4())
    photo = Photo(id=photo_id, run_id=run_id, **vars(clean_photo(out.getvalue(), "image/jpeg")))
    if hidden:
        photo.hidden_at = datetime.now(UTC)
    _db.session.add(photo)
    _db.session.commit()
    return photo_id


def _html(client, story) -> str:
    response = client.get(story.family_path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _sentence(html: str) -> str:
    start = html.index('data-testid="mile-sentence">') + len('data-testid="mile-sentence">')
    return html[start : html.index("</p>", start)]


def test_the_mile_in_a_sentence_with_the_prayer_and_the_silence(client, db, story):
    _ceremony(story.run_id)
    assert _sentence(_html(client, story)) == (
        f"{SENTENCE} Before the run they prayed; after it they kept a minute of silence."
    )


def test_what_was_not_recorded_is_left_out_of_the_sentence(client, db, story):
    assert _sentence(_html(client, story)) == SENTENCE.replace(
        ", carrying the thin blue line flag", ""
    )


def test_a_skipped_step_is_left_out_and_the_prayer_after_is_said(client, db, story):
    _ceremony(
        story.run_id, prayer_before=False, silence_seconds=0, flag_carried=False, prayer_after=True
    )
    assert _sentence(_html(client, story)) == (
        SENTENCE.replace(", carrying the thin blue line flag", "") + " After the run they prayed."
    )


@pytest.mark.parametrize(
    ("steps", "told"),
    [
        ({"silence_when": "before"}, " Before the run they prayed and kept a minute of silence."),
        (
            {"silence_when": "before", "prayer_after": True},
            " Before the run they prayed and kept a minute of silence; after it they prayed again.",
        ),
        (
            {"silence_when": "before", "prayer_before": False, "prayer_after": True},
            " Before the run they kept a minute of silence; after it they prayed.",
        ),
        (
            {"silence_when": "after", "prayer_after": True},
            " Before the run they prayed; after it they kept a minute of silence and prayed again.",
        ),
        (
            {"silence_when": "after", "prayer_before": False},
            " After the run they kept a minute of silence.",
        ),
    ],
)
def test_the_sentence_says_whether_the_silence_came_before_or_after(client, db, story, steps, told):
    _ceremony(story.run_id, **steps)
    assert _sentence(_html(client, story)) == SENTENCE + told


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "a second"),
        (30, "30 seconds"),
        (60, "a minute"),
        (90, "a minute and 30 seconds"),
        (120, "two minutes"),
        (3600, "60 minutes"),
    ],
)
def test_silence_is_said_as_people_say_it(seconds, words):
    assert silence_words(seconds) == words


def test_the_page_reads_in_the_order_of_the_story(client, db, story):
    _ceremony(story.run_id)
    add_photo(story.run_id)
    hero = _db.session.get(Run, story.run_id).hero
    hero.fundraiser_url = "https://fund.example.org/becerra"
    hero.fundraiser_verified_by = "Demo Admin"
    _db.session.commit()
    html = _html(client, story)
    order = [
        'data-testid="memorial-card"',
        'data-testid="mile-sentence"',
        'data-testid="photos"',
        'data-testid="runner-words"',
        'data-testid="escorts"',
        'data-testid="fundraiser"',
        'data-testid="lap-times"',
        'data-testid="ack-form"',
        'data-testid="remove-page"',
    ]
    positions = [html.index(hook) for hook in order]
    assert positions == sorted(positions)
    assert "Demo Admin" not in html and "Verified by Running 4 Heroes." in html
    assert '<details class="lap-times" data-testid="lap-times">' in html  # closed


def test_only_photos_not_hidden_are_shown_with_a_srcset(client, db, story):
    shown = add_photo(story.run_id)
    hidden = add_photo(story.run_id, hidden=True)
    html = _html(client, story)
    page_copy = f"{story.family_path}/photos/{shown}/page.jpg"
    assert f'src="{page_copy}"' in html
    assert f'srcset="{page_copy} 800w, {story.family_path}/photos/{shown}.jpg 1200w"' in html
    assert 'width="800" height="600"' in html
    assert hidden not in html
    served = client.get(page_copy)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (800, 600)
    assert client.get(f"{story.family_path}/photos/{hidden}.jpg").status_code == 404
    assert client.get(f"{story.family_path}/photos/{hidden}/page.jpg").status_code == 404


def test_a_photo_is_not_reachable_with_another_familys_token(client, db, story):
    photo_id = add_photo(story.run_id)
    other_run = make_synced_run(_db.session.get(Run, story.run_id).runner, mile_number=1295)
    other = make_shipment(other_run)
    _db.session.commit()
    assert client.get(f"/f/{other.family_token}/photos/{photo_id}.jpg").status_code == 404


def test_photos_never_appear_on_the_wall(client, db, story):
    photo_id = add_photo(story.run_id)
    html = client.get("/honor").get_data(as_text=True)
    assert photo_id not in html and "/photos/" not in html


def test_an_intermediary_is_asked_to_say_when_the_flag_reached_the_family(client, db, story):
    html = _html(client, story)  # the story's shipment goes to a chief
    assert "Please let us know when the flag has been given to the family." in html
    family = make_shipment(_db.session.get(Run, story.run_id), recipient_kind="family")
    _db.session.commit()
    html = client.get(f"/f/{family.family_token}").get_data(as_text=True)
    assert "Has the flag arrived?" in html
    assert "given to the family" not in html


def test_the_thanks_page_promises_only_what_is_true(client, db, story):
    client.post(f"{story.family_path}/ack", data={"message": "Thank you."})
    html = client.get(f"{story.family_path}/thanks").get_data(as_text=True)
    assert "We have let" not in html
    assert "it will reach Zechariah on their phone" in html


# --- the family takes the page down -----------------------------------------------------------


def test_the_family_can_take_the_page_down_and_it_answers_410_saying_nothing(client, db, story):
    photo_id = add_photo(story.run_id)
    confirm = client.get(f"{story.family_path}/hide")
    assert confirm.status_code == 200
    assert 'action="' + f'{story.family_path}/hide"' in confirm.get_data(as_text=True)
    response = client.post(f"{story.family_path}/hide")
    assert response.status_code == 303
    assert response.headers["Location"] == story.family_path

    gone = client.get(story.family_path)
    assert gone.status_code == 410
    html = gone.get_data(as_text=True)
    assert "This page was removed" in html
    for private in ("Becerra", "Zechariah", "1,294", "Winter Springs", "Fountain"):
        assert private not in html
    assert gone.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get(f"{story.family_path}/photos/{photo_id}.jpg").status_code == 404
    assert client.get(f"{story.family_path}/photos/{photo_id}/page.jpg").status_code == 404
    assert client.get(f"{story.family_path}/thanks").status_code == 410
    assert client.post(f"{story.family_path}/ack", data={"message": "hi"}).status_code == 410
    assert reload(db, story.shipment_id).ack_message == ""


def test_an_admin_sees_the_page_was_taken_down_and_can_restore_it(client, db, story):
    client.post(f"{story.family_path}/hide")
    sign_in(client, story.admin_email)
    page = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert 'data-testid="page-taken-down"' in page
    response = client.post(f"/admin/shipments/{story.shipment_id}/restore")
    assert response.status_code == 303
    assert reload(db, story.shipment_id).family_hidden_at is None
    assert client.get(story.family_path).status_code == 200


def test_an_admin_can_hide_a_photo_from_the_family_page(app, client, db, story):
    photo_id = add_photo(story.run_id)
    sign_in(client, story.admin_email)
    page = client.get(f"/admin/shipments/{story.shipment_id}").get_data(as_text=True)
    assert f"/api/v1/runs/{story.run_id}/photos/{photo_id}/page.jpg" in page
    assert (
        client.get(f"/api/v1/runs/{story.run_id}/photos/{photo_id}/page.jpg").status_code == 200
    )  # the admin's session may see it
    response = client.post(f"/admin/shipments/{story.shipment_id}/photos/{photo_id}/hide")
    assert response.status_code == 303
    family = app.test_client()
    assert photo_id not in family.get(story.family_path).get_data(as_text=True)


def test_only_the_run_of_the_shipment_may_have_its_photo_hidden_there(client, db, story):
    other_run = make_synced_run(_db.session.get(Run, story.run_id).runner, mile_number=1295)
    _db.session.commit()
    photo_id = add_photo(other_run.id)
    sign_in(client, story.admin_email)
    response = client.post(f"/admin/shipments/{story.shipment_id}/photos/{photo_id}/hide")
    assert response.status_code == 404
    assert _db.session.get(Photo, photo_id).hidden_at is None


# --- the message reaches the runner -----------------------------------------------------------


def test_bootstrap_gives_the_runner_the_families_messages_newest_first(client, db, story):
    run = _db.session.get(Run, story.run_id)
    older = make_shipment(run)
    _db.session.commit()
    client.post(f"/f/{older.family_token}/ack", data={"message": "From the chief."})
    client.post(f"{story.family_path}/ack", data={"message": "We love the flag."})
    _db.session.get(Shipment, older.id).received_at = datetime(2024, 1, 1, tzinfo=UTC)
    _db.session.commit()

    messages = client.get("/api/v1/bootstrap", headers=story.headers).get_json()["messages"]
    received = reload(db, story.shipment_id).received_at
    assert messages == [
        {
            "run_id": story.run_id,
            "hero_name": "Officer Julian Becerra",
            "message": "We love the flag.",
            "received_at": received.isoformat().replace("+00:00", "Z"),
        },
        {
            "run_id": story.run_id,
            "hero_name": "Officer Julian Becerra",
            "message": "From the chief.",
            "received_at": "2024-01-01T00:00:00Z",
        },
    ]
    others = client.get(
        "/api/v1/bootstrap", headers={"Authorization": f"Bearer {story.other_token}"}
    ).get_json()
    assert others["messages"] == []


def test_taking_the_page_down_needs_the_pages_csrf_token(strict_app, strict_story):
    client = strict_app.test_client()
    assert client.post(f"{strict_story.family_path}/hide").status_code == 400
    assert client.get(strict_story.family_path).status_code == 200
    token = csrf_token(client.get(f"{strict_story.family_path}/hide").get_data(as_text=True))
    response = client.post(f"{strict_story.family_path}/hide", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get(strict_story.family_path).status_code == 410
