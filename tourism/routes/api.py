"""A small read-only JSON API for the pages' scripts and partner sites."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import vocabulary
from ..database import utcnow
from ..errors import InvalidRequest
from ..extensions import db
from ..forms.public import DAYS_AHEAD, CatalogFilterForm
from ..i18n import current_locale
from ..models import BookingStatus
from ..response_cache import cached_response
from ..services.booking import availability
from ..services.booking import lifecycle as booking_service
from ..services.catalog import search as catalog
from ..services.messages.links import absolute_url
from ..timefmt import display_zone, local, local_today
from .limits import token_lookup

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
                "url": absolute_url("public.experience", slug=entry.experience.slug),
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
@cached_response
def experience_availability(slug: str):
    """Departures between ``from`` and ``to`` (local dates, inclusive) with seats left."""
    experience = catalog.get_published_experience(db.session, slug)
    today = local_today()
    first = _parse_day("from", today)
    last = _parse_day("to", first + timedelta(days=current_app.config["AVAILABILITY_DAYS"]))
    if last < first:
        raise InvalidRequest(_("'to' must not be before 'from'."))
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidRequest(
            ngettext(
                "Ask for at most %(num)s day at a time.",
                "Ask for at most %(num)s days at a time.",
                MAX_RANGE_DAYS,
            )
        )
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
                "book_url": absolute_url("bookings.new", departure_id=slot.departure.id)
                if slot.bookable
                else None,
            }
            for slot in slots
        ],
    )


@bp.get("/bookings/<token>")
@token_lookup
def booking_status(token: str):
    """One booking's status, by the private manage token (the same secret as its page)."""
    booking = booking_service.find_by_token(db.session, token)
    departure = booking.departure
    held = booking.status == BookingStatus.HELD
    response = jsonify(
        reference=booking.reference,
        status=booking.status.value,
        experience=departure.experience.slug,
        departure={
            "id": departure.id,
            "starts_at": _iso(departure.starts_at),
            "ends_at": _iso(departure.ends_at),
            "status": departure.status.value,
        },
        hold_expires_at=_iso(booking.hold_expires_at) if held else None,
        payment_method=booking.payment_method,
        participants=booking.participants,
        total=_money(booking.total_cents, booking.currency),
        paid_online=_money(booking.paid_online_cents, booking.currency),
        due_on_arrival=_money(booking.due_on_arrival_cents, booking.currency),
        checked_in=booking.checked_in_at is not None,
        manage_url=absolute_url("bookings.manage", token=booking.manage_token),
    )
    # The token is a key: keep the answer out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    spec = Path(current_app.static_folder, "openapi.json").read_bytes()
    return Response(spec, mimetype="application/json")
