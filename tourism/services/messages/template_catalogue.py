"""The catalogue of every WhatsApp template the code sends, for Meta's approval.

Each kind of ``phone_texts.TEMPLATES`` is rendered in every language the site speaks with
sample values (the functions that write real messages, nothing copied by hand); each
variable's value is then replaced by its number, giving the body Meta wants (``{{1}}`` …)
with the sample as its example. ``flask messages templates`` writes the result to
``docs/whatsapp-templates.json``; a test fails when the file and the code disagree, so a
template cannot be added, reworded or given another variable without the catalogue knowing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

from flask import current_app

from ...i18n import available_locales
from . import phone_texts
from .phone_texts import TEMPLATES, Text

#: Where the catalogue is kept, next to the docs that say how to submit it.
CATALOGUE_PATH = Path(__file__).resolve().parents[3] / "docs" / "whatsapp-templates.json"
#: Meta's category for every one of ours: messages about a booking or a job, no marketing.
CATEGORY = "UTILITY"

_STARTS = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)  # 08:30 in Ecuador


def _experience(title: str):
    return SimpleNamespace(slug="ruta-del-cacao", text=lambda _locale: SimpleNamespace(title=title))


def _booking():
    return SimpleNamespace(
        reference="KAL-7F3K9Q",
        participants=2,
        currency="USD",
        manage_token="EXAMPLE-private-token-0000",  # noqa: S106 (a sample, not a secret)
        departure=SimpleNamespace(starts_at=_STARTS, experience=_experience("Ruta del Cacao")),
    )


def sample(kind: str, language: str) -> Text:
    """The message of ``kind`` in ``language`` with sample values."""
    nights = [date(2026, 12, 5), date(2026, 12, 6)]
    guests = [("Ana", 2, nights), ("Luis", 1, nights[:1])]
    needs = [("Ana", "vegetarian"), ("Luis", "")]
    samples = {
        "family_visitors": lambda: phone_texts.family_visitors_text(
            language, [(_STARTS, "Ruta del Cacao", 3)]
        ),
        "family_payout": lambda: phone_texts.family_payout_text(
            language, "Familia Grefa", 4550, "USD", _STARTS
        ),
        "guide_tomorrow": lambda: phone_texts.guide_tomorrow_text(
            language, [(_STARTS, "Ruta del Cacao", 4, 1)]
        ),
        "guide_assignments": lambda: phone_texts.guide_assignments_text(
            language, [(_STARTS, "Ruta del Cacao")], []
        ),
        "homestay_tomorrow": lambda: phone_texts.homestay_tomorrow_text(language, guests, needs),
        "homestay_booked": lambda: phone_texts.homestay_booked_text(language, guests, needs),
        "homestay_cancelled": lambda: phone_texts.homestay_cancelled_text(language, guests),
    }
    if kind in samples:
        return samples[kind]()
    text = phone_texts.booking_text(kind, _booking(), language, {"refund_cents": 4500})
    if text is None:
        raise LookupError(f"no sample for the WhatsApp template of {kind!r}")
    return text


def template_body(text: Text) -> str:
    """``text.body`` with each variable's value replaced by ``{{n}}`` (n from 1)."""
    body = text.body
    marks = {}
    for number, value in enumerate(text.variables, start=1):
        if not value or text.body.count(value) != 1:
            raise ValueError(f"{text.template}: variable {number} ({value!r}) not once in the body")
        marks[value] = f"{{{{{number}}}}}"
    for value in sorted(marks, key=len, reverse=True):
        body = body.replace(value, marks[value])
    return body


def build() -> list[dict]:
    """Every template the code sends, in every language, sorted by name and language."""
    entries = []
    for kind, name in sorted(TEMPLATES.items(), key=lambda item: item[1]):
        for language in sorted(available_locales()):
            text = sample(kind, language)
            example = [_site_free(value) for value in text.variables]
            entries.append(
                {
                    "name": name,
                    "language": language,
                    "category": CATEGORY,
                    "body": template_body(text),
                    "variables": len(text.variables),
                    "example": example,
                }
            )
    return entries


#: Examples name this site instead of the one configured, so the file is the same anywhere.
EXAMPLE_SITE = "https://chakraroutes.example"


def _site_free(value: str) -> str:
    return value.replace(current_app.config["PUBLIC_URL"].rstrip("/"), EXAMPLE_SITE)


def dumps(entries: list[dict]) -> str:
    return json.dumps(entries, ensure_ascii=False, indent=2) + "\n"


def load() -> list[dict]:
    """The catalogue as checked in."""
    return json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
