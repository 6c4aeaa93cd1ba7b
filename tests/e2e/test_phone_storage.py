"""What the phone keeps, and what it tells the server about its outbox, in Chromium.

A sent photo shrinks to a thumbnail in IndexedDB; photos never outlive their run; the sync
says how long the oldest run waited; the silence on the hero card is sent as "before".
"""

import io
import json
import time
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from r4h_pwa.models import Photo, Run

from .steps import (
    an_unsent_mile,
    finish_and_wait_for_sync,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)
from .test_ceremony_photos import photo_with_gps, read_photos

PUT_PHOTOS = """async (photos) => {
  const db = await import("/static/js/db.js");
  for (const { bytes, ...photo } of photos) {
    await db.putPhoto({ ...photo, bytes: new Uint8Array(bytes).buffer, width: 1600, height: 1200,
      added_at: new Date().toISOString(), hidden: false, server_hidden: false, error: null });
  }
}"""


def jpeg_of(size) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (31, 86, 199)).save(out, "JPEG")
    return out.getvalue()


def test_a_sent_photo_leaves_a_thumbnail_that_the_done_screen_shows_offline(
    context, page, server_db
):
    context.clock.install()
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    start_unplanned_run(page)
    tap_laps(page, 7)
    finish_and_wait_for_sync(page)
    page.get_by_test_id("photo-take").set_input_files(
        {"name": "flag.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    )
    expect(page.get_by_test_id("photo-status")).to_have_text("Sent.", timeout=15_000)

    [photo] = read_photos(page)
    assert photo["sent"] and photo["thumb"]
    assert (photo["width"], photo["height"]) == (1600, 1200)  # the photo as the server has it
    thumbnail = Image.open(io.BytesIO(bytes(photo["bytes"])))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (480, 360))
    with server_db() as db:
        row = db.session.get(Photo, photo["id"])
        assert (row.width, row.height) == (1600, 1200)
        assert len(photo["bytes"]) * 4 < len(row.jpeg)

    # No signal, a cold start: the done screen still shows the photo, from the thumbnail.
    context.set_offline(True)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    page.get_by_role("button", name="Open").first.click()
    shown = page.get_by_test_id("run-photo").locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 480", arg=shown.element_handle()
    )
    expect(page.get_by_test_id("photo-status")).to_have_text("Sent.")


def test_the_photos_of_a_start_finished_with_no_laps_go_with_it(page):
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    [run] = stored_runs(page)
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("counter-photo-button").click()
    chooser.value.set_files(
        {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg_of((800, 600))}
    )
    expect(page.locator("#notice")).to_have_text("Photo kept with the run.")
    assert [p["run_id"] for p in read_photos(page)] == [run["id"]]

    page.get_by_test_id("finish-run").click()
    expect(page.locator("#confirm-text")).to_have_text(
        "No laps were counted. Finishing drops this start, and any photo taken during it."
    )
    page.get_by_test_id("confirm-finish").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    assert stored_runs(page) == [] and read_photos(page) == []


def wait_for_tidy(page, kept: int) -> list[dict]:
    """Poll from here, one read at a time, until kept photos are left, all thumbnails."""
    deadline = time.monotonic() + 20
    while len(photos := read_photos(page)) != kept or not all(p.get("thumb") for p in photos):
        assert time.monotonic() < deadline, [(p["id"], p.get("thumb")) for p in photos]
        time.sleep(0.1)
    return photos


