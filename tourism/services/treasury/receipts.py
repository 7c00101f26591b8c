"""Photos of signed payout receipts: checked, turned upright, stripped of metadata and
stored as WebP under ``UPLOAD_DIR``; a ``Payout`` names its photo by key."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..catalog.photos import _open_upright

RECEIPT_WIDTH = 1600


def receipt_file_name(key: str) -> str:
    return f"receipt-{key}.webp"


def store_receipt(stream: BinaryIO, upload_dir: str | Path) -> str:
    """Check and store a receipt photo (upright, metadata stripped, WebP); its key.

    Written before the database transaction; the caller removes it (``remove_receipts``)
    if that transaction is rolled back.
    """
    from PIL import Image

    image = _open_upright(stream)
    if image.width > RECEIPT_WIDTH:
        height = max(1, round(image.height * RECEIPT_WIDTH / image.width))
        image = image.resize((RECEIPT_WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    temporary = folder / f".{key}.tmp"
    temporary.write_bytes(out.getvalue())
    os.replace(temporary, folder / receipt_file_name(key))
    return key


def remove_receipts(upload_dir: str | Path, keys: Iterable[str]) -> None:
    for key in keys:
        (Path(upload_dir) / receipt_file_name(key)).unlink(missing_ok=True)
