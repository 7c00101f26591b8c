"""Uploaded photos, served publicly as ``/media/<key>-<width>.webp``.

A key is random and never reused, so a file never changes: browsers and proxies may keep it
for a year. The uploads folder is ``UPLOAD_DIR`` (default ``<instance>/uploads``); with
several nodes it must be shared storage, like the database.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory

from ..services.catalog.photos import KEY_SHAPE, WIDTHS, file_name, jpeg_copy
from ..uploads import upload_dir

bp = Blueprint("media", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<key>-<int:width>.webp")
def photo(key: str, width: int):
    if not KEY_SHAPE.fullmatch(key) or not 1 <= width <= max(WIDTHS):
        abort(404)
    response = send_from_directory(
        upload_dir(), file_name(key, width), mimetype="image/webp", max_age=ONE_YEAR
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


@bp.get("/media/<key>-<int:width>.jpg")
def share_photo(key: str, width: int):
    """The same photo as JPEG, for link previews (``og:image``: WhatsApp, social sites)."""
    if not KEY_SHAPE.fullmatch(key) or not 1 <= width <= max(WIDTHS):
        abort(404)
    data = jpeg_copy(upload_dir(), key, width)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
