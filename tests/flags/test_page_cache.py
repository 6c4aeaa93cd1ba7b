"""The family page and the wall are rendered once and reused until the data changes.

Each test runs with the in-process cache and with real Redis (a database number and a key
prefix of its own). "Rendered once" is checked by counting the SQL statements a request
sends: a page from the cache sends none. "Until the data changes" is checked through the
real write paths: the family's acknowledgement, a photo hidden on the phone, a run synced,
a check-in by QR, the flag shipped, the page taken down and restored, a hero renamed. A
family page is its run's: a write to another run leaves it in the cache.
"""

import io
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import redis
from PIL import Image
from sqlalchemy import event

from r4h_pwa import pagecache
from r4h_pwa.checkin import service as checkin_service
from r4h_pwa.extensions import db as _db
from r4h_pwa.flags import wall
from r4h_pwa.models import Run
from tests.factories import (
    ADDRESS,
    make_hero,
    make_run,
    make_shipment,
    make_synced_run,
)
from tests.helpers import csrf_token, sign_in

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(params=["memory", "redis"])
def app_config(app_config, request):
    """The page cache in this process, or in Redis under a prefix of this test's own."""
    if request.param == "redis":
        prefix = f"r4h-test-{uuid.uuid4().hex}:"
        app_config.update(PAGE_CACHE_URL=REDIS_URL, PAGE_CACHE_PREFIX=prefix)
        yield app_config
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
    else:
        app_config["PAGE_CACHE_URL"] = "memory://"
        yield app_config


@contextmanager
def statements(app):
    """The SQL statements sent while the block runs."""
    sent = []
    with app.app_context():
        engine = _db.engine

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "navy").save(out, "JPEG")
    return out.getvalue()


def test_the_family_page_is_rendered_once_then_served_without_the_database(app, client, story):
    first = client.get(story.family_path)
    assert first.status_code == 200
    with statements(app) as sent:
        again = client.get(story.family_path)
    assert again.status_code == 200
    assert sent == []
    assert again.get_data() == first.get_data()


@contextmanager
def redis_commands():
    """How many commands (or pipelines, or scripts) reach Redis while the block runs."""
    sent = []
    send = redis.connection.Connection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    redis.connection.Connection.send_packed_command = counted
    try:
        yield sent
    finally:
        redis.connection.Connection.send_packed_command = send


ON_REDIS_ONLY = pytest.mark.parametrize("app_config", ["redis"], indirect=True)


@ON_REDIS_ONLY  # the in-process cache makes no round trips
def test_a_cached_family_page_is_one_redis_round_trip(app, client, story):
    client.get(story.family_path)
    client.get(story.family_path)  # the read script is loaded into Redis once
    with redis_commands() as sent:
        assert client.get(story.family_path).status_code == 200
    assert len(sent) == 1


@ON_REDIS_ONLY  # only Redis can lose a key (eviction, a restart without persistence)
def test_a_family_page_whose_run_version_was_lost_is_rendered_again(app, client, story):
    client.get(story.family_path)
    store = redis.Redis.from_url(REDIS_URL)
    prefix = app.config["PAGE_CACHE_PREFIX"]
    store.delete(f"{prefix}run-version:{story.run_id}")
    store.close()
    with statements(app) as sent:
        assert client.get(story.family_path).status_code == 200
    assert sent != []  # rendered again, not taken from the cache
    with statements(app) as sent:
        assert client.get(story.family_path).status_code == 200
    assert sent == []  # and kept at the run's new version


@ON_REDIS_ONLY  # only Redis keeps a key for every run, beyond this process
def test_a_run_version_in_redis_expires_after_its_pages_and_the_base_versions_never_do(
    app, client, story
):
    store = redis.Redis.from_url(REDIS_URL)
    prefix = app.config["PAGE_CACHE_PREFIX"]
    seconds = app.config["PAGE_CACHE_SECONDS"]
    run_key = f"{prefix}run-version:{story.run_id}"
    client.get(story.family_path)  # the page is kept at a run version made for it
    made = store.ttl(run_key)
    assert client.post(f"{story.family_path}/ack", data={"message": "Thank you"}).status_code == 303
    bumped = store.get(run_key), store.ttl(run_key)
    client.get("/honor")
    bases = store.ttl(f"{prefix}content-version"), store.ttl(f"{prefix}family-version")
    store.close()
    assert seconds < made <= 2 * seconds
    assert bumped[0] is not None and seconds < bumped[1] <= 2 * seconds  # a write renews it
    assert bases == (-1, -1)  # two keys in all, kept for good


