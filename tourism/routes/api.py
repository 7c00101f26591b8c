"""A small read-only JSON API for the pages' scripts and partner sites."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from .. import vocabulary
from ..database import utcnow
from ..errors import InvalidRequest
from ..extensions import db
from ..forms import DAYS_AHEAD, CatalogFilterForm
from ..services import availability, catalog
from ..timefmt import display_zone, local, local_today
from .helpers import current_locale

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_RANGE_DAYS = 92


def _money(cents: int | None, currency: str) -> dict | None:
    if cents is None:
        return None
    return {"amount_cents": cents, "currency": currency}


def _iso(moment: datetime | None) -> str | None:
    return local(moment).isoformat() if moment else None


@bp.get("/experiences")
def experiences():
    """Published experiences, with the catalog's filters as query arguments."""
    form = CatalogFilterForm(request.args)
    if request.args and not form.validate():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return jsonify(
            error={"status": 400, "message": _("Invalid filters."), "fields": errors}
        ), 400
    min_price, max_price = form.price_range() if request.args else (None, None)
    locale = current_locale()
    filters = catalog.CatalogFilters(
        province=form.province.data or None,
        theme=form.theme.data or None,
        on_date=form.date.data,
        min_price_cents=min_price,
        max_price_cents=max_price,
        sort=form.sort.data or "soonest",
        locale=locale,
    )
    entries = catalog.search_experiences(db.session, filters, utcnow(), display_zone())
    return jsonify(
        experiences=[
            {
                "slug": entry.experience.slug,
                "title": entry.experience.text(locale).title,
                "summary": entry.experience.text(locale).summary,
                "association": entry.experience.association.name,
                "province": entry.experience.province,
                "themes": entry.experience.theme_codes,
                "languages": entry.experience.language_codes,
                "duration_minutes": entry.experience.duration_minutes,
                "from_price": _money(entry.from_price_cents, entry.experience.currency),
                "next_departure": _iso(entry.next_departure),
                "url": url_for("public.experience", slug=entry.experience.slug, _external=True),
            }
            for entry in entries
        ]
    )


def _parse_day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidRequest(
            _("'%(name)s' must be a date written as YYYY-MM-DD.", name=name)
        ) from exc
    today = local_today()
    if not today - timedelta(days=DAYS_AHEAD) <= day <= today + timedelta(days=DAYS_AHEAD):
        raise InvalidRequest(_("'%(name)s' is too far from today.", name=name))
    return day


@bp.get("/experiences/<slug>/availability")
def experience_availability(slug: str):
    """Departures between ``from`` and ``to`` (local dates, inclusive) with seats left."""
    experience = catalog.get_published_experience(db.session, slug)
    today = local_today()
    first = _parse_day("from", today)
    last = _parse_day("to", first + timedelta(days=current_app.config["AVAILABILITY_DAYS"]))
    if last < first:
        raise InvalidRequest(_("'to' must not be before 'from'."))
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidRequest(_("Ask for at most %(days)s days at a time.", days=MAX_RANGE_DAYS))
    zone = display_zone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    slots = availability.departures_between(db.session, experience.id, start, end, utcnow())
    return jsonify(
        experience=experience.slug,
        timezone=str(zone),
        currency=experience.currency,
        prices=[
            {
                "code": pc.code,
                "label": vocabulary.label(vocabulary.PRICE_CATEGORIES, pc.code),
                "amount_cents": pc.price_cents,
            }
            for pc in experience.price_categories
            if pc.is_active
        ],
        departures=[
            {
                "id": slot.departure.id,
                "starts_at": _iso(slot.departure.starts_at),
                "ends_at": _iso(slot.departure.ends_at),
                "capacity": slot.departure.capacity,
                "seats_left": slot.seats_left,
                "status": slot.departure.status.value,
                "book_url": url_for("bookings.new", departure_id=slot.departure.id, _external=True)
                if slot.bookable
                else None,
            }
            for slot in slots
        ],
    )
