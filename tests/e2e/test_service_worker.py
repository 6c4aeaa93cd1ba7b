"""The service worker: updates wait for the end of a run, caches, fallbacks, Background Sync."""

import socket
import threading
import time

from playwright.sync_api import expect

from r4h_pwa.models import Photo, Run

from .steps import (
    an_unsent_mile,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    wait_for_service_worker,
)
from .test_ceremony_photos import photo_with_gps, read_photos

CACHE_NAMES = "caches.keys()"
# The new version's state once it waits, or null after 15 s. A worker becomes the waiting one
# a moment before its state turns "installed": a loaded CI machine once read "installing".
WAIT_FOR_WAITING = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  await registration.update();
  for (let i = 0; i < 600 && registration.waiting?.state !== "installed"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return registration.waiting ? registration.waiting.state : null;
}"""
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
  }
  return urls;
}"""


def test_a_new_version_never_takes_over_in_the_middle_of_a_run(page, server):
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    page.evaluate("caches.open('another-app')")
    old_caches = page.evaluate(CACHE_NAMES)
    start_unplanned_run(page)

    server.fail("new-sw")  # the next /sw.js is a new version, as after a deploy
    assert page.evaluate(WAIT_FOR_WAITING) == "installed"
    page.reload()  # even a reload mid-run keeps the running version

    expect(page.get_by_test_id("lap-button")).to_be_visible()
    expect(page.get_by_test_id("update-ready")).to_be_hidden()
    names = page.evaluate(CACHE_NAMES)
    assert set(old_caches) <= set(names)  # the running version keeps its caches
    assert any("-shell-new-" in name for name in names)
    assert page.evaluate("navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")

    page.get_by_test_id("finish-run").click()
    page.get_by_test_id("confirm-finish").click()  # no lap: the start is dropped
    expect(page.get_by_test_id("update-ready")).to_be_visible()
    with page.expect_event("load"):
        page.get_by_test_id("update-ready").click()

    names = page.evaluate(CACHE_NAMES)
    assert "another-app" in names  # only its own old caches are deleted
    r4h = [n for n in names if n.startswith("r4h-")]
    assert r4h and all("-new-" in n for n in r4h)
    assert not set(old_caches) - {"another-app"} & set(names)


def test_the_app_opens_from_cache_with_a_server_that_never_answers(context, page, server):
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    server.stop()
    black_hole = socket.socket()  # one bar of signal: connections open, nothing comes back
    black_hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    black_hole.bind(("127.0.0.1", server.port))
    black_hole.listen(16)
    asked, stop = [], threading.Event()
    listener = threading.Thread(target=_note_requests, args=(black_hole, asked, stop))
    listener.start()
    try:
        page.reload(wait_until="domcontentloaded")
        expect(page.locator("body")).to_have_attribute("data-screen", "runs")
        start_unplanned_run(page)
    finally:
        stop.set()
        listener.join()
        black_hole.close()
    # Had the shell waited on the network (the worker's 6 s timeout), its request would
    # be here. Only the API and the browser's own update check of /sw.js may ask.
    assert [line for line in asked if not line.split()[1].startswith(("/api/", "/sw.js"))] == []


def _note_requests(black_hole, asked: list, stop) -> None:
    """Accept every connection, note its request line, and never answer."""
    black_hole.settimeout(0.05)
    held = []
    while not stop.is_set():
        try:
            connection, _ = black_hole.accept()
        except TimeoutError:
            continue
        held.append(connection)
        connection.settimeout(5)
        try:
            line = connection.recv(4096).decode("latin-1").split("\r\n", 1)[0]
        except TimeoutError:
            continue  # a preconnect that never asked for anything
        if line:
            asked.append(line)
    for connection in held:
        connection.close()


def test_other_pages_fall_back_to_the_offline_page(context, page, server):
    open_app(page)
    wait_for_service_worker(page)
    context.set_offline(True)

    page.goto("/login")

    expect(page.get_by_role("heading", name="No connection")).to_be_visible()
    expect(page.get_by_role("link", name="Open the lap counter")).to_have_attribute("href", "/app/")


def test_the_api_is_never_cached(page, server):
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    page.reload()
    expect(page.get_by_test_id("planned-run").first).to_be_visible()

    urls = page.evaluate(CACHED_URLS)

    assert any(url.endswith("/app/") for url in urls)
    assert not [url for url in urls if "/api/" in url]


def sync_with_no_window_open(context, page, server):
    """Close the app's page, come back online, and have DevTools dispatch the `sync` event to
    the real service worker; returns the blank page (not a window of the app) it runs from.

    Chromium fires Background Sync only when it judges the network back, which a test cannot
    trigger; what the worker does with the event is the real thing."""
    devtools_page = context.new_page()  # about:blank: not a window of the app
    cdp = context.new_cdp_session(devtools_page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.close()
    context.set_offline(False)
    deadline = time.monotonic() + 30
    while not registrations and time.monotonic() < deadline:
        devtools_page.wait_for_timeout(50)
    [registration] = [r for r in registrations if r["scopeURL"] == f"{server.url}/"][:1]
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": server.url,
            "registrationId": registration["registrationId"],
            "tag": "r4h-outbox",
            "lastChance": False,
        },
    )
    return devtools_page


def stored_on_the_server(devtools_page, server_db, find):
    """What find(db) returns once it returns something, within 30 s (None after)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with server_db() as db:
            if (found := find(db)) is not None:
                return found
        devtools_page.wait_for_timeout(100)
    return None


def test_a_sync_event_dispatched_through_devtools_with_no_window_open_pushes_the_run(
    context, page, server, server_db
):
    context.clock.install()
    an_unsent_mile(context, page)
    [run] = stored_runs(page)

    devtools_page = sync_with_no_window_open(context, page, server)
    laps = stored_on_the_server(
        devtools_page,
        server_db,
        lambda db: (stored := db.session.get(Run, run["id"])) and len(stored.laps),
    )
    assert laps == 7
    page = context.new_page()
    page.goto("/app/")
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    assert stored_runs(page)[0]["status"] == "synced"


def test_a_photo_of_a_run_waiting_offline_goes_with_it_on_a_sync_event_with_no_window_open(
    context, page, server, server_db
):
    context.clock.install()
    an_unsent_mile(context, page)
    page.get_by_test_id("photo-take").set_input_files(
        {"name": "flag.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    )
    expect(page.get_by_test_id("photo-status")).to_have_text(
        "On this phone; it sends after the run."
    )
    [run], [photo] = stored_runs(page), read_photos(page)

    devtools_page = sync_with_no_window_open(context, page, server)
    row = stored_on_the_server(
        devtools_page, server_db, lambda db: db.session.get(Photo, photo["id"])
    )
    assert row is not None and row.run_id == run["id"]
    assert (row.width, row.height) == (1600, 1200)
    # The app, opened again, finds the photo sent and keeps only its thumbnail.
    page = context.new_page()
    page.goto("/app/")
    expect(page.get_by_test_id("pending-count")).to_have_text("0")
    deadline = time.monotonic() + 15
    while not (kept := read_photos(page)[0]).get("thumb") and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert kept["sent"] and kept.get("thumb") and not kept["error"]
