"""Association staff shape their experiences: texts, themes, prices, stops, cancellation
policy, payment options, and the draft → published → archived life cycle.

Every function takes objects the caller already scoped with ``tenancy.get_scoped``; the
families a stop may name are checked here against the experience's own association.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import vocabulary
from ..errors import DomainError, InvalidRequest
from ..models import (
    Association,
    Experience,
    ExperienceStatus,
    ExperienceText,
    ExperienceTheme,
    Family,
    PaymentMethod,
    PriceCategory,
    Stop,
    StopText,
    StopVisit,
)
from ..money import MAX_CENTS

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
STATUS_LABELS = {
    ExperienceStatus.DRAFT: _l("draft"),
    ExperienceStatus.PUBLISHED: _l("published"),
    ExperienceStatus.ARCHIVED: _l("archived"),
}
#: Where an experience may go from each status; ``change_status`` enforces it.
STATUS_MOVES = {
    ExperienceStatus.DRAFT: frozenset({ExperienceStatus.PUBLISHED, ExperienceStatus.ARCHIVED}),
    ExperienceStatus.PUBLISHED: frozenset({ExperienceStatus.ARCHIVED}),
    ExperienceStatus.ARCHIVED: frozenset({ExperienceStatus.PUBLISHED}),
}


class SlugTaken(DomainError):
    status_code = 409
    default_message = _l("Another experience already uses the address “%(slug)s”.")


class UnknownFamily(InvalidRequest):
    default_message = _l("That family is not part of this association.")


class UnknownStop(InvalidRequest):
    default_message = _l("That stop is not part of this experience.")


class StopInUse(DomainError):
    status_code = 409
    default_message = _l("The stop “%(name)s” has visits recorded by guides and cannot be removed.")


class CannotPublish(DomainError):
    status_code = 409
    default_message = _l("This experience cannot be published yet.")


class IllegalStatusChange(DomainError):
    status_code = 409
    default_message = _l("This experience cannot go from %(current)s to %(target)s.")


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


def _whole(value, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(message, low=low, high=high)
    return value


def _codes(values, allowed: dict | set, message) -> list[str]:
    codes = list(dict.fromkeys(values))
    if any(code not in allowed for code in codes):
        raise InvalidRequest(message)
    return codes


def _clean_text(value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise InvalidRequest(_l("A text is longer than %(n)s characters.", n=limit))
    return value


def _validate(data: ExperienceInput) -> None:
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
    _whole(
        data.duration_minutes,
        15,
        MAX_DURATION_MINUTES,
        _l("The duration must be between %(low)s and %(high)s minutes."),
    )
    _whole(
        data.max_tickets_per_booking,
        1,
        MAX_TICKETS,
        _l("Tickets per booking must be between %(low)s and %(high)s."),
    )
    _whole(data.deposit_percent, 1, 100, _l("The deposit must be between 1 and 100 percent."))
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
            _clean_text(getattr(text, name), limit)
    _validate_prices(data.prices)
    _validate_policy(data.policy)
    if len(data.stops) > MAX_STOPS:
        raise InvalidRequest(_l("An experience can have at most %(n)s stops.", n=MAX_STOPS))


def _validate_prices(prices: tuple[PriceInput, ...]) -> None:
    codes = [p.code for p in prices]
    if len(set(codes)) != len(codes) or any(c not in vocabulary.PRICE_CATEGORIES for c in codes):
        raise InvalidRequest(_l("Choose ticket types from the list, each once."))
    for price in prices:
        if price.price_cents is None:
            continue
        _whole(price.price_cents, 1, MAX_CENTS, _l("Write a price above zero, like 45 or 45.50."))


def _validate_policy(policy: tuple[tuple[int, int], ...]) -> None:
    if len(policy) > MAX_POLICY_TIERS:
        raise InvalidRequest(_l("Give at most %(n)s refund tiers.", n=MAX_POLICY_TIERS))
    for hours, percent in policy:
        _whole(hours, 0, MAX_POLICY_HOURS, _l("Notice must be between %(low)s and %(high)s hours."))
        _whole(percent, 0, 100, _l("A refund must be between 0 and 100 percent."))
    tiers = sorted(policy, reverse=True)
    if len({hours for hours, _ in tiers}) != len(tiers):
        raise InvalidRequest(_l("Each refund tier needs a different notice in hours."))
    if any(later[1] > earlier[1] for earlier, later in zip(tiers, tiers[1:], strict=False)):
        raise InvalidRequest(_l("A later cancellation cannot get more back than an earlier one."))


def _check_slug_free(session: Session, slug: str, experience: Experience | None) -> None:
    statement = select(Experience.id).where(Experience.slug == slug)
    if experience is not None and experience.id is not None:
        statement = statement.where(Experience.id != experience.id)
    if session.scalar(statement) is not None:
        raise SlugTaken(slug=slug)


def _flush_unique(session: Session, slug: str) -> None:
    """Flush; a concurrent request that took the slug first becomes ``SlugTaken``, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise SlugTaken(slug=slug) from exc


