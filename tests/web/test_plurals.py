"""Counts go through ngettext: never "1 seats" / "solo quedan 1 cupos".

Two checks. Every string the code and templates translate with plain ``_()`` is scanned for
a number placeholder followed by a plural noun (such a string can only be right for one
count; with a negative control). And the pages and emails a visitor sees are rendered with
counts of 1, in Spanish and English, and searched for "1" before a plural noun."""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from tourism.models import BookingStatus
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import get_mailer

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("tourism/**.py", "python"),
    ("tourism/templates/**.html", "jinja2"),
    ("tourism/templates/**.txt", "jinja2"),
]
#: Babel's default keywords plus the project's (tourism/cli/translate.py).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "_ln": (1, 2),
    "lazy_ngettext": (1, 2),
}

#: Placeholders that hold text, never a count (names, amounts, dates…). A new placeholder
#: that holds text is added here; one that holds a count belongs in ngettext.
TEXT_PLACEHOLDERS = frozenset(
    """amount price name title reference date time start end association family reason
    language email url ticket role percent inviter party value slug needs what field
    filename who error label experience guide stop month period when setting place path
    provider status current target year zone offset seller number version batch available
    families fees code""".split()
)
#: Words ending in "s" that are not plural nouns.
NOT_PLURAL = frozenset(
    "is was has as its this us yes plus less across process address access status does goes "
    "thus always perhaps news series minus".split()
)
PLACEHOLDER_THEN_WORDS = re.compile(r"%\((\w+)\)[sd]\s+([A-Za-z]+)(?:\s+([A-Za-z]+))?")


def counted_plurals(message: str) -> list[str]:
    """The "placeholder noun" pieces of ``message`` where a count meets a plural noun."""
    found = []
    for name, first, second in PLACEHOLDER_THEN_WORDS.findall(message):
        if name in TEXT_PLACEHOLDERS:
            continue
        for word in (first, second):
            if word and len(word) > 2 and word.endswith("s") and word.lower() not in NOT_PLURAL:
                found.append(f"%({name})s … {word}")
                break
            if word in ("people", "children"):
                found.append(f"%({name})s … {word}")
                break
    return found


def test_the_scan_finds_a_count_before_a_plural_noun():
    """The negative control: the strings this test was written for are caught, and
    sentences whose placeholders hold text are not."""
    for bad in (
        "Sorry, only %(left)s seats are left on this departure.",
        "You already have %(count)d unpaid bookings waiting.",
        "Give at most %(n)s refund tiers.",
        "%(num)s people",
    ):
        assert counted_plurals(bad), bad
    for rendered in ("solo quedan 1 cupos en esta salida", "only 1 seats are left", "1 people"):
        assert PLURAL_NOUNS.search(rendered), rendered
    assert not PLURAL_NOUNS.search("Queda 1 cupo · 12 cupos · 1 hora")
    for fine in (
        "%(amount)s to the host families",
        "Booking %(reference)s is not confirmed",
        "%(name)s is checked in.",
        "Cancel any time before the departure: %(percent)s%% refund",
    ):
        assert not counted_plurals(fine), fine


def test_no_singular_string_puts_a_count_before_a_plural_noun():
    found, singular, plural = [], 0, 0
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, str):
            singular += 1
            found.extend(f"{filename}: {piece}" for piece in counted_plurals(message))
        else:  # ngettext and friends give (singular, plural)
            plural += 1
    assert singular > 300 and plural > 40, "the extraction found almost nothing"
    assert found == [], "use ngettext for these counts:\n" + "\n".join(found)


# --- Rendered with counts of 1 ---------------------------------------------------------------

PLURAL_NOUNS = re.compile(
    r"\b1\s+(?:\w+\s+)?("
    r"seats|tickets|people|persons|hours|days|minutes|months|families|guides|visitors|"
    r"experiences|departures|bookings|things|characters|stops|photos|tiers|"
    r"cupos|entradas|personas|horas|días|minutos|meses|familias|guías|visitantes|"
    r"experiencias|salidas|reservas|cosas|caracteres|paradas|fotos|tramos"
    r")\b"
)


