"""Every request's body is read to its end before the answer goes (jsonbody._read_the_rest),
up to DRAIN_MOST bytes, whatever the view read of it.

A body left unread makes the WSGI server close the connection under nginx's keep-alive, and
nginx marks the app server failed (tests/cluster/test_cluster.py drives that through a real
nginx). These tests watch the WSGI input itself, through create_app and the test client.
"""

import io
import uuid

import pytest

from r4h_pwa.jsonbody import DRAIN_MOST
from r4h_pwa.runs.photos import MAX_PHOTO_BYTES
from tests.factories import run_payload
from tests.helpers import sync


@pytest.fixture
def database_url(sqlite_only):
    """Reading a body is the same on either database."""
    return sqlite_only


def photo_url(run_id: str) -> str:
    return f"/api/v1/runs/{run_id}/photos/{uuid.uuid4()}"


def send(client, url: str, size: int, headers: dict, chunked=False) -> tuple[int, io.BytesIO]:
    """PUT size bytes from a stream the test can look into; the status and the stream.

    chunked: with no Content-Length, as a body sent in chunks arrives from gunicorn (which
    says where it ends, wsgi.input_terminated)."""
    body = io.BytesIO(b"\0" * size)
    framing = {"content_length": size}
    if chunked:
        framing = {"environ_overrides": {"wsgi.input_terminated": True}}
        headers = {**headers, "Transfer-Encoding": "chunked"}
    response = client.put(
        url, input_stream=body, headers={**headers, "Content-Type": "image/jpeg"}, **framing
    )
    return response.status_code, body


def test_a_photo_refused_before_it_is_read_is_read_to_its_end(client, phone):
    # The app answers 401 before it reads a photo. 8 MB is over the app's own 1 MB limit.
    status, body = send(client, photo_url(str(uuid.uuid4())), MAX_PHOTO_BYTES, {})
    assert status == 401
    assert body.tell() == MAX_PHOTO_BYTES


@pytest.mark.parametrize("chunked", [False, True], ids=["with its length", "in chunks"])
def test_a_photo_over_the_limit_is_refused_and_read_to_its_end(client, phone, chunked):
    # With its length, the view refuses it unread; in chunks, it reads one byte past the
    # limit first, and the rest is read from where the view stopped.
    run = run_payload(phone)
    assert sync(client, phone, run).status_code == 200
    size = MAX_PHOTO_BYTES + 64 * 1024
    status, body = send(client, photo_url(run["id"]), size, phone.headers, chunked)
    assert status == 413
    assert body.tell() == size


def test_a_body_past_drain_most_is_left_unread(client, phone):
    status, body = send(client, photo_url(str(uuid.uuid4())), DRAIN_MOST + 1, {})
    assert status == 401
    assert body.tell() == 0  # not worth reading: nginx never lets so much through