def list_experiences(session: Session, association: Association) -> list[Experience]:
    """The association's experiences, newest first, with what the list shows preloaded."""
    return list(
        session.execute(
            select(Experience)
            .where(Experience.association_id == association.id)
            .options(selectinload(Experience.texts), selectinload(Experience.price_categories))
            .order_by(Experience.created_at.desc(), Experience.id.desc())
        ).scalars()
    )


def create_experience(
    session: Session, association: Association, data: ExperienceInput
) -> Experience:
    """A new draft experience of ``association``; nothing is written if ``data`` is invalid."""
    _validate(data)
    _check_slug_free(session, data.slug, None)
    experience = Experience(association_id=association.id, status=ExperienceStatus.DRAFT)
    _check_families(session, association.id, data.stops)
    _apply(session, experience, data)
    session.add(experience)
    _flush_unique(session, data.slug)
    _sync_stops(session, experience, data.stops)
    return experience


def update_experience(session: Session, experience: Experience, data: ExperienceInput) -> None:
    """Replace an experience's editable facts with ``data``; all or nothing."""
    _validate(data)
    _check_slug_free(session, data.slug, experience)
    _check_families(session, experience.association_id, data.stops)
    _apply(session, experience, data)
    _flush_unique(session, data.slug)
    _sync_stops(session, experience, data.stops)


def _apply(session: Session, experience: Experience, data: ExperienceInput) -> None:
    experience.slug = data.slug
    experience.province = data.province
    experience.duration_minutes = data.duration_minutes
    experience.max_tickets_per_booking = data.max_tickets_per_booking
    experience.deposit_percent = data.deposit_percent
    experience.languages = ",".join(dict.fromkeys(data.languages))
    experience.payment_options = ",".join(dict.fromkeys(data.payment_options))
    experience.cancellation_policy = [
        {"hours": hours, "percent": percent} for hours, percent in sorted(data.policy, reverse=True)
    ]
    _sync_texts(experience, data.texts)
    _sync_themes(experience, data.themes)
    _sync_prices(experience, data.prices)


def _sync_texts(experience: Experience, texts: dict[str, TextInput]) -> None:
    existing = {t.locale: t for t in experience.texts}
    for locale, current in existing.items():
        if locale not in texts:
            experience.texts.remove(current)
    for locale, given in texts.items():
        text = existing.get(locale)
        if text is None:
            text = ExperienceText(locale=locale)
            experience.texts.append(text)
        for name, limit in TEXT_LIMITS.items():
            setattr(text, name, _clean_text(getattr(given, name), limit))


def _sync_themes(experience: Experience, themes: tuple[str, ...]) -> None:
    wanted = list(dict.fromkeys(themes))
    for theme in list(experience.themes):
        if theme.theme not in wanted:
            experience.themes.remove(theme)
    have = {t.theme for t in experience.themes}
    experience.themes.extend(ExperienceTheme(theme=code) for code in wanted if code not in have)


def _sync_prices(experience: Experience, prices: tuple[PriceInput, ...]) -> None:
    """Prices are never deleted (bookings point at them): an unsold category goes inactive."""
    existing = {pc.code: pc for pc in experience.price_categories}
    order = list(vocabulary.PRICE_CATEGORIES)
    for price in prices:
        category = existing.get(price.code)
        if price.price_cents is None:
            if category is not None:
                category.is_active = False
            continue
        if category is None:
            category = PriceCategory(code=price.code)
            experience.price_categories.append(category)
        category.price_cents = price.price_cents
        category.is_active = price.active
        category.position = order.index(price.code)


