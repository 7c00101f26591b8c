"""The main pages, asked for in Spanish, show no English: no phrase of three words or more
from a source string whose Spanish translation differs (or is missing) appears in their
visible text. Texts of the demo data, and anything marked with another ``lang``, are not
the interface's and are left out.

The phrases come from the strings the code and templates use now (extracted as
``flask translate extract`` does), so a new string fails this test until the Spanish catalog
translates it. The two control tests prove the check itself: it finds English on a page when
Spanish has no catalog, and finds nothing when every string has a translation.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.routes.test_manage_access import login
from tests.web.test_languages import fresh_translations  # noqa: F401  (autouse: a clean catalog cache)
from tourism.cli.translate import extract_messages
from tourism.demo import seed_demo
from tourism.extensions import db
from tourism.models import (
    Association,
    Booking,
    BookingStatus,
    DepartureGuide,
    Experience,
    ExperienceText,
    Family,
    StopText,
    User,
)
from tourism.timefmt import display_zone, local_today
from tourism.translation_tools import CATALOGS

ES = {"Accept-Language": "es"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")
#: Attributes read aloud or shown: they are part of the page's text too.
SPOKEN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


# --- The phrases ------------------------------------------------------------------------


def fragments(source: str) -> list[str]:
    """The literal runs of a source string of three words or more, placeholders cut out."""
    found = []
    for part in PLACEHOLDER.split(source.replace("%%", "%")):
        part = " ".join(re.sub(r"<[^>]+>", " ", part).split()).strip(" .,:;·")
        if len(part.split()) >= 3:
            found.append(part)
    return found


def english_phrases(template: Catalog, spanish: Catalog) -> set[str]:
    """Phrases of the source strings whose Spanish is missing, fuzzy or different."""
    phrases = set()
    for message in template:
        if not message.id:
            continue
        sources = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        translated = spanish.get(message.id, message.context)
        strings = ()
        if translated is not None and not translated.fuzzy:
            strings = (
                (translated.string,)
                if isinstance(translated.string, str)
                else tuple(translated.string)
            )
        if strings == sources:
            continue  # the same in both languages (names, codes)
        for source in sources:
            phrases.update(fragments(source))
    return phrases


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    """Every string the code and templates use today."""
    return read_catalog(extract_messages(tmp_path_factory.mktemp("extracted")))


# --- The visible text -------------------------------------------------------------------


class VisibleText(HTMLParser):
    """Text and spoken attributes, without scripts, styles and parts in another language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, hidden)

    def hidden(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = attributes.get("lang")
        hidden = (
            self.hidden()
            or tag in ("script", "style")
            or (lang is not None and not lang.startswith("es"))
        )
        if not hidden:
            self.parts.extend(
                attributes[name] or "" for name in SPOKEN_ATTRIBUTES if name in attributes
            )
            if tag == "input" and attributes.get("type") in ("submit", "button"):
                self.parts.append(attributes.get("value") or "")
        if tag not in VOID:
            self.open.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data):
        if not self.hidden():
            self.parts.append(data)


def visible_text(html: str, leave_out: list[str]) -> str:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    for value in leave_out:  # longest first, so a text is removed before its parts
        text = text.replace(value, " ")
    return text


def demo_texts() -> list[str]:
    """What the associations wrote (in any language): not the interface's strings."""
    values: set[str] = set()
    for model, columns in (
        (ExperienceText, ("title", "summary", "description", "what_to_bring", "meeting_point")),
        (StopText, ("name", "description")),
        (Association, ("name", "description_es", "description_en")),
        (Family, ("name", "community")),
    ):
        for row in db.session.execute(select(*(getattr(model, c) for c in columns))):
            for value in row:
                if value:
                    values.add(" ".join(value.split()))
    return sorted(values, key=len, reverse=True)


def english_on(html: str, phrases: set[str], leave_out: list[str]) -> list[str]:
    text = visible_text(html, leave_out)
    return sorted(phrase for phrase in phrases if phrase in text)


# --- The pages --------------------------------------------------------------------------


@pytest.fixture
def demo(session):
    seed_demo(session, local_today(), display_zone(), history=False)
    session.commit()


