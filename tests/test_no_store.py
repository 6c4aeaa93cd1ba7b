"""Pages and answers that carry addresses, names or tokens are never stored by a browser or a
proxy: every /admin/ answer and every /api/ answer sends Cache-Control: no-store.

The rules come from app.url_map, so a page added later is checked without being listed here.
"""

import io
import re
import uuid

import sqlalchemy as sa
from PIL import Image

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Checkin, Device, Hero, Run, Runner, Track
from r4h_pwa.runs import photos
from tests.factories import ADDRESS, PASSWORD, bearer, build_story, make_device_token
from tests.helpers import sign_in

_PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")


def _photo(run_id: str) -> str:
    """A real photo of the run, stored the way an upload stores it; its id."""
    image = io.BytesIO()
    Image.new("RGB", (40, 20), "blue").save(image, "JPEG")
    photo, _ = photos.put_photo(
        _db.session.get(Run, run_id), str(uuid.uuid4()), image.getvalue(), "image/jpeg"
    )
    _db.session.commit()
    return photo.id


def _ids(story) -> dict[str, str]:
    """A real id for every URL argument the admin and API rules take."""

    def first(model, *where):
        return str(_db.session.scalar(sa.select(model.id).where(*where).limit(1)))

    return {
        "photo_id": _photo(story.run_id),
        "run_id": story.run_id,
        "shipment_id": story.shipment_id,
        "checkin_id": first(Checkin, Checkin.run_id == story.run_id),
        "hero_id": first(Hero),
        "runner_id": str(story.runner_id),
        "track_id": first(Track),
        "device_id": first(Device, Device.runner_id == story.runner_id),
    }


def _rules(app, prefix: str, method: str) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if (rule.rule == prefix.rstrip("/") or rule.rule.startswith(prefix))
        and method in rule.methods
    )


# Pages that also need a query string to show something (the plan form names its hero).
_QUERIES = {"/admin/coverage/plan": "?hero={hero_id}"}


def _fill(rule: str, ids: dict[str, str]) -> str:
    path = _PLACEHOLDER.sub(lambda match: ids[match.group(1)], rule)
    return path + _QUERIES.get(rule, "").format(**ids)


def _assert_no_store(response, path):
    assert response.status_code < 500, path
    assert response.headers.get("Cache-Control") == "no-store", (
        path,
        response.status_code,
        response.headers.get("Cache-Control"),
    )


def test_every_admin_page_is_no_store(app, client, db):
    story = build_story()
    ids = _ids(story)
    sign_in(client, story.admin_email)
    pages = _rules(app, "/admin/", "GET")
    assert len(pages) > 20 and "/admin/shipments/<shipment_id>" in pages
    for rule in pages:
        path = _fill(rule, ids)
        response = client.get(path)
        # The page itself, not a redirect or a 404 (a synced run cannot be edited: 409).
        assert response.status_code in (200, 409), path
        _assert_no_store(response, path)
        response.close()


def test_every_admin_form_answer_is_no_store(app, client, db):
    """Posted admin forms (a refusal with messages, or a redirect) are not stored either."""
    story = build_story()
    ids = _ids(story)
    sign_in(client, story.admin_email)
    forms = _rules(app, "/admin/", "POST")
    assert forms
    # Destructive posts last, so that the others still find what they change.
    for rule in sorted(forms, key=lambda rule: rule.endswith(("/delete", "/remove"))):
        path = _fill(rule, ids)
        _assert_no_store(client.post(path, data={}), path)


def test_admin_pages_are_no_store_for_anonymous_visitors_too(app, client, db):
    for rule in ("/admin/", "/admin/shipments"):
        response = client.get(rule)
        assert response.status_code in (302, 401, 403)
        _assert_no_store(response, rule)


_ADMIN_API = {"/api/v1/coverage"}


def test_every_bearer_api_answer_is_no_store(app, client, db):
    story = build_story()
    ids = _ids(story)
    headers = bearer(story.token)
    admin = _db.session.scalar(sa.select(Runner).where(Runner.email == story.admin_email))
    admin_headers = bearer(make_device_token(admin))
    _db.session.commit()
    answers = _rules(app, "/api/", "GET")
    assert "/api/v1/shipments/<shipment_id>" in answers
    for rule in answers:
        path = _fill(rule, ids)
        # The coverage queue is the team's: an admin's token reads it, a runner's gets 403.
        who = admin_headers if rule in _ADMIN_API else headers
        response = client.get(path, headers=who)
        assert response.status_code == 200, path
        _assert_no_store(response, path)
    created = client.post(f"/api/v1/runs/{story.run_id}/shipments", json=ADDRESS, headers=headers)
    assert created.status_code == 201
    _assert_no_store(created, "POST shipments")
    token = client.post(
        "/api/v1/auth/token",
        json={"email": story.runner_email, "password": PASSWORD, "device_name": "Phone"},
    )
    assert token.status_code == 200 and "token" in token.json
    _assert_no_store(token, "POST /api/v1/auth/token")


def test_api_errors_are_no_store(client, db):
    for path in ("/api/v1/bootstrap", "/api/v1/nope"):
        _assert_no_store(client.get(path), path)


def test_the_roster_still_answers_304_without_being_stored(client, db):
    story = build_story()
    path = f"/api/v1/runs/{story.run_id}/checkins"
    first = client.get(path, headers=bearer(story.token))
    _assert_no_store(first, path)
    conditional = {**bearer(story.token), "If-None-Match": first.headers["ETag"]}
    again = client.get(path, headers=conditional)
    assert again.status_code == 304


def test_public_pages_keep_their_own_caching(client, db):
    """The rule is for private answers: the app shell and the wall are not made no-store."""
    assert client.get("/app/").headers.get("Cache-Control") == "no-cache"
    assert "no-store" not in (client.get("/honor").headers.get("Cache-Control") or "")