def test_the_in_process_cache_keeps_as_many_run_versions_as_pages_and_never_serves_stale():
    pages = pagecache.MemoryPages(seconds=60, size=2)
    page = pagecache.CachedPage("<p>run a</p>", '"a"', datetime.now(UTC))
    _, missing = pages.read("family:a", "family")
    pages.write("family:a", f"{pages.versions['family']}|a:{pages.run_version('a')}", page)
    assert missing is None and pages.read("family:a", "family")[1] is page
    pages.run_version("b"), pages.run_version("c")  # two more runs: a's version goes
    assert list(pages.runs) == ["b", "c"]
    assert pages.read("family:a", "family")[1] is None  # rendered again, not served stale


def test_the_wall_is_rendered_once_for_each_query(app, client, story):
    client.get("/honor")
    with statements(app) as sent:
        assert client.get("/honor").status_code == 200
    assert sent == []
    with statements(app) as sent:
        assert client.get("/honor?page=2").status_code == 200
    assert sent != []  # another query is another page


def test_the_wall_cache_keeps_each_query_apart(app, client, db, story, monkeypatch):
    monkeypatch.setattr(wall, "WALL_PAGE_SIZE", 1)
    run = db.session.get(Run, story.run_id)
    make_synced_run(run.runner, mile_number=1295, hero=make_hero(name="Second Hero"))
    db.session.commit()
    first = client.get("/honor?page=1").get_data(as_text=True)
    second = client.get("/honor?page=2").get_data(as_text=True)
    assert ("Second Hero" in first) != ("Second Hero" in second)
    assert client.get("/honor?page=1").get_data(as_text=True) == first
    assert client.get("/honor?page=2").get_data(as_text=True) == second


def test_an_acknowledgement_shows_on_the_next_family_page(client, story):
    assert 'data-testid="received"' not in client.get(story.family_path).get_data(as_text=True)
    assert client.post(f"{story.family_path}/ack", data={"message": "Thank you"}).status_code == 303
    assert 'data-testid="received"' in client.get(story.family_path).get_data(as_text=True)


def test_a_photo_hidden_on_the_phone_leaves_the_family_page_at_once(client, story):
    photo_id = str(uuid.uuid4())
    put = client.put(
        f"/api/v1/runs/{story.run_id}/photos/{photo_id}",
        data=_jpeg(),
        headers={**story.headers, "Content-Type": "image/jpeg"},
    )
    assert put.status_code == 201
    assert photo_id in client.get(story.family_path).get_data(as_text=True)
    hidden = client.patch(
        f"/api/v1/runs/{story.run_id}/photos/{photo_id}",
        json={"hidden": True},
        headers=story.headers,
    )
    assert hidden.status_code == 200
    assert photo_id not in client.get(story.family_path).get_data(as_text=True)


def _sync_another_run(client, db, story) -> None:
    """The story's runner syncs a new run for the same hero, on the same track."""
    run = db.session.get(Run, story.run_id)
    device_id = run.runner.devices[0].id
    new_run = {
        "id": str(uuid.uuid4()),
        "hero_id": run.hero_id,
        "track_id": run.track_id,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:12:00Z",
        "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, 8)],
        "checkins": [
            {
                "id": str(uuid.uuid4()),
                "name": "Sgt. Dana Reyes",
                "agency": "Example PD",
                "role": "escort",
                "public": True,
            }
        ],
        "words": "",
        "video_url": "",
    }
    synced = client.post(
        "/api/v1/sync", json={"device_id": device_id, "runs": [new_run]}, headers=story.headers
    )
    assert synced.json["results"][0]["status"] == "created"


