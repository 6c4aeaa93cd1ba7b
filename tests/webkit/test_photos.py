"""Issue 11 in real WebKit (the engine of every browser on an iPhone): a photo picked after
the run is turned upright, shrunk, kept in IndexedDB (as bytes: WebKitGTK refused to store a
Blob there, "Error preparing Blob/File data"), sent after its run, then kept as a thumbnail."""

import io

import sqlalchemy as sa
from PIL import Image

from r4h_pwa.models import Photo
from tests.e2e.test_ceremony_photos import READ_PHOTOS, photo_with_gps

from .browser import (
    by_testid,
    finish,
    open_app,
    sign_in,
    start_unplanned_run,
    stored_runs,
    tap_laps,
    wait,
    wait_for_text,
)


def test_a_sideways_photo_is_kept_upright_and_sent_after_its_run_in_webkit(
    driver, server, tmp_path
):
    open_app(driver, server.url)
    sign_in(driver)
    start_unplanned_run(driver)
    tap_laps(driver, 7)
    finish(driver)
    wait(driver, lambda d: d.find_element("id", "done-status").text == "Sent.", 30)
    picture = tmp_path / "flag.jpg"
    picture.write_bytes(photo_with_gps((2000, 1500), orientation=6))  # as an upright phone

    by_testid(driver, "photo-pick").send_keys(str(picture))

    wait_for_text(driver, "photo-status", "Sent.", timeout=30)
    [run] = stored_runs(driver)
    [photo] = driver.execute_script(f"return ({READ_PHOTOS})();")
    assert photo["run_id"] == run["id"] and bytes(photo["bytes"][:2]) == b"\xff\xd8"  # a JPEG
    assert (photo["width"], photo["height"]) == (1200, 1600)  # upright, 1600 px on the long side
    # Sent: the phone keeps only an upright thumbnail of it.
    assert photo["sent"] and photo["thumb"]
    assert Image.open(io.BytesIO(bytes(photo["bytes"]))).size == (360, 480)
    with server.db() as db:
        [row] = db.session.scalars(sa.select(Photo).where(Photo.run_id == run["id"]))
        assert (row.id, row.width, row.height) == (photo["id"], 1200, 1600)
