"""A runner's evening through the production setup: Debian's Chromium on the cluster's HTTPS
(nginx, two gunicorn servers, PostgreSQL, Redis, from deploy/), and the phone's photos.

The browser counts a mile offline, the tab is closed and opened again mid-run, an app server
dies before the signal comes back, and the run still reaches PostgreSQL through the other
one, once. Photos go up through nginx across a server crash and are stored once, served by
either server; nginx holds the photo body limit at exactly 8 MB.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.harness import (
    DEMO_PASSWORD,
    RUNNER_EMAIL,
    launch_chromium,
    shared_playwright,
)
from tests.e2e.steps import (
    finish,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]

MAX_PHOTO = 8 * 1024 * 1024  # nginx's client_max_body_size 8m, the app's MAX_PHOTO_BYTES
ACCESS_LINE = re.compile(r'"(\w+) (\S+) HTTP/[^"]+" (\d+) .* up=([^ ]+(?:, [^ ]+)*) ust=')

# The app's own IndexedDB, read directly: the bootstrap it cached, and the runs by status.
READ_OUTBOX = """async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("r4h");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const ask = (req) => new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const tx = db.transaction(["kv", "runs"]);
  const bootstrap = await ask(tx.objectStore("kv").get("bootstrap"));
  const outbox = await ask(tx.objectStore("runs").index("status").count("outbox"));
  db.close();
  return { next_mile: bootstrap.runner.next_mile_number, outbox };
}"""


@pytest.fixture(scope="module")
def demo(cluster):
    """The demo accounts, tracks and heroes (`flask seed-demo`, as on a fresh site)."""
    cluster.flask("seed-demo", "--password", DEMO_PASSWORD)
    return cluster


@pytest.fixture(scope="module")
def cluster_browser(cluster, browser):
    """Debian's Chromium trusting the cluster's throwaway certificate by its key.

    Playwright's ignore_https_errors is not enough: Chromium refuses a service worker from
    an origin whose certificate it had to ignore. The suite's browser fixture (which this
    one asks for) skips, or fails under R4H_REQUIRE_BROWSER, without Chromium, and sets
    expect()'s patience for a busy machine.
    """
    spki = cluster.nginx.certificate_spki()
    browser = launch_chromium(
        shared_playwright(), extra_args=(f"--ignore-certificate-errors-spki-list={spki}",)
    )
    yield browser
    browser.close()


@contextmanager
def _database(cluster):
    """The cluster's database through create_app, inside an app context."""
    from r4h_pwa import create_app
    from r4h_pwa.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": cluster.database_url.replace(
                "postgresql://", "postgresql+psycopg://", 1
            )
        }
    )
    with app.app_context():
        try:
            yield db
        finally:
            db.session.remove()
            db.engine.dispose()


def _logged(cluster, since: int, path_end: str) -> list:
    """nginx's access lines for paths ending so; nginx writes a line after the answer has
    gone, so wait for it a moment."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in _access_lines(cluster, since) if line[1].endswith(path_end)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _synced_runs(cluster) -> list[str]:
    """The ids of the demo runner's synced runs in PostgreSQL, oldest first."""
    from r4h_pwa.models import Run, Runner

    with _database(cluster) as db:
        ids = list(
            db.session.scalars(
                sa.select(Run.id)
                .join(Runner)
                .where(Runner.email == RUNNER_EMAIL, Run.synced_at.is_not(None))
                .order_by(Run.synced_at, Run.id)
            )
        )
    return ids


def _access_lines(cluster, since: int) -> list[tuple[str, str, int, list[str]]]:
    """nginx's access log from offset since: (method, path, status, upstreams tried)."""
    return [
        (m.group(1), m.group(2), int(m.group(3)), m.group(4).split(", "))
        for m in ACCESS_LINE.finditer(cluster.nginx.access_log()[since:])
    ]


