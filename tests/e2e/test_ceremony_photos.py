"""Issue 11's "must show", end to end in Chromium: an offline run records the ceremony and a
photo, syncs, and the family page tells it; the served photo has no EXIF; the family's
message reaches the runner's phone; the family takes the page down and it answers 410.
"""

import io

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from r4h_pwa.models import Photo, Run, Shipment
from tests.factories import make_shipment

from .steps import (
    finish_and_wait_for_sync,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait_for_service_worker,
)

GPS_IFD = 0x8825
READ_PHOTOS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("r4h");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const photos = await new Promise((resolve, reject) => {
    const req = db.transaction("photos").objectStore("photos").getAll();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  return photos.map((photo) => ({ ...photo, bytes: [...new Uint8Array(photo.bytes)] }));
}"""
THANKS = "Thank you for carrying his flag. It hangs in our hallway now."


def photo_with_gps(size=(2400, 1800), orientation: int | None = None) -> bytes:
    """A camera-sized JPEG that says where it was taken: EXIF with GPS, a maker and a comment.

    With orientation 6 the pixels are stored sideways, as a phone held upright stores them.
    """
    image = Image.new("RGB", size, (46, 125, 50))
    image.paste((20, 20, 20), (400, 300, 2000, 1500))
    image.paste((31, 86, 199), (400, 850, 2000, 950))  # the thin blue line
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[0x0112] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (28.0, 41.0, 30.0), 3: "W", 4: (81.0, 16.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at the school track")
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(GPS_IFD)
    return out.getvalue()


def read_photos(page) -> list[dict]:
    """The photos in the page's IndexedDB, their JPEG bytes as a list of ints."""
    return page.evaluate(READ_PHOTOS)


def test_the_ceremony_and_a_photo_go_from_an_offline_phone_to_the_family_and_back(
    context, page, browser, server, server_db
):
    context.clock.install()
    open_app(page)
    sign_in(page)
    wait_for_service_worker(page)
    context.set_offline(True)

    # Before the run: the prayer (Amen), the silence skipped, the hero's flag carried.
    page.get_by_label("Track").select_option(label="Example Middle School track (7 laps a mile)")
    page.get_by_test_id("start-unplanned").click()
    page.get_by_role("button", name="Prayer").click()
    page.get_by_role("button", name="Amen").click()
    page.get_by_role("button", name="Skip").click()
    flag = page.get_by_test_id("flag-carried")
    expect(page.locator("#flag-carried-label")).to_have_text("We carry the thin blue line flag")
    flag.check()
    page.get_by_test_id("begin-laps").click()
    tap_laps(page, 3)

    # During the run, still offline: one photo from the counter's camera button.
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("counter-photo-button").click()
    chooser.value.set_files(
        {"name": "flag.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}
    )
    expect(page.locator("#notice")).to_have_text("Photo kept with the run.")
    tap_laps(page, 4)

    # After the run: a minute of silence kept; the prayer after left untapped, so skipped.
    page.locator("#finish-mile").click()
    page.get_by_test_id("after-silence").click()
    page.clock.run_for(30_000)
    expect(page.get_by_test_id("after-silence")).to_have_text("Silence 0:30 · tap to end")
    page.clock.run_for(31_000)
    expect(page.get_by_test_id("after-silence")).to_have_text("Silence kept: 1:00")
    page.get_by_test_id("confirm-finish").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("1")
    [run] = stored_runs(page)
    ceremony = {
        "prayer_before": True,
        "silence_seconds": 60,
        "flag_carried": True,
        "prayer_after": False,
        "silence_when": "after",
    }
    assert run["status"] == "outbox"
    assert run["ceremony"] == ceremony and run["payload"]["ceremony"] == ceremony

    # The photo is on the done screen, shrunk to 1600 px, and kept across a reload.
    expect(page.get_by_test_id("run-photo")).to_have_count(1)
    waiting = "On this phone; it sends after the run."
    expect(page.get_by_test_id("photo-status")).to_have_text(waiting)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-screen", "runs")
    page.get_by_role("button", name="Open").first.click()
    expect(page.get_by_test_id("run-photo")).to_have_count(1)
    thumbnail = page.get_by_test_id("run-photo").locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1600", arg=thumbnail.element_handle()
    )  # shown from IndexedDB, offline
    [photo] = read_photos(page)
    assert (photo["run_id"], photo["width"], photo["height"]) == (run["id"], 1600, 1200)
    assert not photo["sent"]
    kept = Image.open(io.BytesIO(bytes(photo["bytes"])))
    assert (kept.format, kept.size) == ("JPEG", (1600, 1200))

    # Signal again: the run syncs, then its photo follows.
    context.set_offline(False)
    page.get_by_test_id("sync-now").click()
    expect(page.locator("#done-status")).to_have_text("Sent.", timeout=15_000)
    expect(page.get_by_test_id("photo-status")).to_have_text("Sent.", timeout=15_000)
    [photo] = read_photos(page)
    assert photo["sent"] and photo["error"] is None
    with server_db() as db:
        stored = db.session.get(Run, run["id"])
        assert stored.ceremony == ceremony
        [row] = db.session.scalars(sa.select(Photo).where(Photo.run_id == run["id"]))
        assert (row.id, row.width, row.height, row.hidden_at) == (photo["id"], 1600, 1200, None)
        shipment = make_shipment(stored)
        db.session.commit()
        shipment_id, token = shipment.id, shipment.family_token

    # The family's page tells the mile with the prayer and the silence, and shows the photo.
    family = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    family_page = family.new_page()
    assert family_page.goto(f"/f/{token}").status == 200
    sentence = family_page.get_by_test_id("mile-sentence")
    expect(sentence).to_contain_text("carrying the thin blue line flag")
    expect(sentence).to_contain_text(
        "Before the run they prayed; after it they kept a minute of silence."
    )
    shown = family_page.get_by_test_id("family-photo")
    expect(shown).to_have_count(1)
    shown.scroll_into_view_if_needed()
    family_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=shown.element_handle()
    )

    # The photo as served carries no EXIF, no GPS, nothing but pixels.
    src = shown.get_attribute("src")
    served = family_page.request.get(src)
    assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.body()))
    assert dict(image.getexif()) == {}
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(image.info)
    assert b"\xff\xe1" not in served.body() and b"PhoneMaker" not in served.body()

    # The family says thank you; the runner's phone shows it, with signal and without.
    family_page.get_by_test_id("ack-message").fill(THANKS)
    family_page.get_by_test_id("ack-submit").click()
    family_page.wait_for_url(f"**/f/{token}/thanks")
    page.get_by_role("button", name="Back to runs").click()
    page.reload()
    messages = page.get_by_test_id("family-messages")
    expect(page.get_by_role("heading", name="Messages from families")).to_be_visible()
    expect(messages.locator("li")).to_have_count(1)
    expect(messages).to_contain_text(THANKS)
    expect(messages).to_contain_text(f"The family of {run['hero']['rank']} {run['hero']['name']}")
    context.set_offline(True)
    page.reload()
    expect(messages).to_contain_text(THANKS)
    context.set_offline(False)

    # The family takes the page down: it answers 410 and tells nothing of the hero.
    family_page.goto(f"/f/{token}")
    family_page.get_by_test_id("remove-page").click()
    family_page.get_by_test_id("remove-confirm").click()
    family_page.wait_for_url(f"**/f/{token}")
    assert family_page.request.get(f"/f/{token}").status == 410
    assert run["hero"]["name"] not in family_page.content()
    assert family_page.request.get(src).status == 404
    with server_db() as db:
        assert db.session.get(Shipment, shipment_id).family_hidden_at is not None
    family.close()


