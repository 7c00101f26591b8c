"""An experience or stop without a text in the visitor's language shows the Spanish one,
marked lang="es" and said in a visible note, the same on every page and email."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from tourism.extensions import db
from tourism.models import StopText
from tourism.services.messages import rendering as email_rendering

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}
NOTE = "Only available in Spanish"


def spanish_only(make):
    """An experience whose texts exist only in Spanish, with one stop."""
    experience = make.experience()
    experience.texts = [t for t in experience.texts if t.locale == "es"]
    make.stop(experience)
    return experience


def notes(html: str) -> list[str]:
    """The lang attribute of each fallback note on the page."""
    return re.findall(r'<p class="[^"]*" lang="([a-z]+)">' + NOTE + "</p>", html)


def test_experience_page_marks_the_spanish_text_and_says_so(client, make):
    experience = spanish_only(make)
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    title = experience.text("es").title
    assert f'<h1 lang="es">{title}</h1>' in html
    assert '<p class="lead" lang="es">Resumen</p>' in html
    assert '<h3 lang="es">Chakra de prueba</h3>' in html
    # One note for the whole page (the stops are in the same language), in English.
    assert notes(html) == ["en"]


def test_a_stop_missing_in_english_gets_its_own_note(client, make):
    experience = make.experience()  # Spanish and English texts
    make.stop(experience)  # Spanish only
    translated = make.stop(experience)
    translated.texts.append(StopText(locale="en", name="Cacao garden", description="A stop"))
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    assert f"<h1>{experience.text('en').title}</h1>" in html
    assert '<h3 lang="es">Chakra de prueba</h3>' in html and "<h3>Cacao garden</h3>" in html
    assert notes(html) == ["en"]


def test_no_note_when_the_text_is_in_the_visitors_language(client, make):
    experience = make.experience()
    english = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    assert NOTE not in english
    spanish_page = spanish_only(make)
    spanish = client.get(f"/experiences/{spanish_page.slug}", headers=ES).get_data(as_text=True)
    assert "Solo disponible" not in spanish and NOTE not in spanish
    assert f"<h1>{spanish_page.text('es').title}</h1>" in spanish  # no lang: it is the page's


def test_catalog_card_says_so(client, make):
    experience = spanish_only(make)
    make.departure(experience)
    html = client.get("/", headers=EN).get_data(as_text=True)
    card = html[html.index(experience.text("es").title) :]
    card = card[: card.index("</article>")]
    assert f'<p class="card__note" lang="en">{NOTE}</p>' in card


@pytest.mark.parametrize("page", ["book", "manage", "cancel"])
def test_booking_pages_say_so(client, make, page):
    experience = spanish_only(make)
    departure = make.departure(experience, starts_in=timedelta(days=10))
    booking = make.booking(departure)
    path = {
        "book": f"/departures/{departure.id}/book",
        "manage": f"/bookings/{booking.manage_token}",
        "cancel": f"/bookings/{booking.manage_token}/cancel",
    }[page]
    response = client.get(path, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert notes(html) == ["en"]
    assert f'lang="es">{experience.text("es").title}<' in html


def test_emails_say_so(app, make):
    experience = spanish_only(make)
    booking = make.booking(make.departure(experience), language="en")
    db.session.commit()
    with app.test_request_context(), force_locale("en"):
        rendered = email_rendering.render(email_rendering.CONFIRMED, booking, "en", {})
    assert NOTE in rendered.html and NOTE in rendered.text
    title = experience.text("es").title
    assert f'lang="es">{title}</td>' in rendered.html