@pytest.mark.e2e
def test_a_mile_counted_offline_syncs_once_through_the_surviving_server(demo, cluster_browser):
    cluster = demo
    cluster.redis.clear()  # the login limit's counts from other tests of the package
    a, b = cluster.servers
    synced_before = _synced_runs(cluster)
    origin = f"https://127.0.0.1:{cluster.nginx.https_port}"
    context = cluster_browser.new_context(base_url=origin, viewport={"width": 390, "height": 844})
    try:
        context.clock.install()
        page = context.new_page()
        open_app(page)
        sign_in(page)
        wait_for_service_worker(page)
        next_mile = page.evaluate(READ_OUTBOX)["next_mile"]
        context.set_offline(True)

        start_unplanned_run(page)
        tap_laps(page, 4)
        page.close()  # the phone's browser gives the tab up mid-run
        page = context.new_page()
        page.goto("/app/")  # offline: the service worker opens the app, the run resumes
        expect(page.get_by_test_id("lap-count")).to_have_text("4")
        tap_laps(page, 3)
        finish(page)
        expect(page.get_by_test_id("pending-count")).to_have_text("1")
        [run] = stored_runs(page)
        assert run["status"] == "outbox"
        assert [lap["seq"] for lap in run["laps"]] == [1, 2, 3, 4, 5, 6, 7]

        b.kill()  # SIGKILL to master and workers while the phone has no signal
        log_start = len(cluster.nginx.access_log())
        context.set_offline(False)

        expect(page.get_by_test_id("pending-count")).to_have_text("0", timeout=20_000)
        [run] = stored_runs(page)
        assert (run["status"], run["mile_number"]) == ("synced", next_mile)
        assert page.evaluate(READ_OUTBOX)["outbox"] == 0
    finally:
        context.close()
        if b.process.poll() is not None:
            cluster.restart(b)

    # Every sync after the crash was answered by the survivor (nginx tried b at most first).
    syncs = _logged(cluster, log_start, "/api/v1/sync")
    assert syncs and all(
        status == 200 and upstreams[-1] == f"127.0.0.1:{a.port}"
        for _, _, status, upstreams in syncs
    ), syncs
    print(f"\njourney: syncs after server b's crash went to {[u for *_, u in syncs]}")

    # PostgreSQL holds the laps tapped, in order and once, under the mile the phone showed.
    from r4h_pwa.models import Lap, Run, Runner

    assert _synced_runs(cluster) == [*synced_before, run["id"]]
    with _database(cluster) as db:
        runner = db.session.scalar(sa.select(Runner).where(Runner.email == RUNNER_EMAIL))
        laps = db.session.execute(
            sa.select(Lap.seq, Lap.elapsed_ms).where(Lap.run_id == run["id"]).order_by(Lap.seq)
        ).all()
        assert [tuple(lap) for lap in laps] == [
            (lap["seq"], lap["elapsed_ms"]) for lap in run["laps"]
        ]
        assert db.session.get(Run, run["id"]).mile_number == next_mile
        assert runner.total_miles == next_mile


