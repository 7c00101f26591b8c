"""Association staff shape their experiences: texts, themes, prices, stops, cancellation
policy, payment options, and the draft → published → archived life cycle.

Every function takes objects the caller already scoped with ``tenancy.get_scoped``; the
families a stop may name are checked here against the experience's own association. What may
be submitted, and the checks that need no database, are in ``experience_input`` (its names are
importable from here too).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ... import vocabulary
from ...errors import DomainError, InvalidRequest, UnknownStop
from ...models import (
    Association,
    Experience,
    ExperienceStatus,
    ExperienceText,
    ExperienceTheme,
    Family,
    PriceCategory,
    Stop,
    StopText,
    StopVisit,
)
from .experience_input import (
    LOCALES,
    MAX_DURATION_MINUTES,
    TEXT_LIMITS,
    ExperienceInput,
    PriceInput,
    StopInput,
    TextInput,
    clean_text,
    validate,
    whole,
)

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


class StopInUse(DomainError):
    status_code = 409
    default_message = _l("The stop “%(name)s” has visits recorded by guides and cannot be removed.")


class CannotPublish(DomainError):
    status_code = 409
    default_message = _l("This experience cannot be published yet.")


class IllegalStatusChange(DomainError):
    status_code = 409
    default_message = _l("This experience cannot go from %(current)s to %(target)s.")


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
    validate(data)
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
    validate(data)
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
            setattr(text, name, clean_text(getattr(given, name), limit))


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
        name = clean_text(name, 200)
        description = clean_text(description, 5_000)
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
            whole(
                item.duration_minutes,
                1,
                MAX_DURATION_MINUTES,
                _ln(
                    "The duration must be between %(low)s and %(num)s minute.",
                    "The duration must be between %(low)s and %(num)s minutes.",
                    MAX_DURATION_MINUTES,
                    low=1,
                ),
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