def test_an_orphaned_photo_is_deleted_and_an_old_app_sent_photo_thinned_as_the_app_starts(
    context, page
):
    context.clock.install()
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 7)
    run = finish_and_wait_for_sync(page)
    full = list(jpeg_of((1600, 1200)))
    orphan = {"id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()), "sent": False, "bytes": full}
    sent = {"id": str(uuid.uuid4()), "run_id": run["id"], "sent": True, "bytes": full}
    page.evaluate(PUT_PHOTOS, [orphan, sent])  # as a phone with the previous app holds them

    page.reload()
    [kept] = wait_for_tidy(page, kept=1)
    assert (kept["id"], kept["sent"], kept["width"]) == (sent["id"], True, 1600)
    assert Image.open(io.BytesIO(bytes(kept["bytes"]))).size == (480, 360)


def test_a_sync_attempt_reads_no_photo_to_tidy_and_adding_a_photo_tidies(context, page):
    context.clock.install()
    an_unsent_mile(context, page)
    orphan = {"id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()), "sent": False,
              "bytes": list(jpeg_of((1600, 1200)))}  # fmt: skip
    page.evaluate(PUT_PHOTOS, [orphan])

    context.set_offline(False)
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    # Every sync attempt (on "Sync now", online, each return to the app) left it alone.
    assert [p["id"] for p in read_photos(page)] == [orphan["id"]]

    page.get_by_test_id("photo-take").set_input_files(
        {"name": "flag.jpg", "mimeType": "image/jpeg", "buffer": jpeg_of((800, 600))}
    )
    [kept] = wait_for_tidy(page, kept=1)  # the orphan is gone; the new photo is sent, thinned
    assert kept["id"] != orphan["id"]


def test_the_sync_says_how_long_the_oldest_run_waited(context, page, server_db):
    context.clock.install()
    an_unsent_mile(context, page)
    page.clock.fast_forward(10 * 60_000)  # ten minutes with no signal

    sent = []
    page.on(
        "requestfinished",
        lambda request: (
            request.url.endswith("/api/v1/sync") and sent.append(request.post_data_json)
        ),
    )
    context.set_offline(False)
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    [run] = stored_runs(page)
    assert sent and all(body["runs"][0]["id"] == run["id"] for body in sent)
    assert all(600 <= body["outbox_age_seconds"] <= 620 for body in sent)
    with server_db() as db:
        assert db.session.get(Run, run["id"]).status == "synced"


def test_a_silence_on_the_hero_card_is_sent_as_before_and_not_shown_as_after(context, page):
    context.clock.install()
    open_app(page)
    sign_in(page)
    page.get_by_label("Track").select_option(label="Example Middle School track (7 laps a mile)")
    page.get_by_test_id("start-unplanned").click()
    page.get_by_role("button", name="Moment of silence").click()
    page.get_by_role("button", name="Start").click()
    page.clock.run_for(61_000)
    expect(page.locator("#silence-time")).to_have_text("Silence complete")
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 7)
    page.locator("#finish-mile").click()
    expect(page.get_by_test_id("after-silence")).to_have_text("Moment of silence")
    page.get_by_test_id("confirm-finish").click()
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    [run] = stored_runs(page)
    assert run["payload"]["ceremony"] == {
        "prayer_before": False,
        "silence_seconds": 60,
        "flag_carried": False,
        "prayer_after": False,
        "silence_when": "before",
    }


PERSIST_ANSWERS = """([persisted, persist]) => {
  StorageManager.prototype.persisted = async () => persisted;
  StorageManager.prototype.persist = async () => persist;
}"""


@pytest.mark.parametrize(
    "persisted, persist, installed, warned",
    [
        (False, False, False, True),  # the browser may clear the laps: say so, calmly
        (False, True, False, False),  # asked, and granted
        (True, True, False, False),  # already persisted
        (False, False, True, False),  # run from the home screen: its data is kept
    ],
    ids=["at risk", "granted", "already kept", "installed"],
)
def test_the_storage_warning_shows_only_when_the_laps_are_at_risk(
    context, page, persisted, persist, installed, warned
):
    context.add_init_script(f"({PERSIST_ANSWERS})({json.dumps([persisted, persist])})")
    if installed:  # iOS Safari's own flag for an app opened from the home screen
        context.add_init_script("Object.defineProperty(navigator, 'standalone', {value: true})")
    open_app(page)
    sign_in(page)
    warning = page.locator("#storage-warning")
    if warned:
        expect(warning).to_have_text(
            "This browser may clear saved laps when space runs low: sync often, or add the app"
            " to the home screen."
        )
    else:
        expect(page.get_by_test_id("start-unplanned")).to_be_visible()
        expect(warning).to_be_hidden()