def _jpeg(n: int, size: int = 64) -> bytes:
    """A photo of its own (the colour differs with n), size pixels square."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), (40 * n % 256, 90, 200 - 20 * n % 200)).save(out, "JPEG")
    return out.getvalue()


def _kill_the_server_handling_it(cluster, upload: threading.Thread):
    """SIGKILL the app server that nginx passed the upload to, while it is at it; None if
    the upload was answered before a server was seen at it."""
    while upload.is_alive():
        for server in cluster.servers:
            if server.connections():
                server.kill()
                return server
        time.sleep(0.002)
    return None


def _sign_in_phone(cluster) -> dict:
    """A device token for the demo runner, through nginx (as the app gets one)."""
    body = json.dumps(
        {"email": RUNNER_EMAIL, "password": DEMO_PASSWORD, "device_name": "Photo phone"}
    )
    status, _, answer = cluster.request(
        "POST", "/api/v1/auth/token", body, headers={"Content-Type": "application/json"}
    )
    assert status == 200, answer
    return json.loads(answer)


def _synced_run(cluster, phone: dict) -> str:
    """A run of the demo runner, synced through nginx; its id."""
    from r4h_pwa.models import Hero, Track

    with _database(cluster) as db:
        hero_id = db.session.scalars(sa.select(Hero.id).order_by(Hero.id)).first()
        track_id = db.session.scalar(
            sa.select(Track.id).where(Track.name == "Example Middle School track")
        )
    run = {
        "id": str(uuid.uuid4()),
        "hero_id": hero_id,
        "track_id": track_id,
        "started_at": "2025-03-01T14:00:00Z",
        "finished_at": "2025-03-01T14:12:00Z",
        "laps": [{"seq": n, "elapsed_ms": n * 90_000} for n in range(1, 8)],
        "checkins": [],
        "words": "For a hero.",
        "video_url": "",
    }
    status, _, answer = cluster.request(
        "POST",
        "/api/v1/sync",
        json.dumps({"device_id": phone["device_id"], "runs": [run]}),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {phone['token']}"},
    )
    assert status == 200 and json.loads(answer)["results"][0]["status"] == "created", answer
    return run["id"]


def test_photos_through_a_crash_are_stored_once_and_served_by_either_server(demo):
    cluster = demo
    cluster.redis.clear()
    a, b = cluster.servers
    phone = _sign_in_phone(cluster)
    bearer = {"Authorization": f"Bearer {phone['token']}"}
    run_id = _synced_run(cluster, phone)
    sent: dict[str, bytes] = {}
    answers: dict[str, dict] = {}

    def put(photo_id: str, data: bytes) -> tuple[int, dict, dict]:
        status, headers, body = cluster.request(
            "PUT",
            f"/api/v1/runs/{run_id}/photos/{photo_id}",
            data,
            headers={"Content-Type": "image/jpeg", **bearer},
        )
        return status, dict((n.lower(), v) for n, v in headers), json.loads(body)

    # Two photos, then the first again (the phone did not hear the answer): stored once.
    for n in (1, 2):
        photo_id = str(uuid.uuid4())
        status, _, answers[photo_id] = put(photo_id, _jpeg(n))
        assert status == 201, answers[photo_id]
        sent[photo_id] = _jpeg(n)
    first = next(iter(sent))
    assert put(first, sent[first])[::2] == (200, answers[first])
    # The same id with other bytes is refused, and the stored photo stays.
    status, _, body = put(first, _jpeg(9))
    assert status == 409 and body["error"]["code"] == "conflict"

    # An app server dies while it handles an upload: nginx sends the PUT to the other one.
    log_start = len(cluster.nginx.access_log())
    big = _jpeg(10, size=3000)  # a few tenths of a second to clean: time to kill its server
    killed, tries = None, 0
    try:
        while killed is None and tries < 3:  # an upload done before the kill goes again
            tries += 1
            photo_id = str(uuid.uuid4())
            reply: list = []
            upload = threading.Thread(
                target=lambda i, into: into.append(put(i, big)), args=(photo_id, reply)
            )
            upload.start()
            killed = _kill_the_server_handling_it(cluster, upload)
            upload.join(timeout=60)
            status, _, answers[photo_id] = reply[0]
            assert status in (200, 201), answers[photo_id]  # 200: stored before it died
            sent[photo_id] = big
        assert killed is not None, "every upload was done before its server could be killed"
        [survivor] = [server for server in cluster.servers if server is not killed]
        [(_, _, _, upstreams)] = _logged(cluster, log_start, photo_id)
        assert upstreams == [f"127.0.0.1:{killed.port}", f"127.0.0.1:{survivor.port}"]
        print(
            f"\nphotos: server {killed.name} killed mid-upload (try {tries}); the upload "
            f"answered {status} by {survivor.name}"
        )

        # More photos while it is down: each answered (nginx skips or gets past the dead one).
        for n in range(3, 6):
            photo_id = str(uuid.uuid4())
            status, _, answers[photo_id] = put(photo_id, _jpeg(n))
            assert status == 201, answers[photo_id]
            sent[photo_id] = _jpeg(n)
        # The phone sends each again too, as its outbox does after a dropped answer.
        for photo_id, data in sent.items():
            assert put(photo_id, data)[::2] == (200, answers[photo_id])
    finally:
        if killed is not None:
            cluster.restart(killed)

    # Each acknowledged photo is stored once, and either server serves it from PostgreSQL.
    from r4h_pwa.models import Photo

    with _database(cluster) as db:
        stored = {
            photo.id: photo.jpeg
            for photo in db.session.scalars(sa.select(Photo).where(Photo.run_id == run_id))
        }
    assert sorted(stored) == sorted(sent)
    for photo_id, jpeg in stored.items():
        for server in (a, b):
            status, headers, body = cluster.request(
                "GET", f"/api/v1/runs/{run_id}/photos/{photo_id}.jpg", headers=bearer, server=server
            )
            assert (status, dict(headers)["Content-Type"], body) == (200, "image/jpeg", jpeg)
        assert answers[photo_id]["url"].endswith(f"/photos/{photo_id}.jpg")

    # nginx's limit is 8 MB exactly: one byte more is refused before the app, in the API's
    # error shape; 8 MB itself reaches the app (which finds no image in it).
    status, headers, body = put(str(uuid.uuid4()), b"\xff" * (MAX_PHOTO + 1))
    assert status == 413 and headers["content-type"] == "application/json"
    assert body["error"]["code"] == "payload_too_large" and "x-request-id" not in headers
    status, headers, body = put(str(uuid.uuid4()), b"\xff" * MAX_PHOTO)
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    assert "x-request-id" in headers  # the app answered this one
    with _database(cluster) as db:
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Photo).where(Photo.run_id == run_id)
        )
    assert count == len(sent)