def visible_text(page: str) -> str:
    without = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", without))


def assert_no_singular_count_as_plural(text: str, where: str) -> None:
    match = PLURAL_NOUNS.search(text)
    assert match is None, f"{where}: …{text[max(0, match.start() - 60) : match.end() + 20]}…"


@pytest.fixture
def one_of_everything(make):
    """An experience of one hour, one ticket per booking, refunds up to one hour before, and
    a departure with one seat left."""
    experience = make.experience(
        duration_minutes=60,
        max_tickets_per_booking=1,
        cancellation_policy=[{"hours": 1, "percent": 100}],
        prices={"adult": 4500},
    )
    departure = make.departure(experience, capacity=2)
    booking = make.booking(departure, quantities={"adult": 1}, language="es")
    return experience, departure, booking


@pytest.mark.parametrize("language", ["es", "en"])
def test_pages_with_counts_of_one(client, one_of_everything, language):
    experience, departure, booking = one_of_everything
    headers = {"Accept-Language": language}
    pages = {
        "experience": client.get(f"/experiences/{experience.slug}", headers=headers),
        "booking form": client.get(f"/departures/{departure.id}/book", headers=headers),
        "booking": client.get(f"/bookings/{booking.manage_token}", headers=headers),
        "cancel": client.get(f"/bookings/{booking.manage_token}/cancel", headers=headers),
        # One thing to correct: only the name is missing.
        "form errors": client.post(
            f"/departures/{departure.id}/book",
            data={
                f"qty_{experience.price_categories[0].id}": "1",
                "email": "ana@example.org",
                "phone": "+593 99 123 4567",
                "country": "EC",
                "language": language,
                "payment_method": "on_arrival",
            },
            headers=headers,
        ),
    }
    texts = {name: visible_text(page.get_data(as_text=True)) for name, page in pages.items()}
    for name, text in texts.items():
        assert_no_singular_count_as_plural(text, name)
    singular = {
        "es": ("Queda 1 cupo", "Hasta 1 entrada por reserva", "1 hora", "1 cosa por corregir"),
        "en": ("1 seat left", "Up to 1 ticket per booking", "1 hour", "1 thing to correct"),
    }[language]
    everything = " ".join(texts.values())
    for phrase in singular:
        assert phrase in everything, phrase


def test_one_seat_left_when_two_are_asked_for(client, make):
    departure = make.departure(capacity=2)
    make.booking(departure, quantities={"adult": 1})
    adult = departure.experience.price_categories[0]
    for language, expected in (("es", "solo queda 1 cupo"), ("en", "only 1 seat is left")):
        response = client.post(
            f"/departures/{departure.id}/book",
            data={
                f"qty_{adult.id}": "2",
                "name": "Ana",
                "email": "ana@example.org",
                "phone": "+593 99 123 4567",
                "country": "EC",
                "language": language,
                "payment_method": "on_arrival",
            },
            headers={"Accept-Language": language},
        )
        text = visible_text(response.get_data(as_text=True))
        assert expected in text
        assert_no_singular_count_as_plural(text, language)


@pytest.mark.parametrize("language", ["es", "en"])
def test_emails_with_counts_of_one(app, session, one_of_everything, tmp_path, language):
    _, _, booking = one_of_everything
    booking.language = language
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    notifications.queue(session, booking, "confirmed")
    notifications.queue(session, booking, "reminder")
    booking.status = BookingStatus.CANCELLED
    notifications.queue(session, booking, "cancelled", refund_cents=0)
    session.commit()
    notifications.deliver_pending(session, get_mailer(app.config))
    session.commit()
    paths = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(paths) == 3
    for path in paths:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for kind in ("plain", "html"):
            body = message.get_body(preferencelist=(kind,)).get_content()
            assert_no_singular_count_as_plural(visible_text(body), f"{path.name} {kind}")