def user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def main_pages(app) -> dict[str, tuple[object, str]]:
    """Name → (client, path) of the main pages of every kind of user, on the demo data."""
    kallari = db.session.execute(
        select(Association).where(Association.slug == "kallari")
    ).scalar_one()
    cacao = db.session.execute(
        select(Experience).where(Experience.slug == "kallari-cacao-route")
    ).scalar_one()
    guide = user("guia@kallari.demo")
    led = db.session.execute(
        select(DepartureGuide.departure_id).where(DepartureGuide.user_id == guide.id).limit(1)
    ).scalar_one()
    booking = db.session.execute(
        select(Booking)
        .where(Booking.departure_id == led, Booking.status == BookingStatus.CONFIRMED)
        .limit(1)
    ).scalar_one()

    visitor = app.test_client()
    guiding = app.test_client()
    login(guiding, guide)
    managing = app.test_client()
    login(managing, user("admin@kallari.demo"))
    return {
        "home": (visitor, "/"),
        "experience": (visitor, f"/experiences/{cacao.slug}"),
        "booking form": (visitor, f"/departures/{led}/book"),
        "booking": (visitor, f"/bookings/{booking.manage_token}"),
        "login": (visitor, "/login"),
        "guide schedule": (guiding, "/guide/"),
        "manifest": (guiding, f"/guide/departures/{led}"),
        "dashboard": (managing, "/manage/"),
        "treasury": (managing, f"/manage/associations/{kallari.id}/treasury"),
        "reports": (managing, f"/manage/associations/{kallari.id}/reports"),
    }


def english_on_main_pages(app, phrases: set[str]) -> dict[str, list[str]]:
    leave_out = demo_texts()
    found = {}
    for name, (client, path) in main_pages(app).items():
        response = client.get(path, headers=ES)
        assert response.status_code == 200, (name, path, response.status_code)
        html = response.get_data(as_text=True)
        assert '<html lang="es">' in html, name
        english = english_on(html, phrases, leave_out)
        if english:
            found[name] = english
    return found


def test_main_pages_in_spanish_show_no_english(app, demo, template):
    spanish = read_catalog(CATALOGS / "es" / "LC_MESSAGES" / "messages.po")
    phrases = english_phrases(template, spanish)
    assert len(phrases) > 100  # the check has something to look for
    found = english_on_main_pages(app, phrases)
    assert not found, "English on Spanish pages (translate these strings):\n" + "\n".join(
        f"{page}: {phrase}" for page, english in found.items() for phrase in english
    )


# --- Controls: the check finds English, and only English ----------------------------------


def write_spanish(folder: Path, template: Catalog, translate) -> Catalog:
    """A compiled Spanish catalog under ``folder`` with ``translate(source)`` for each string."""
    spanish = Catalog(locale="es", fuzzy=False)
    for message in template:
        if message.id:
            sources = message.id if isinstance(message.id, str) else tuple(message.id)
            strings = (
                translate(sources)
                if isinstance(sources, str)
                else plural_forms(spanish, tuple(map(translate, sources)))
            )
            spanish.add(sources, strings, context=message.context)
    target = folder / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, spanish)
    return spanish


def plural_forms(catalog: Catalog, translated: tuple[str, str]) -> tuple[str, ...]:
    """As many forms as the catalog's language has (Babel's CLDR data decides: Spanish has
    had two, and three since Babel 2.19): the singular first, the plural for every other."""
    singular, plural = translated
    return (singular,) + (plural,) * (catalog.num_plurals - 1)


def shout(source: str) -> str:
    """A stand-in translation: the source in capitals, placeholders kept as they are."""
    pieces = PLACEHOLDER.split(source)
    holders = PLACEHOLDER.findall(source)
    out = pieces[0].upper()
    for holder, piece in zip(holders, pieces[1:], strict=True):
        out += holder + piece.upper()
    return out


def test_control_every_string_translated_passes(make_app, tmp_path, template):
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    spanish = write_spanish(tmp_path, template, shout)
    phrases = english_phrases(template, spanish)
    assert len(phrases) > 100
    with app.app_context():
        seed_demo(db.session, local_today(), display_zone(), history=False)
        db.session.commit()
        assert english_on_main_pages(app, phrases) == {}


def test_control_english_is_found(make_app, tmp_path, template):
    # No Spanish catalog at all: the pages show the English source strings.
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    phrases = english_phrases(template, Catalog(locale="es"))
    with app.app_context():
        html = app.test_client().get("/login", headers=ES).get_data(as_text=True)
    found = english_on(html, phrases, [])
    assert "Skip to main content" in found
    # Text marked as another language is not the page's.
    assert english_on('<p lang="en">Skip to main content</p>', phrases, []) == []
    assert english_on('<p lang="es">Skip to main content</p>', phrases, []) == [
        "Skip to main content"
    ]
    assert english_on('<img alt="Skip to main content">', phrases, []) == ["Skip to main content"]