def a_sent_mile(page) -> dict:
    """Sign in, count an unplanned mile on the middle-school track, finish, wait until it is
    sent; the run as the phone stores it."""
    open_app(page)
    sign_in(page)
    start_unplanned_run(page)
    tap_laps(page, 7)
    return finish_and_wait_for_sync(page)


def test_a_sent_photo_hidden_on_the_phone_leaves_the_family_page(context, page, server_db):
    context.clock.install()
    run = a_sent_mile(page)
    assert run["payload"]["ceremony"] == {
        "prayer_before": False,
        "silence_seconds": 0,
        "flag_carried": False,
        "prayer_after": False,
    }

    page.get_by_test_id("photo-take").set_input_files(
        {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps((800, 600), 6)}
    )
    expect(page.get_by_test_id("photo-status")).to_have_text("Sent.", timeout=15_000)
    page.get_by_test_id("photo-hide").click()
    expect(page.get_by_test_id("photo-status")).to_have_text(
        "Hidden from the family page.", timeout=15_000
    )
    [photo] = read_photos(page)
    # Stored sideways with orientation 6: the phone turned it upright, portrait.
    assert (photo["width"], photo["height"]) == (600, 800)
    assert (photo["hidden"], photo["server_hidden"]) == (True, True)
    with server_db() as db:
        row = db.session.get(Photo, photo["id"])
        assert row.run_id == run["id"] and row.hidden_at is not None
        assert (row.width, row.height) == (600, 800)


