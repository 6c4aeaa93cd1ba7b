"""PUT /api/v1/runs/<run_id>/photos/<photo_id>: checked, stripped of metadata, idempotent."""

import io
import uuid

import pytest
from PIL import Image

from r4h_pwa.extensions import db as _db
from r4h_pwa.models import Photo
from r4h_pwa.runs.photos import MAX_PHOTO_BYTES
from tests.factories import bearer, make_device_token, make_runner, run_payload
from tests.helpers import sync

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_bytes(size=(40, 20), orientation: int | None = None, gps: bool = True) -> bytes:
    """A JPEG whose left half is red and right half blue, with EXIF, GPS, XMP, ICC, comment."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (28.0, 41.0, 30.0), 3: "W", 4: (81.0, 16.0, 0.0)})
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        exif=exif,
        comment=b"taken at the school track",
        icc_profile=b"\0" * 128,
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>GPS</x:xmpmeta>",
    )
    return out.getvalue()


def png_bytes(size=(30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 255)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def synced_run(client, db, phone) -> dict:
    run = run_payload(phone)
    assert sync(client, phone, run).status_code == 200
    return run


def put(client, phone, run_id, data: bytes, content_type="image/jpeg", photo_id=None):
    photo_id = photo_id or str(uuid.uuid4())
    return client.put(
        f"/api/v1/runs/{run_id}/photos/{photo_id}",
        data=data,
        headers={**phone.headers, "Content-Type": content_type},
    )


def _photo_count() -> int:
    _db.session.expire_all()
    return _db.session.query(Photo).count()


def test_a_first_upload_is_201_with_the_photo(client, phone, synced_run):
    photo_id = str(uuid.uuid4())
    response = put(client, phone, synced_run["id"], jpeg_bytes(), photo_id=photo_id)
    assert response.status_code == 201
    assert response.get_json() == {
        "id": photo_id,
        "run_id": synced_run["id"],
        "width": 40,
        "height": 20,
        "url": f"https://r4h.test/api/v1/runs/{synced_run['id']}/photos/{photo_id}.jpg",
        "hidden": False,
    }


def test_the_same_bytes_again_are_200_with_the_same_body(client, phone, synced_run):
    photo_id = str(uuid.uuid4())
    first = put(client, phone, synced_run["id"], jpeg_bytes(), photo_id=photo_id)
    again = put(client, phone, synced_run["id"], jpeg_bytes(), photo_id=photo_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert _photo_count() == 1


def test_other_bytes_under_the_same_id_are_409_and_the_first_stays(client, phone, synced_run):
    photo_id = str(uuid.uuid4())
    put(client, phone, synced_run["id"], jpeg_bytes(), photo_id=photo_id)
    response = put(client, phone, synced_run["id"], jpeg_bytes(size=(50, 20)), photo_id=photo_id)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert _db.session.get(Photo, photo_id).width == 40


def test_a_png_is_accepted_and_stored_as_jpeg(client, phone, synced_run):
    response = put(client, phone, synced_run["id"], png_bytes(), "image/png")
    assert response.status_code == 201
    served = client.get(response.get_json()["url"], headers=phone.headers)
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (png_bytes(), "image/jpeg"),  # a PNG sent as a JPEG
        (jpeg_bytes(), "image/png"),  # a JPEG sent as a PNG
        (jpeg_bytes()[:-400], "image/jpeg"),  # truncated
        (b"GIF89a" + b"\0" * 100, "image/jpeg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        (b"", "image/jpeg"),
        (jpeg_bytes(), "image/gif"),
        (jpeg_bytes(), "application/octet-stream"),
    ],
    ids=[
        "png-as-jpeg",
        "jpeg-as-png",
        "truncated-jpeg",
        "gif",
        "svg",
        "empty",
        "gif-type",
        "octet-stream",
    ],
)
def test_what_is_not_really_that_image_type_is_415(client, phone, synced_run, data, content_type):
    response = put(client, phone, synced_run["id"], data, content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert _photo_count() == 0


def test_a_decompression_bomb_is_413_before_it_is_decoded(client, phone, synced_run):
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, "PNG")  # 56 million pixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    response = put(client, phone, synced_run["id"], out.getvalue(), "image/png")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "image_too_large"
    assert _photo_count() == 0


def test_8_mb_and_one_byte_is_413(client, phone, synced_run):
    data = jpeg_bytes() + b"\0" * (MAX_PHOTO_BYTES + 1 - len(jpeg_bytes()))
    assert len(data) == MAX_PHOTO_BYTES + 1
    response = put(client, phone, synced_run["id"], data)
    assert response.status_code == 413
    assert _photo_count() == 0


def test_a_photo_of_8_mb_is_accepted(client, phone, synced_run):
    # JPEG decoders stop at the end-of-image marker: padding keeps it a whole JPEG.
    data = jpeg_bytes() + b"\0" * (MAX_PHOTO_BYTES - len(jpeg_bytes()))
    assert put(client, phone, synced_run["id"], data).status_code == 201


@pytest.mark.parametrize("extra, status", [(0, 201), (1, 413)], ids=["8 MB", "8 MB and 1 byte"])
def test_a_photo_sent_in_chunks_is_held_to_the_same_8_mb(client, phone, synced_run, extra, status):
    # No Content-Length to refuse it by: the body is read to the limit and one byte past it.
    # Before, 8 MB and more in chunks was cut at 8 MB and its first 8 MB taken as the photo.
    data = jpeg_bytes() + b"\0" * (MAX_PHOTO_BYTES + extra - len(jpeg_bytes()))
    response = client.put(
        f"/api/v1/runs/{synced_run['id']}/photos/{uuid.uuid4()}",
        input_stream=io.BytesIO(data),
        headers={**phone.headers, "Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of its input
    )
    assert response.status_code == status
    assert _photo_count() == (1 if status == 201 else 0)


def test_the_served_photo_carries_no_metadata_at_all(client, phone, synced_run):
    original = jpeg_bytes(orientation=1)
    assert b"\xff\xe1" in original and b"PhoneMaker" in original  # the input has EXIF
    url = put(client, phone, synced_run["id"], original).get_json()["url"]
    for path in (url, url.replace(".jpg", "/page.jpg")):
        served = client.get(path, headers=phone.headers)
        assert served.status_code == 200
        assert served.mimetype == "image/jpeg"
        data = served.data
        image = Image.open(io.BytesIO(data))
        assert dict(image.getexif()) == {}
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
        assert b"\xff\xe1" not in data  # APP1: EXIF and XMP
        assert b"\xff\xe2" not in data  # APP2: ICC profile
        assert b"\xff\xfe" not in data  # COM: a comment
        assert b"PhoneMaker" not in data and b"school track" not in data


def test_the_exif_orientation_is_applied_before_it_is_dropped(client, phone, synced_run):
    # Orientation 6: shown turned 90 degrees clockwise, so the left (red) half ends on top.
    body = put(client, phone, synced_run["id"], jpeg_bytes(orientation=6)).get_json()
    assert (body["width"], body["height"]) == (20, 40)
    image = Image.open(io.BytesIO(client.get(body["url"], headers=phone.headers).data))
    assert image.size == (20, 40)
    top, bottom = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_the_page_copy_is_at_most_800_px_on_the_long_side(client, phone, synced_run):
    body = put(client, phone, synced_run["id"], jpeg_bytes(size=(1600, 1200))).get_json()
    page = client.get(body["url"].replace(".jpg", "/page.jpg"), headers=phone.headers)
    assert Image.open(io.BytesIO(page.data)).size == (800, 600)


def test_only_the_runs_runner_may_upload(client, db, phone, synced_run):
    other = make_runner(email="other@example.org")
    token = make_device_token(other)
    db.session.commit()
    response = client.put(
        f"/api/v1/runs/{synced_run['id']}/photos/{uuid.uuid4()}",
        data=jpeg_bytes(),
        headers={**bearer(token), "Content-Type": "image/jpeg"},
    )
    assert response.status_code == 404
    assert _photo_count() == 0


def test_a_photo_is_never_served_without_credentials_or_to_another_runner(
    client, db, phone, synced_run
):
    url = put(client, phone, synced_run["id"], jpeg_bytes()).get_json()["url"]
    assert client.get(url).status_code == 401
    other = make_runner(email="other@example.org")
    token = make_device_token(other)
    db.session.commit()
    assert client.get(url, headers=bearer(token)).status_code == 404


def test_the_runner_can_hide_a_photo_and_show_it_again(client, phone, synced_run):
    body = put(client, phone, synced_run["id"], jpeg_bytes()).get_json()
    path = f"/api/v1/runs/{synced_run['id']}/photos/{body['id']}"
    hidden = client.patch(path, json={"hidden": True}, headers=phone.headers)
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    assert _db.session.get(Photo, body["id"]).hidden_at is not None
    shown = client.patch(path, json={"hidden": False}, headers=phone.headers)
    assert shown.get_json()["hidden"] is False
    bad = client.patch(path, json={"hidden": "yes"}, headers=phone.headers)
    assert bad.status_code == 422 and "hidden" in bad.get_json()["error"]["fields"]
