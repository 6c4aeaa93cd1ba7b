"""Photos of a run: check the bytes really are the image they claim, strip every bit of
metadata, and keep the clean copies in the database.

Nothing the phone sent is ever served: the server decodes the image with Pillow, turns it
upright by its EXIF orientation, and encodes a new JPEG from the pixels alone, so no EXIF,
GPS, XMP, ICC profile or comment survives. A photo taken at a school track must never tell
a stranger where children run.

The copies live in the photos table (bytea on PostgreSQL, BLOB on SQLite): every app
server behind the proxy reads them without a shared disk, and a database backup holds them.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image, ImageOps
from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import Photo, Run, Runner, Shipment, utcnow
from ..validation import Conflict, DomainError, NotFound

MAX_PHOTO_BYTES = 8 * 1024 * 1024
# Refused before decoding: a few hundred bytes can claim billions of pixels.
MAX_PIXELS = 50_000_000
PAGE_SIZE = 800  # the long side of the copy the family page shows
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


class NotAnImage(DomainError):
    """The bytes are not a whole image of the type the request says (HTTP 415)."""

    default_code = "unsupported_media_type"


class TooManyPixels(DomainError):
    """The image decodes to more pixels than we accept: a decompression bomb (HTTP 413)."""

    default_code = "image_too_large"


@dataclass(frozen=True)
class CleanPhoto:
    """An upload re-encoded from its pixels alone, and its copy for the page."""

    upload_hash: str
    width: int
    height: int
    jpeg: bytes
    page_width: int
    page_height: int
    page_jpeg: bytes


def _decode(data: bytes, media_type: str) -> Image.Image:
    """The decoded image; NotAnImage unless the bytes are a whole image of media_type."""
    expected = FORMATS.get(media_type)
    if expected is None:
        raise NotAnImage("Send the photo as image/jpeg or image/png.")
    refusal = NotAnImage(f"This is not a complete {media_type} image.")
    with warnings.catch_warnings():
        # Pillow warns, then raises, past its own pixel limit; both are a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[expected])
            if image.width * image.height > MAX_PIXELS:
                raise TooManyPixels(
                    f"The photo has more than {MAX_PIXELS:,} pixels. Send it smaller."
                )
            image.load()  # a truncated or corrupt file fails here, not when shown
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooManyPixels("The photo has too many pixels. Send it smaller.") from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise refusal from None
    return image


def _pixels_only(image: Image.Image) -> Image.Image:
    """An upright RGB image built from the pixels alone: no info, EXIF, ICC or comment."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, "white")
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = upright.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def clean_photo(data: bytes, media_type: str) -> CleanPhoto:
    """Check and re-encode an upload; NotAnImage or TooManyPixels if it is refused."""
    clean = _pixels_only(_decode(data, media_type))
    page = clean.copy()
    page.thumbnail((PAGE_SIZE, PAGE_SIZE), Image.Resampling.LANCZOS)
    return CleanPhoto(
        upload_hash=hashlib.sha256(data).hexdigest(),
        width=clean.width,
        height=clean.height,
        jpeg=_jpeg(clean, 88),
        page_width=page.width,
        page_height=page.height,
        page_jpeg=_jpeg(page, 82),
    )


def canonical_id(value: str) -> str:
    """The canonical form of a UUID in a URL, or "" if it is not one."""
    try:
        return str(uuid.UUID(value)) if len(value) <= 64 else ""
    except ValueError:
        return ""


def put_photo(run: Run, photo_id: str, data: bytes, media_type: str) -> tuple[Photo, bool]:
    """Store the photo under its id; (photo, True) when new, (photo, False) for a repeat.

    The same id with other bytes is a Conflict; the stored photo stays.
    """
    canonical = canonical_id(photo_id)
    if not canonical:
        raise NotFound("A photo id is a UUID made on the phone.")
    upload_hash = hashlib.sha256(data).hexdigest()
    stored = db.session.get(Photo, canonical)
    if stored is not None:
        if stored.run_id != run.id or stored.upload_hash != upload_hash:
            raise Conflict("This photo id is already used with other bytes; the server kept it.")
        return stored, False
    clean = clean_photo(data, media_type)
    photo = Photo(id=canonical, run_id=run.id, created_at=utcnow(), **vars(clean))
    db.session.add(photo)
    return photo, True


def photo_of_run(run: Run, photo_id: str) -> Photo:
    """The run's photo with this id; NotFound otherwise."""
    photo = db.session.get(Photo, canonical_id(photo_id) or "-")
    if photo is None or photo.run_id != run.id:
        raise NotFound("No photo with that id belongs to this run.")
    return photo


def can_see_photos(actor: Runner | None, run: Run) -> bool:
    """The run's runner and the admins may see its photos, hidden ones too."""
    return actor is not None and (actor.is_admin or actor.id == run.runner_id)


def set_hidden(photo: Photo, hidden: bool) -> None:
    """Hide the photo from the family page, or show it again."""
    if hidden and photo.hidden_at is None:
        photo.hidden_at = utcnow()
    elif not hidden:
        photo.hidden_at = None


def family_photo(token: str, photo_id: str) -> Photo | None:
    """A photo shown on a live, not hidden family page, if it is not hidden itself."""
    canonical = canonical_id(photo_id)
    if not canonical:
        return None
    return db.session.scalar(
        sa.select(Photo)
        .join(Shipment, Shipment.run_id == Photo.run_id)
        .where(
            Photo.id == canonical,
            Photo.hidden_at.is_(None),
            Shipment.family_token == token,
            Shipment.family_token_revoked_at.is_(None),
            Shipment.family_hidden_at.is_(None),
        )
        .limit(1)
    )


def visible_photos(run_id: str) -> list[Photo]:
    """The run's photos not hidden, oldest first, without their bytes."""
    return list(
        db.session.scalars(
            sa.select(Photo)
            .options(
                load_only(
                    Photo.id,
                    Photo.width,
                    Photo.height,
                    Photo.page_width,
                    Photo.page_height,
                    Photo.created_at,
                )
            )
            .where(Photo.run_id == run_id, Photo.hidden_at.is_(None))
            .order_by(Photo.created_at, Photo.id)
        )
    )


def runs_photos(run_id: str) -> list[Photo]:
    """Every photo of the run, hidden ones too, without their bytes (for admins)."""
    return list(
        db.session.scalars(
            sa.select(Photo)
            .options(
                load_only(
                    Photo.id,
                    Photo.width,
                    Photo.height,
                    Photo.hidden_at,
                    Photo.created_at,
                    Photo.run_id,
                )
            )
            .where(Photo.run_id == run_id)
            .order_by(Photo.created_at, Photo.id)
        )
    )