def test_a_photo_the_server_refuses_is_said_plainly_and_not_retried(context, page, server_db):
    context.clock.install()
    run = a_sent_mile(page)
    with server_db() as db:  # another phone already sent other bytes under the id below
        db.session.add(
            Photo(
                id="0b6c4f3e-9d2a-4c1b-8e7f-6a5b4c3d2e1f",
                run_id=run["id"],
                upload_hash="0" * 64,
                width=1,
                height=1,
                jpeg=b"x",
                page_width=1,
                page_height=1,
                page_jpeg=b"x",
            )
        )
        db.session.commit()
    page.evaluate(
        """async (runId) => {
          const db = await import("/static/js/db.js");
          const bytes = new Uint8Array([255, 216, 255, 217]).buffer;
          await db.putPhoto({ id: "0b6c4f3e-9d2a-4c1b-8e7f-6a5b4c3d2e1f", run_id: runId, bytes,
            width: 1, height: 1, added_at: new Date().toISOString(), sent: false, hidden: false,
            server_hidden: false, error: null });
        }""",
        run["id"],
    )
    page.get_by_test_id("sync-now").click()
    status = page.get_by_test_id("photo-status")
    expect(status).to_contain_text(
        "Not sent: This photo id is already used with other bytes", timeout=15_000
    )
    # Refused is final: the outbox has nothing left to send for it.
    left = page.evaluate("""async () => {
      const db = await import("/static/js/db.js");
      const photos = await import("/static/js/photos.js");
      return (await photos.photoJobs(await db.getValue("auth"))).length;
    }""")
    assert left == 0


MAKE_VERSION_1 = """async (run) => {
  const open = indexedDB.open("r4h", 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore("kv");
    open.result.createObjectStore("runs", { keyPath: "id" }).createIndex("status", "status");
  };
  const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
  await new Promise((resolve) => {
    const tx = db.transaction("runs", "readwrite");
    tx.objectStore("runs").put(run);
    tx.oncomplete = resolve;
  });
  db.close();
}"""


def test_a_phone_with_the_first_database_keeps_its_runs_when_photos_arrive(page):
    page.goto("/healthz")  # the origin, without the app opening its database
    waiting = {"id": "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", "status": "outbox", "laps": []}
    page.evaluate(MAKE_VERSION_1, waiting)
    open_app(page)
    assert stored_runs(page) == [waiting]
    assert read_photos(page) == []
    assert page.evaluate("""async () => {
      const open = indexedDB.open("r4h");
      const db = await new Promise((resolve) => (open.onsuccess = () => resolve(open.result)));
      db.close();
      return [db.version, [...db.objectStoreNames]];
    }""") == [2, ["kv", "laps", "photos", "runs"]]
