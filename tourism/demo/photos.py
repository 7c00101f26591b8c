"""Demo photos: simple drawn pictures (no real people or places), stored through the same
service as an upload, so the public pages show images in development and browser tests.

They are drawn with Pillow at seed time rather than shipped as files: a landscape of
gradient sky, hills and a few shapes, with a little grain so they weigh roughly what a
modest photo does. Their descriptions say they are demo drawings.
"""

from __future__ import annotations

import io
import random
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Experience, Photo
from ..services.catalog.photos import add_photo

SIZE = (1280, 854)

#: Per experience slug: (sky top, sky bottom, hills, accent, Spanish and English descriptions).
PICTURES: dict[str, list[tuple]] = {
    "kallari-cacao-route": [
        (
            (120, 170, 200),
            (230, 215, 170),
            (40, 95, 45),
            (150, 75, 30),
            "Dibujo de demostración: colinas de la chakra con mazorcas de cacao maduras",
            "Demo drawing: chakra hills with ripe cacao pods",
        ),
        (
            (90, 140, 180),
            (200, 220, 200),
            (30, 80, 40),
            (110, 60, 30),
            "Dibujo de demostración: el sendero entre los árboles de cacao",
            "Demo drawing: the path between the cacao trees",
        ),
        (
            (160, 120, 90),
            (240, 200, 150),
            (60, 90, 40),
            (90, 45, 20),
            "Dibujo de demostración: semillas de cacao secándose al sol",
            "Demo drawing: cacao beans drying in the sun",
        ),
    ],
    "winak-guayusa-dawn": [
        (
            (250, 170, 110),
            (250, 225, 180),
            (35, 85, 50),
            (70, 120, 60),
            "Dibujo de demostración: amanecer sobre la selva con hojas de guayusa",
            "Demo drawing: dawn over the forest with guayusa leaves",
        ),
    ],
    "asopromas-kujenito-chocolate": [
        (
            (110, 160, 190),
            (220, 230, 210),
            (45, 100, 55),
            (100, 55, 25),
            "Dibujo de demostración: la planta de chocolate junto al río",
            "Demo drawing: the chocolate workshop by the river",
        ),
    ],
    "kallari-minga-crafts": [
        (
            (130, 180, 210),
            (235, 225, 190),
            (50, 105, 50),
            (180, 120, 40),
            "Dibujo de demostración: artesanías de semillas y fibras",
            "Demo drawing: crafts of seeds and fibres",
        ),
    ],
    "tsatsayaku-chakra-school": [
        (
            (100, 150, 200),
            (210, 230, 220),
            (40, 110, 60),
            (200, 160, 60),
            "Dibujo de demostración: una chakra con plátanos, yuca y frutales",
            "Demo drawing: a chakra with plantains, cassava and fruit trees",
        ),
    ],
}


def draw_picture(sky_top, sky_bottom, hills, accent, seed: int) -> bytes:
    """A JPEG of a simple landscape, the same for the same arguments."""
    rng = random.Random(seed)  # noqa: S311 — shapes of a demo drawing, not security
    width, height = SIZE
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(sky_top, sky_bottom, strict=True)),
        )
    draw.ellipse((width * 0.7, height * 0.1, width * 0.82, height * 0.28), fill=(250, 235, 170))
    for layer in range(3):
        base = height * (0.45 + 0.15 * layer)
        shade = tuple(max(0, c - 18 * layer) for c in hills)
        points = [(0, height)]
        for x in range(0, width + 64, 64):
            points.append((x, base + rng.uniform(-40, 40)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    for _ in range(14):
        x, y = rng.uniform(0, width), rng.uniform(height * 0.6, height)
        r = rng.uniform(14, 34)
        draw.ellipse((x - r, y - r * 1.6, x + r, y + r * 1.6), fill=accent)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.effect_noise(SIZE, 18).convert("RGB")
    image = Image.blend(image, grain, 0.06)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def seed_photos(session: Session, upload_dir: str | Path) -> int:
    """Add the demo pictures to the demo experiences that have no photo yet, through the
    photo service (resized to WebP, stored under ``upload_dir``). Returns how many were
    added. Only flushes; the caller commits."""
    added = 0
    for slug, pictures in PICTURES.items():
        experience = session.execute(
            select(Experience).where(Experience.slug == slug)
        ).scalar_one_or_none()
        if experience is None:
            continue
        if session.execute(
            select(Photo.id).where(Photo.experience_id == experience.id).limit(1)
        ).first():
            continue
        for index, (top, bottom, hills, accent, alt_es, alt_en) in enumerate(pictures):
            data = draw_picture(top, bottom, hills, accent, seed=zlib.crc32(slug.encode()) + index)
            add_photo(session, experience, io.BytesIO(data), upload_dir, alt_es, alt_en)
            added += 1
    return added
