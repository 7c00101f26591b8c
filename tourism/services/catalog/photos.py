"""Experience photos: checked with Pillow, turned upright, stripped of metadata (a phone's
EXIF can hold a family's GPS position), resized into a few WebP widths, stored on disk as
``<key>-<width>.webp`` and recorded as a ``Photo`` row.

Files are written before the row is flushed and removed again if the flush fails; deleting
returns the file names so the caller removes them only after its commit.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidRequest, NotFound
from ...models import Experience, Photo
from ..access import tenancy
from .experience_input import text_too_long

WIDTHS = (320, 640, 1280)
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
#: Far above any phone camera, far below what would exhaust a worker's memory.
MAX_PIXELS = 40_000_000
WEBP_QUALITY = 80
KEY_SHAPE = re.compile(r"[0-9a-f]{32}")
MAX_PHOTOS = 30
ALT_LIMIT = 300


class NotAnImage(InvalidRequest):
    default_message = _l("Please upload a photo in JPEG, PNG or WebP format.")


class ImageTooLarge(InvalidRequest):
    default_message = _l("This photo has too many pixels. Please upload a smaller one.")


class TooManyPhotos(InvalidRequest):
    status_code = 409

    def __init__(self, n: int) -> None:
        super().__init__(
            _ln(
                "An experience can have at most %(num)s photo.",
                "An experience can have at most %(num)s photos.",
                n,
            )
        )


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


def target_widths(original_width: int) -> list[int]:
    """The widths to make: each of ``WIDTHS`` that the original reaches, never upscaled; an
    original narrower than one of them is also kept at its own width."""
    return sorted({min(width, original_width) for width in WIDTHS})


def _open_upright(stream: BinaryIO) -> Image.Image:
    """The decoded first frame, rotated as its EXIF says; ``NotAnImage`` for anything else."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns about (moderate) decompression bombs; we refuse them.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=ACCEPTED_FORMATS) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise ImageTooLarge()
                probe.verify()
            stream.seek(0)
            with Image.open(stream, formats=ACCEPTED_FORMATS) as image:
                image.seek(0)
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ImageTooLarge:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageTooLarge() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage() from exc
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    try:
        return upright.convert("RGBA" if has_alpha else "RGB")
    except (OSError, ValueError) as exc:
        raise NotAnImage() from exc


def render(stream: BinaryIO) -> list[Rendition]:
    """The uploaded image as WebP in each of ``target_widths``, smallest first."""
    image = _open_upright(stream)
    renditions = []
    for width in target_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        out = io.BytesIO()
        # No exif/xmp/icc arguments: the saved file carries no metadata at all.
        resized.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
        renditions.append(Rendition(width=width, height=resized.height, data=out.getvalue()))
    return renditions


def file_name(key: str, width: int) -> str:
    return f"{key}-{width}.webp"


#: JPEG quality of the copies link previews get (WhatsApp and others do not all read WebP).
SHARE_JPEG_QUALITY = 80


def jpeg_copy(upload_dir: str | Path, key: str, width: int) -> bytes | None:
    """A stored photo as JPEG, for link previews (``og:image``); None when the file is not
    there. Made from the WebP on request: previews are fetched rarely and then cached."""
    path = Path(upload_dir) / file_name(key, width)
    try:
        with Image.open(path) as image:
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=SHARE_JPEG_QUALITY)
    except FileNotFoundError:
        return None
    return out.getvalue()


def share_width(photo: Photo) -> int:
    """The stored width that link previews get: the largest."""
    return max(int(width) for width in photo.widths.split(","))


def _write(folder: Path, name: str, data: bytes) -> None:
    temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    temporary.write_bytes(data)
    os.replace(temporary, folder / name)  # readers never see half a file


def remove_files(upload_dir: str | Path, names: list[str]) -> None:
    """Delete stored files; ones already gone are fine. Call after the commit."""
    for name in names:
        (Path(upload_dir) / name).unlink(missing_ok=True)


def list_photos(session: Session, experience: Experience) -> list[Photo]:
    return list(
        session.execute(
            select(Photo)
            .where(Photo.experience_id == experience.id)
            .order_by(Photo.position, Photo.id)
        ).scalars()
    )


def cover_photos(session: Session, experience_ids: list[int]) -> dict[int, Photo]:
    """The first photo of each of ``experience_ids`` that has one (for catalog cards), in one
    query."""
    if not experience_ids:
        return {}
    covers: dict[int, Photo] = {}
    rows = session.execute(
        select(Photo)
        .where(Photo.experience_id.in_(experience_ids))
        .order_by(Photo.experience_id, Photo.position, Photo.id)
    ).scalars()
    for photo in rows:
        covers.setdefault(photo.experience_id, photo)
    return covers


def add_photo(
    session: Session,
    experience: Experience,
    stream: BinaryIO,
    upload_dir: str | Path,
    alt_es: str,
    alt_en: str = "",
) -> Photo:
    """Check, resize and store an uploaded photo of ``experience``."""
    alt_es, alt_en = (alt_es or "").strip(), (alt_en or "").strip()
    if not alt_es:
        raise InvalidRequest(_l("Describe the photo in Spanish for people who cannot see it."))
    if len(alt_es) > ALT_LIMIT or len(alt_en) > ALT_LIMIT:
        raise InvalidRequest(text_too_long(ALT_LIMIT))
    count = session.scalar(select(func.count(Photo.id)).where(Photo.experience_id == experience.id))
    if count >= MAX_PHOTOS:
        raise TooManyPhotos(n=MAX_PHOTOS)
    renditions = render(stream)
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    names = [file_name(key, r.width) for r in renditions]
    largest = renditions[-1]
    position = session.scalar(
        select(func.coalesce(func.max(Photo.position), -1)).where(
            Photo.experience_id == experience.id
        )
    )
    try:
        for rendition, name in zip(renditions, names, strict=True):
            _write(folder, name, rendition.data)
        photo = Photo(
            experience_id=experience.id,
            position=position + 1,
            key=key,
            widths=",".join(str(r.width) for r in renditions),
            width=largest.width,
            height=largest.height,
            alt_es=alt_es,
            alt_en=alt_en,
        )
        session.add(photo)
        session.flush()
    except BaseException:
        remove_files(folder, names)
        raise
    return photo


def scoped_photo(session: Session, photo_id: int, user) -> Photo:
    """A photo of an experience ``user`` may manage; anything else is *not found*."""
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound()
    tenancy.get_scoped(session, Experience, photo.experience_id, user)
    return photo


def photo_files(photo: Photo) -> list[str]:
    return [file_name(photo.key, int(w)) for w in photo.widths.split(",") if w]


def delete_photo(session: Session, photo: Photo) -> list[str]:
    """Delete the row; returns the file names for the caller to remove after committing."""
    names = photo_files(photo)
    session.delete(photo)
    session.flush()
    return names
