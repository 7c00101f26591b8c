"""Experience photos on the public pages: responsive WebP with srcset/sizes, dimensions, a
description in the visitor's language, the first image eager and the others lazy."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import select

from tourism.demo import seed_demo
from tourism.models import Experience, Photo
from tourism.services.catalog import photos
from tourism.timefmt import display_zone, local_today

EN = {"Accept-Language": "en"}


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.found.append(dict(attrs))


def images(html: str) -> list[dict]:
    parser = Images()
    parser.feed(html)
    return parser.found


def jpeg(size=(1600, 1000), color=(40, 100, 50)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    out.seek(0)
    return out


@pytest.fixture
def cacao(session, app):
    seed_demo(session, local_today(), display_zone(), history=False)
    experience = session.scalars(
        select(Experience).where(Experience.slug == "kallari-cacao-route")
    ).one()
    folder = app.config["UPLOAD_DIR"]
    photos.add_photo(session, experience, jpeg(), folder, "Mazorcas de cacao", "Cacao pods")
    photos.add_photo(session, experience, jpeg((900, 600)), folder, "El sendero", "")
    photos.add_photo(session, experience, jpeg((500, 400)), folder, "Semillas", "Beans")
    session.commit()
    return experience


def test_catalog_card_shows_the_first_photo_with_every_width(client, cacao):
    html = client.get("/", headers=EN).get_data(as_text=True)
    cards = [img for img in images(html) if "card__photo" in img.get("class", "")]
    assert len(cards) == 1  # only the Cacao Route has photos here
    card = cards[0]
    assert card["alt"] == "Cacao pods"  # its first photo, in English
    assert card["width"] == "1280" and card["height"] == "800"
    widths = re.findall(r"/media/[0-9a-f]{32}-(\d+)\.webp (\d+)w", card["srcset"])
    assert [(int(a), int(b)) for a, b in widths] == [(320, 320), (640, 640), (1280, 1280)]
    assert card["src"].endswith("-640.webp")
    assert "100vw" in card["sizes"]


def test_only_the_first_cards_photo_is_eager(client, session, app, cacao):
    folder = app.config["UPLOAD_DIR"]
    for experience in session.scalars(select(Experience)).all():
        if experience.id != cacao.id:
            photos.add_photo(session, experience, jpeg((700, 500)), folder, "Foto", "Photo")
    session.commit()
    cards = [img for img in images(client.get("/").get_data(as_text=True))]
    assert len(cards) >= 4
    assert "loading" not in cards[0] and "fetchpriority" not in cards[0]
    assert all(card["loading"] == "lazy" for card in cards[1:])


def test_experience_page_hero_is_eager_and_high_priority_the_rest_lazy(client, cacao):
    html = client.get("/experiences/kallari-cacao-route", headers=EN).get_data(as_text=True)
    found = images(html)
    assert len(found) == 3
    hero, second, third = found
    assert "experience__hero" in hero["class"]
    assert hero.get("fetchpriority") == "high" and "loading" not in hero
    assert hero["alt"] == "Cacao pods"
    for img in (second, third):
        assert img["loading"] == "lazy"
        assert "fetchpriority" not in img
    # No English description: the Spanish one, marked as Spanish for screen readers.
    assert second["alt"] == "El sendero" and second["lang"] == "es"
    # A small original is kept at its own width, never upscaled.
    assert re.findall(r"(\d+)w", third["srcset"]) == ["320", "500"]
    assert (third["width"], third["height"]) == ("500", "400")
    for img in found:
        with client.get(img["src"]) as served:
            assert served.status_code == 200 and served.mimetype == "image/webp"


def test_spanish_page_uses_the_spanish_description(client, cacao):
    html = client.get("/experiences/kallari-cacao-route").get_data(as_text=True)
    hero = images(html)[0]
    assert hero["alt"] == "Mazorcas de cacao" and "lang" not in hero


def test_a_photo_without_description_falls_back_to_the_title(client, session, cacao):
    photo = session.scalars(select(Photo).order_by(Photo.position)).first()
    photo.alt_es, photo.alt_en = "", ""
    session.commit()
    hero = images(client.get("/experiences/kallari-cacao-route", headers=EN).get_data(True))[0]
    title = cacao.text("en").title
    assert hero["alt"] == title


def test_pages_without_photos_have_no_images(client, session, app):
    seed_demo(session, local_today(), display_zone(), history=False)
    session.commit()
    assert images(client.get("/").get_data(as_text=True)) == []
    assert images(client.get("/experiences/winak-guayusa-dawn").get_data(as_text=True)) == []
