"""What a tourist needs to trust a visit before booking: what the experience accepts as
payment, who sells it and how to reach them, the privacy notice and the terms of sale, and
link previews; and a catalog that shows experiences before its filters."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.factories import Factories
from tourism.demo import seed_demo
from tourism.demo.photos import seed_photos
from tourism.extensions import db
from tourism.timefmt import display_zone, local_today

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}
PUBLIC_URL = "https://chakra.example"


@pytest.fixture
def app(make_app, stripe_settings):
    """Card payments on, so an experience can offer card, deposit and cash; links from
    PUBLIC_URL."""
    app = make_app(PUBLIC_URL=PUBLIC_URL, **stripe_settings)
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def demo(app, session):
    seed_demo(session, local_today(), display_zone(), history=False)
    session.commit()


def caption_and_ways(html: str) -> tuple[str, list[str]]:
    caption = re.search(r'<table class="prices">\s*<caption>([^<]+)</caption>', html)[1]
    ways = re.search(r'<ul class="payment-ways">(.*?)</ul>', html, re.S)[1]
    return caption, [item.strip() for item in re.findall(r"<li>([^<]+)</li>", ways)]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            "card,deposit,on_arrival",
            [
                "Everything online by card when you book",
                "A 30% deposit online by card when you book, the rest in cash on arrival",
                "Everything in cash to the community on arrival",
            ],
        ),
        ("card", ["Everything online by card when you book"]),
        ("on_arrival", ["Everything in cash to the community on arrival"]),
    ],
)
def test_the_price_table_says_what_this_experience_accepts(client, make, options, expected):
    experience = make.experience(payment_options=options, deposit_percent=30)
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    caption, ways = caption_and_ways(html)
    assert caption == "Price per person"
    assert ways == expected
    assert "paid in cash to the community on arrival" not in html


def test_without_stripe_card_options_are_not_promised(make_app):
    app = make_app()
    with app.app_context():
        experience = Factories(db.session).experience(payment_options="card,on_arrival")
        db.session.commit()
        html = app.test_client().get(f"/experiences/{experience.slug}", headers=EN)
        _, ways = caption_and_ways(html.get_data(as_text=True))
    assert ways == ["Everything in cash to the community on arrival"]


def test_the_experience_page_says_who_sells_it(client, demo):
    html = client.get("/experiences/kallari-cacao-route", headers=EN).get_data(as_text=True)
    seller = html[html.index('<section class="seller"') :]
    seller = seller[: seller.index("</section>")]
    assert "Asociación Kallari (demo)" in seller
    assert re.search(r"RUC 99\d{8}001", seller)
    assert "Dirección de demostración, Tena, Napo, Ecuador" in seller
    assert re.search(r'href="https://wa.me/5939900000\d\d"', seller)
    assert 'href="mailto:kallari.demo@example.org"' in seller
    assert "Demo details" in seller
    assert 'href="/associations/kallari/terms"' in seller and 'href="/privacy"' in seller


def test_the_footer_links_the_terms_and_the_privacy_notice(client, demo):
    for path in ("/", "/experiences/kallari-cacao-route", "/privacy", "/terms"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        footer = html[html.index('<footer class="site-footer">') :]
        assert 'href="/terms"' in footer and 'href="/privacy"' in footer, path


def test_the_booking_form_links_the_terms_the_privacy_notice_and_the_seller(client, demo):
    html = client.get("/experiences/kallari-cacao-route", headers=EN).get_data(as_text=True)
    book = re.search(r'href="(/departures/\d+/book)"', html)[1]
    form = client.get(book, headers=EN).get_data(as_text=True)
    body = form[form.index('<form method="post"') : form.index("</form>")]
    assert 'href="/associations/kallari/terms"' in body
    assert 'href="/privacy#special-needs"' in body  # by the consent checkbox
    assert "Who sells this visit" in form


@pytest.mark.parametrize("headers", [EN, ES])
def test_the_privacy_notice_covers_what_the_law_asks(client, demo, headers):
    response = client.get("/privacy", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    english = headers is EN
    for phrase in (
        ("What we collect and why", "Qué recogemos y por qué"),
        ("Your special needs", "Tus necesidades especiales"),
        ("explicit consent", "consentimiento explícito"),
        ("30 days after the visit", "30 días después de la visita"),
        ("How long we keep it", "Cuánto tiempo lo guardamos"),
        ("Your rights", "Tus derechos"),
        ("Superintendencia de Protección de Datos Personales",) * 2,
        ("LOPDP",) * 2,
    ):
        assert phrase[0 if english else 1] in html, phrase
    # Whom to ask: every association that sells, with its contact.
    for name in ("Kallari", "Wiñak", "ASOPROMÁS"):
        assert name in html
    assert html.count('<section class="seller"') >= 3
    assert 'id="special-needs"' in html  # where the booking form's link lands


def test_an_associations_terms_come_from_its_experiences(client, demo):
    response = client.get("/associations/kallari/terms", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Terms of sale of Kallari" in html
    assert "Asociación Kallari (demo)" in html and "RUC" in html
    assert "Kallari Cacao Route" in html and "Minga and crafts workshop" in html
    assert "48 hours before the departure: full refund" in html
    assert "24 hours before the departure: 50% refund" in html
    assert "weather or the river level" in html
    assert "Bookings close 60 minutes before the departure." in html
    assert "At most 10 tickets per booking" in html
    assert "Kujeñito" not in html  # another association's experience
    index = client.get("/terms", headers=EN).get_data(as_text=True)
    assert 'href="/associations/kallari/terms"' in index
    assert 'href="/associations/asopromas/terms"' in index


def test_terms_of_an_unknown_association_or_one_that_sells_nothing_are_404(client, make):
    assert client.get("/associations/nobody/terms").status_code == 404
    quiet = make.association(slug="quiet")
    make.experience(quiet, status="draft")
    db.session.commit()
    assert client.get("/associations/quiet/terms").status_code == 404


def test_public_pages_have_a_description_and_link_preview_tags(client, app, demo):
    seed_photos(db.session, app.config["UPLOAD_DIR"])
    db.session.commit()
    html = client.get("/experiences/kallari-cacao-route", headers=ES).get_data(as_text=True)
    meta = dict(re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)"', html))
    assert meta["og:title"] == "Ruta del Cacao Kallari"
    assert meta["description"].startswith("Del árbol a la tableta")
    assert meta["og:description"] == meta["description"]
    assert meta["og:url"] == f"{PUBLIC_URL}/experiences/kallari-cacao-route"
    assert meta["og:locale"] == "es_EC"
    assert meta["twitter:card"] == "summary_large_image"
    image = meta["og:image"]
    assert image.startswith(f"{PUBLIC_URL}/media/") and image.endswith(".jpg")
    assert meta["twitter:image"] == image
    # The preview image is a JPEG every previewer reads, of the size the tags say.
    photo = client.get(image.removeprefix(PUBLIC_URL))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "immutable" in photo.headers["Cache-Control"]
    picture = Image.open(io.BytesIO(photo.data))
    assert picture.format == "JPEG"
    assert (picture.width, picture.height) == (
        int(meta["og:image:width"]),
        int(meta["og:image:height"]),
    )
    for path in ("/", "/privacy", "/terms", "/associations/kallari/terms"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        tags = dict(re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)"', page))
        assert tags["description"] and tags["og:title"] and tags["og:description"], path
        assert tags["og:url"] == PUBLIC_URL + path, path
        assert tags["og:image"].startswith(f"{PUBLIC_URL}/static/img/share."), path
    default = client.get(tags["og:image"].removeprefix(PUBLIC_URL))
    assert default.status_code == 200 and default.mimetype == "image/png"


def test_a_missing_or_odd_preview_photo_is_404(client):
    assert client.get("/media/nosuchphoto1-640.jpg").status_code == 404
    assert client.get("/media/bad..key-640.jpg").status_code == 404
    assert client.get("/media/nosuchphoto1-99999.jpg").status_code == 404


def test_the_catalog_shows_experiences_first_with_the_filters_folded(client, demo):
    html = client.get("/", headers=EN).get_data(as_text=True)
    filters = re.search(r"<details class=\"filters\"([^>]*)>", html)
    assert filters and "open" not in filters[1]
    assert "<summary>" in html and "Filter and sort" in html
    # Filters in use (or wrong) are shown open, so the visitor sees what is applied.
    filtered = client.get("/?province=napo", headers=EN).get_data(as_text=True)
    assert re.search(r'<details class="filters" open>', filtered)
    assert "filters in use" in filtered
    wrong = client.get("/?province=mars", headers=EN)
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert re.search(r'<details class="filters" open>', page)
    assert 'href="#province"' in page  # the error summary links to the field
