"""What association staff may submit for an experience (``ExperienceInput`` and its parts),
its limits, and the checks that need no database (``validate``).

``experiences_admin`` applies a valid input to the database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln

from ... import vocabulary
from ...errors import InvalidRequest
from ...models import PaymentMethod
from ...money import MAX_CENTS

SLUG_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LOCALES = ("es", "en")
TEXT_LIMITS = {
    "title": 200,
    "summary": 400,
    "description": 10_000,
    "what_to_bring": 5_000,
    "meeting_point": 300,
}
MAX_DURATION_MINUTES = 14 * 24 * 60
MAX_TICKETS = 100
MAX_STOPS = 30
MAX_POLICY_TIERS = 6
MAX_POLICY_HOURS = 24 * 365


@dataclass(frozen=True)
class TextInput:
    title: str
    summary: str = ""
    description: str = ""
    what_to_bring: str = ""
    meeting_point: str = ""


@dataclass(frozen=True)
class PriceInput:
    code: str
    #: None when no price was given: the category is not sold (kept inactive if it exists).
    price_cents: int | None
    active: bool = True


@dataclass(frozen=True)
class StopInput:
    #: The stop being edited, or None for a new one.
    stop_id: int | None
    family_id: int | None
    duration_minutes: int | None
    #: Per locale: (name, description). Spanish is required.
    texts: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class ExperienceInput:
    slug: str
    province: str
    duration_minutes: int
    max_tickets_per_booking: int
    deposit_percent: int
    texts: dict[str, TextInput]
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("es",)
    prices: tuple[PriceInput, ...] = ()
    stops: tuple[StopInput, ...] = ()
    #: (hours, percent) refund tiers.
    policy: tuple[tuple[int, int], ...] = ()
    payment_options: tuple[str, ...] = (PaymentMethod.ON_ARRIVAL.value,)


def whole(value, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(message, low=low, high=high)
    return value


def _codes(values, allowed: dict | set, message) -> list[str]:
    codes = list(dict.fromkeys(values))
    if any(code not in allowed for code in codes):
        raise InvalidRequest(message)
    return codes


def text_too_long(limit: int):
    """The message for a text over ``limit`` characters."""
    return _ln(
        "A text is longer than %(num)s character.",
        "A text is longer than %(num)s characters.",
        limit,
    )


def clean_text(value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidRequest(text_too_long(limit))
    return value


def validate(data: ExperienceInput) -> None:
    """Everything that can be checked without the database; raises ``InvalidRequest``."""
    if not SLUG_SHAPE.fullmatch(data.slug or "") or len(data.slug) > 80:
        raise InvalidRequest(
            _l("The address may use lowercase letters, digits and single hyphens.")
        )
    if data.province not in vocabulary.PROVINCES:
        raise InvalidRequest(_l("Choose a province."))
    _codes(data.themes, vocabulary.THEMES, _l("Choose themes from the list."))
    if not _codes(data.languages, vocabulary.LANGUAGES, _l("Choose languages from the list.")):
        raise InvalidRequest(_l("Choose at least one language."))
    whole(
        data.duration_minutes,
        15,
        MAX_DURATION_MINUTES,
        _ln(
            "The duration must be between %(low)s and %(num)s minute.",
            "The duration must be between %(low)s and %(num)s minutes.",
            MAX_DURATION_MINUTES,
            low=15,
        ),
    )
    whole(
        data.max_tickets_per_booking,
        1,
        MAX_TICKETS,
        _l("Tickets per booking must be between %(low)s and %(high)s."),
    )
    whole(data.deposit_percent, 1, 100, _l("The deposit must be between 1 and 100 percent."))
    methods = {m.value for m in PaymentMethod}
    if not _codes(data.payment_options, methods, _l("Choose payment options from the list.")):
        raise InvalidRequest(_l("Offer at least one way to pay."))
    if set(data.texts) - set(LOCALES):
        raise InvalidRequest(_l("Texts can be given in Spanish and English."))
    spanish = data.texts.get("es")
    if spanish is None or not (spanish.title or "").strip():
        raise InvalidRequest(_l("The Spanish title is required."))
    for text in data.texts.values():
        if not (text.title or "").strip():
            raise InvalidRequest(_l("Give a title for every language you write texts in."))
        for name, limit in TEXT_LIMITS.items():
            clean_text(getattr(text, name), limit)
    _validate_prices(data.prices)
    _validate_policy(data.policy)
    if len(data.stops) > MAX_STOPS:
        raise InvalidRequest(
            _ln(
                "An experience can have at most %(num)s stop.",
                "An experience can have at most %(num)s stops.",
                MAX_STOPS,
            )
        )


def _validate_prices(prices: tuple[PriceInput, ...]) -> None:
    codes = [p.code for p in prices]
    if len(set(codes)) != len(codes) or any(c not in vocabulary.PRICE_CATEGORIES for c in codes):
        raise InvalidRequest(_l("Choose ticket types from the list, each once."))
    for price in prices:
        if price.price_cents is None:
            continue
        whole(price.price_cents, 1, MAX_CENTS, _l("Write a price above zero, like 45 or 45.50."))


def _validate_policy(policy: tuple[tuple[int, int], ...]) -> None:
    if len(policy) > MAX_POLICY_TIERS:
        raise InvalidRequest(
            _ln(
                "Give at most %(num)s refund tier.",
                "Give at most %(num)s refund tiers.",
                MAX_POLICY_TIERS,
            )
        )
    for hours, percent in policy:
        notice = _ln(
            "Notice must be between %(low)s and %(num)s hour.",
            "Notice must be between %(low)s and %(num)s hours.",
            MAX_POLICY_HOURS,
            low=0,
        )
        whole(hours, 0, MAX_POLICY_HOURS, notice)
        whole(percent, 0, 100, _l("A refund must be between 0 and 100 percent."))
    tiers = sorted(policy, reverse=True)
    if len({hours for hours, _ in tiers}) != len(tiers):
        raise InvalidRequest(_l("Each refund tier needs a different notice in hours."))
    if any(later[1] > earlier[1] for earlier, later in zip(tiers, tiers[1:], strict=False)):
        raise InvalidRequest(_l("A later cancellation cannot get more back than an earlier one."))