def test_a_synced_run_shows_on_the_wall_at_once(client, db, story):
    before = client.get("/honor")
    assert 'data-testid="team-miles">1,294<' in before.get_data(as_text=True)
    _sync_another_run(client, db, story)
    after = client.get("/honor", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert 'data-testid="team-miles">1,295<' in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_page_the_family_took_down_is_gone_at_once(client, story):
    assert client.get(story.family_path).status_code == 200
    assert client.post(f"{story.family_path}/hide").status_code == 303
    assert client.get(story.family_path).status_code == 410


def test_an_unchanged_wall_answers_304_to_its_etag_and_its_date(client, story):
    first = client.get("/honor")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, no-cache"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = client.get("/honor", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.get_data() == b""
    assert by_etag.headers["ETag"] == etag
    assert by_etag.headers["Cache-Control"] == "public, no-cache"
    by_date = client.get("/honor", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    other = client.get("/honor", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()


def test_the_family_page_stays_no_store_with_no_validators(client, story):
    for _ in range(2):  # rendered, then from the cache
        response = client.get(story.family_path)
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_cached_family_page_carries_each_visitors_own_csrf_token(strict_app, strict_story):
    first, second = strict_app.test_client(), strict_app.test_client()
    token_one = csrf_token(first.get(strict_story.family_path).get_data(as_text=True))
    token_two = csrf_token(second.get(strict_story.family_path).get_data(as_text=True))
    assert token_one != token_two
    assert "r4h-csrf-token-slot" not in token_two
    ack = second.post(
        f"{strict_story.family_path}/ack", data={"message": "Thank you", "csrf_token": token_two}
    )
    assert ack.status_code == 303


def test_a_returning_visitor_is_sent_no_new_session_cookie(strict_app, strict_story):
    visitor = strict_app.test_client()
    first = visitor.get(strict_story.family_path)
    assert "Set-Cookie" in first.headers  # the session that holds the form's CSRF token
    again = visitor.get(strict_story.family_path)
    assert "Set-Cookie" not in again.headers  # nothing in the session changed: not written
    token = csrf_token(again.get_data(as_text=True))
    ack = visitor.post(
        f"{strict_story.family_path}/ack", data={"message": "Thank you", "csrf_token": token}
    )
    assert ack.status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_are_served_when_redis_is_down(app_config, request):
    app_config.update(PAGE_CACHE_URL="redis://127.0.0.1:1/0")
    app = request.getfixturevalue("app")
    story = request.getfixturevalue("story")
    client = app.test_client()
    assert client.get(story.family_path).status_code == 200
    assert client.get("/honor").status_code == 200
    assert client.post(f"{story.family_path}/ack", data={"message": "x"}).status_code == 303


# --- a family page is its run's -----------------------------------------------------------------


def test_a_sync_of_another_run_leaves_the_family_page_in_the_cache(app, client, db, story):
    first = client.get(story.family_path)
    _sync_another_run(client, db, story)
    assert 'data-testid="team-miles">1,295<' in client.get("/honor").get_data(as_text=True)
    with statements(app) as sent:
        again = client.get(story.family_path)
    assert again.status_code == 200
    assert sent == []  # from the cache: the other run is not on this page
    assert again.get_data() == first.get_data()


def test_a_sync_of_a_planned_run_shows_on_its_family_page_at_once(client, db, story):
    run = db.session.get(Run, story.run_id)
    planned = make_run(run.runner, hero=run.hero, track=run.track, words="")
    family_path = f"/f/{make_shipment(planned).family_token}"
    db.session.commit()
    assert "Ran it at dawn" not in client.get(family_path).get_data(as_text=True)
    payload = {
        "id": planned.id,
        "hero_id": run.hero_id,
        "track_id": run.track_id,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:12:00Z",
        "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, 8)],
        "checkins": [],
        "words": "Ran it at dawn for Officer Becerra.",
        "video_url": "",
    }
    synced = client.post(
        "/api/v1/sync",
        json={"device_id": run.runner.devices[0].id, "runs": [payload]},
        headers=story.headers,
    )
    assert synced.json["results"][0]["status"] == "created"
    assert "Ran it at dawn" in client.get(family_path).get_data(as_text=True)


def test_a_sync_of_a_new_run_bumps_that_runs_family_version(app, client, db, story):
    """The run is new, so no page of it is kept yet: what a sync must leave is a new version
    of the run, or a page kept from a read that raced the sync would pass for the new one."""
    run = db.session.get(Run, story.run_id)
    run_id = str(uuid.uuid4())
    pages = app.extensions["page_cache"]
    before, other = pages.run_version(run_id), pages.run_version(story.run_id)
    synced = client.post(
        "/api/v1/sync",
        json={
            "device_id": run.runner.devices[0].id,
            "runs": [
                {
                    "id": run_id,
                    "hero_id": run.hero_id,
                    "track_id": run.track_id,
                    "started_at": "2025-03-01T14:00:00Z",
                    "finished_at": "2025-03-01T14:12:00Z",
                    "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, 8)],
                    "checkins": [],
                    "words": "",
                    "video_url": "",
                }
            ],
        },
        headers=story.headers,
    )
    assert synced.json["results"][0]["status"] == "created"
    assert pages.run_version(run_id) != before
    assert pages.run_version(story.run_id) == other


def test_a_check_in_by_qr_shows_on_the_family_page_at_once(client, db, story, monkeypatch):
    run = db.session.get(Run, story.run_id)
    token, finished = run.checkin_token, run.finished_at
    # Check-in stays open for a day after the mile: an escort checks in an hour after it.
    monkeypatch.setattr(checkin_service, "utcnow", lambda: finished + timedelta(hours=1))
    assert "Deputy Dana Whitfield" not in client.get(story.family_path).get_data(as_text=True)
    checked_in = client.post(
        f"/c/{token}",
        data={
            "name": "Deputy Dana Whitfield",
            "agency": "Orange County SO",
            "badge": "4411",
            "role": "escort",
            "public": "y",
        },
    )
    assert checked_in.status_code == 200
    assert "Deputy Dana Whitfield" in client.get(story.family_path).get_data(as_text=True)


def test_a_photo_uploaded_shows_on_the_family_page_at_once(client, story):
    client.get(story.family_path)
    photo_id = str(uuid.uuid4())
    put = client.put(
        f"/api/v1/runs/{story.run_id}/photos/{photo_id}",
        data=_jpeg(),
        headers={**story.headers, "Content-Type": "image/jpeg"},
    )
    assert put.status_code == 201
    assert photo_id in client.get(story.family_path).get_data(as_text=True)


def test_the_flag_shipped_with_tracking_shows_on_the_family_page_at_once(app, db, story):
    family = app.test_client()
    assert 'data-testid="on-its-way"' not in family.get(story.family_path).get_data(as_text=True)
    admin = app.test_client()
    sign_in(admin, story.admin_email)
    data = {
        **ADDRESS,
        "handwritten_note": "y",
        "carrier": "FedEx",
        "tracking_number": "123456789012",
    }
    assert admin.post(f"/admin/shipments/{story.shipment_id}/edit", data=data).status_code == 303
    html = family.get(story.family_path).get_data(as_text=True)
    assert 'data-testid="on-its-way"' in html
    assert "https://www.fedex.com/fedextrack/?trknbr=123456789012" in html


def test_the_familys_acknowledgement_with_a_message_shows_on_their_page_at_once(client, story):
    client.get(story.family_path)
    ack = client.post(f"{story.family_path}/ack", data={"message": "He would have loved this"})
    assert ack.status_code == 303
    html = client.get(story.family_path).get_data(as_text=True)
    assert 'data-testid="received"' in html
    assert "Send the message" in html  # the form now offers another message
    assert "He would have loved this" not in html  # the message is the runner's to read


def test_a_page_taken_down_and_restored_is_back_at_once(app, client, story):
    before = client.get(story.family_path).get_data()
    assert client.post(f"{story.family_path}/hide").status_code == 303
    assert client.get(story.family_path).status_code == 410
    admin = app.test_client()
    sign_in(admin, story.admin_email)
    assert admin.post(f"/admin/shipments/{story.shipment_id}/restore").status_code == 303
    back = client.get(story.family_path)
    assert back.status_code == 200
    assert back.get_data() == before


def test_an_admin_renaming_the_hero_shows_on_the_family_page_at_once(app, client, db, story):
    hero = db.session.get(Run, story.run_id).hero
    assert hero.name in client.get(story.family_path).get_data(as_text=True)
    admin = app.test_client()
    sign_in(admin, story.admin_email)
    data = {
        "name": "Julian A. Becerra",
        "rank": hero.rank or "",
        "agency": hero.agency,
        "state": hero.state or "",
        "kind": hero.kind,
        "end_of_watch": hero.end_of_watch.isoformat() if hero.end_of_watch else "",
    }
    assert admin.post(f"/admin/heroes/{hero.id}/edit", data=data).status_code == 303
    assert "Julian A. Becerra" in client.get(story.family_path).get_data(as_text=True)
