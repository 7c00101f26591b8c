"""Reading QR codes back as a phone camera would: zxing-cpp, a real decoder."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image


def decode_qr_png(data: bytes) -> str | None:
    """The text of the one *standard* QR code in a PNG, or None. A Micro QR code (which phone
    cameras and the browser's ``BarcodeDetector({formats: ["qr_code"]})`` do not read) counts
    as none."""
    image = Image.open(io.BytesIO(data))
    found = [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]
    return found[0] if len(found) == 1 else None


def decode_qr_svg(svg: str, scale: int = 8) -> str | None:
    """The same for segno's inline SVG (one ``path`` of horizontal runs, one unit a module):
    drawn back into pixels, then decoded."""
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())
    image = Image.new("L", (width * scale, height * scale), 255)
    pixels = image.load()
    path = re.search(r'class="qrline"[^>]*d="([^"]+)"|d="([^"]+)"[^>]*class="qrline"', svg)
    d = path[1] or path[2]
    x = y = 0.0
    step = r"([Mmh])(-?\d+(?:\.\d+)?)(?:[ ,](-?\d+(?:\.\d+)?))?"
    for command, number, extra in re.findall(step, d):
        if command == "M":
            x, y = float(number), float(extra)
        elif command == "m":
            x, y = x + float(number), y + float(extra)
        else:  # h: a dark run along the row y - 0.5
            run = float(number)
            row = int(y - 0.5)
            for column in range(int(x), int(x + run)):
                for dy in range(scale):
                    for dx in range(scale):
                        pixels[column * scale + dx, row * scale + dy] = 0
            x += run
    out = io.BytesIO()
    image.save(out, format="PNG")
    return decode_qr_png(out.getvalue())