def _check_families(session: Session, association_id: int, stops: tuple[StopInput, ...]) -> None:
    wanted = {s.family_id for s in stops if s.family_id is not None}
    if not wanted:
        return
    found = set(
        session.execute(
            select(Family.id).where(Family.id.in_(wanted), Family.association_id == association_id)
        ).scalars()
    )
    if wanted - found:
        raise UnknownFamily()


def _stop_texts(item: StopInput) -> dict[str, tuple[str, str]]:
    texts = {}
    for locale, (name, description) in item.texts.items():
        if locale not in LOCALES:
            raise InvalidRequest(_l("Texts can be given in Spanish and English."))
        name = _clean_text(name, 200)
        description = _clean_text(description, 5_000)
        if description and not name:
            raise InvalidRequest(_l("Give the stop a name in every language you describe it in."))
        if name:
            texts[locale] = (name, description)
    if "es" not in texts:
        raise InvalidRequest(_l("Every stop needs a Spanish name."))
    return texts


def _sync_stops(session: Session, experience: Experience, stops: tuple[StopInput, ...]) -> None:
    """Make the itinerary exactly ``stops``, in that order, keeping the ids of edited stops."""
    by_id = {stop.id: stop for stop in experience.stops}
    given_ids = [item.stop_id for item in stops if item.stop_id is not None]
    if len(set(given_ids)) != len(given_ids) or set(given_ids) - set(by_id):
        raise UnknownStop()
    cleaned = [(item, _stop_texts(item)) for item in stops]
    for item in stops:
        if item.duration_minutes is not None:
            _whole(
                item.duration_minutes,
                1,
                MAX_DURATION_MINUTES,
                _l("The duration must be between %(low)s and %(high)s minutes."),
            )
    removed = [stop for stop_id, stop in by_id.items() if stop_id not in given_ids]
    for stop in removed:
        visited = session.scalar(
            select(func.count(StopVisit.id)).where(StopVisit.stop_id == stop.id)
        )
        if visited:
            text = stop.text("es")
            raise StopInUse(name=text.name if text else str(stop.position + 1))
    for stop in removed:
        experience.stops.remove(stop)
    # Positions are unique per experience: park the kept stops out of the way first.
    for offset, stop_id in enumerate(given_ids, start=1):
        by_id[stop_id].position = -offset
    session.flush()
    for position, (item, texts) in enumerate(cleaned):
        stop = by_id[item.stop_id] if item.stop_id is not None else Stop()
        if item.stop_id is None:
            experience.stops.append(stop)
        stop.position = position
        stop.family_id = item.family_id
        stop.duration_minutes = item.duration_minutes
        current = {t.locale: t for t in stop.texts}
        for locale, text in current.items():
            if locale not in texts:
                stop.texts.remove(text)
        for locale, (name, description) in texts.items():
            text = current.get(locale)
            if text is None:
                text = StopText(locale=locale)
                stop.texts.append(text)
            text.name, text.description = name, description
    session.flush()
    session.expire(experience, ["stops"])


def change_status(session: Session, experience: Experience, target: ExperienceStatus) -> None:
    """Publish or archive. Publishing needs a Spanish title and at least one active price."""
    if target == experience.status:
        return
    if target not in STATUS_MOVES[experience.status]:
        raise IllegalStatusChange(
            current=STATUS_LABELS[experience.status], target=STATUS_LABELS[target]
        )
    if target == ExperienceStatus.PUBLISHED:
        spanish = next((t for t in experience.texts if t.locale == "es"), None)
        if spanish is None or not spanish.title.strip():
            raise CannotPublish(_l("Give the experience a Spanish title before publishing it."))
        if not any(pc.is_active and pc.price_cents > 0 for pc in experience.price_categories):
            raise CannotPublish(_l("Offer at least one ticket price before publishing."))
    experience.status = target
    session.flush()


def publish_experience(session: Session, experience: Experience) -> None:
    change_status(session, experience, ExperienceStatus.PUBLISHED)


def archive_experience(session: Session, experience: Experience) -> None:
    change_status(session, experience, ExperienceStatus.ARCHIVED)
