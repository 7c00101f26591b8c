"""The OCTO supplier API for resellers and OTAs (``/octo``): products, availability and
bookings of the experiences a reseller may sell, with its Bearer key.

Every answer is JSON; every refusal is OCTO's error object (``services/channels/
octo_errors.py``), also for unknown paths and faults (``routes/errors.py``). Capabilities
asked for in the ``Octo-Capabilities`` header (``octo/pricing``, ``octo/content``) add their
fields; the header of the answer names those applied.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from .. import vocabulary
from ..database import utcnow
from ..errors import DomainError
from ..extensions import csrf, db
from ..i18n import available_locales, current_locale
from ..models import ChannelBooking, ChannelRouteBooking
from ..response_cache import body_digest, cached_query
from ..services.channels import (
    booking_search,
    products,
    resellers,
    reservations,
    route_products,
    route_sales,
    route_slots,
    route_units,
    slots,
)
from ..services.channels import octo_errors as errors
from ..services.channels.representation import booking_object
from ..services.channels.route_representation import route_booking_object
from ..text_input import ascii_whole_number
from ..unit_of_work import unit_of_work

bp = Blueprint("octo", __name__, url_prefix="/octo")
csrf.exempt(bp)

CAPABILITIES_HEADER = "Octo-Capabilities"
#: Deepest nesting of a request body we read (OCTO's bodies are three levels deep).
MAX_DEPTH = 8


def _capabilities() -> products.Capabilities:
    asked = {
        part.strip().lower() for part in request.headers.get(CAPABILITIES_HEADER, "").split(",")
    }
    return products.Capabilities(pricing="octo/pricing" in asked, content="octo/content" in asked)


#: Answered from the response cache when they can be: their key is checked against the
#: database only on a miss (``_reseller``). A hit is an answer given to this very key while
#: it was valid, and revoking a key (any write to ``resellers``) empties the cache at once.
CACHED_ENDPOINTS = frozenset({"octo.availability_calendar", "octo.availability"})


@bp.before_request
def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise errors.OctoError(errors.UNAUTHORIZED, "Send your API key as a Bearer token")
    g.octo_key = resellers.key_digest(key.strip())
    if g.octo_key is None:
        raise errors.OctoError(errors.UNAUTHORIZED, "The API key is not valid")
    g.octo_caps = _capabilities()
    if request.endpoint not in CACHED_ENDPOINTS:
        _reseller()


def _reseller():
    """The reseller of the request's key, checked once: unknown (401) or revoked (403)."""
    if "reseller" not in g:
        reseller = resellers.reseller_for_digest(db.session, g.octo_key)
        if reseller is None:
            raise errors.OctoError(errors.UNAUTHORIZED, "The API key is not valid")
        if not reseller.is_active:
            raise errors.OctoError(errors.FORBIDDEN, "The API key was revoked")
        g.reseller = reseller
    return g.reseller


@bp.after_request
def _headers(response: Response) -> Response:
    caps = g.get("octo_caps")
    if caps is not None:
        response.headers[CAPABILITIES_HEADER] = ", ".join(caps.names)
        response.headers["Content-Language"] = current_locale()
    # Answers carry guests' details and are for the key holder only.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(errors.OctoError)
def _octo_error(error: errors.OctoError):
    db.session.rollback()
    return jsonify(error.body()), error.status_code


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    return jsonify(errors.unprocessable(error).body()), 400


def _check_text(value, depth: int = 0) -> None:
    """Refuse NUL characters (no database takes them) and absurd nesting in a JSON body."""
    if depth > MAX_DEPTH:
        raise errors.bad_request("the request body is nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise errors.bad_request("text may not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1)
            _check_text(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_text(item, depth + 1)


def _body() -> dict:
    body = request.get_json(force=True, silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    _check_text(body)
    return body


def _terms() -> reservations.Terms:
    return reservations.Terms(
        hold_max=timedelta(minutes=current_app.config["HOLD_MINUTES"]),
        languages=available_locales(),
    )


def _label(code: str) -> str:
    return str(vocabulary.label(vocabulary.PRICE_CATEGORIES, code))


def _product(experience) -> dict:
    return products.product(
        db.session, experience, g.reseller, g.octo_caps, utcnow(), _label, current_locale()
    )


def _booking(channel: ChannelBooking | ChannelRouteBooking) -> dict:
    if isinstance(channel, ChannelRouteBooking):
        return route_booking_object(
            channel,
            g.octo_caps,
            utcnow(),
            _label,
            current_locale(),
            url_for("itineraries.manage", token=channel.route_booking.manage_token, _external=True),
        )
    return booking_object(
        channel,
        g.octo_caps,
        utcnow(),
        _label,
        current_locale(),
        url_for("bookings.manage", token=channel.booking.manage_token, _external=True),
    )


# Supplier and products --------------------------------------------------------------------


@bp.get("/supplier")
def supplier():
    association = g.reseller.association
    return jsonify(
        id=association.slug,
        name=association.name,
        endpoint=url_for("octo.supplier", _external=True).removesuffix("/supplier"),
        contact={
            "website": url_for("public.index", _external=True),
            "email": association.contact_email or None,
            "telephone": association.contact_phone or None,
            "address": association.address or None,
        },
    )


def _route_product(route) -> dict:
    return route_products.product(route, g.reseller, g.octo_caps, _label, current_locale())


@bp.get("/products")
def product_list():
    experiences = [_product(e) for e in products.sellable_products(db.session, g.reseller)]
    routes = [_route_product(r) for r in route_products.sellable_routes(db.session, g.reseller)]
    return jsonify(experiences + routes)


@bp.get("/products/<path:product_id>")
def product_detail(product_id: str):
    if route_products.is_route_id(product_id):
        return jsonify(_route_product(route_products.get_route(db.session, g.reseller, product_id)))
    return jsonify(_product(products.get_product(db.session, g.reseller, product_id)))


# Availability -----------------------------------------------------------------------------


def _product_and_units(body: dict):
    experience = products.get_product(db.session, _reseller(), body.get("productId"))
    products.check_option(body.get("optionId"))
    return experience, products.parse_units(experience, body.get("units"))


def _availability_key() -> str:
    """Resellers poll availability far more than anything else; an answer depends on the
    reseller (its products and commission: the key names it), the capabilities, the
    language and the query."""
    return (
        f"octo:{g.octo_key}:{','.join(g.octo_caps.names)}:{current_locale()}:"
        f"{request.path}:{body_digest()}"
    )


@bp.post("/availability/calendar")
@cached_query(_availability_key)
def availability_calendar():
    _reseller()  # a cache miss: the key is checked now
    body = _body()
    if route_products.is_route_id(body.get("productId")):
        return _route_calendar(body)
    experience, wanted = _product_and_units(body)
    first = products.parse_day(body.get("localDateStart"), "localDateStart")
    last = products.parse_day(body.get("localDateEnd"), "localDateEnd")
    start, end = products.day_range(first, last)
    found = slots.slots(db.session, experience, start, end, utcnow())
    return jsonify(slots.calendar(experience, found, first, last, wanted))


@bp.post("/availability")
@cached_query(_availability_key)
def availability():
    _reseller()  # a cache miss: the key is checked now
    body = _body()
    if route_products.is_route_id(body.get("productId")):
        return _route_availability(body)
    experience, wanted = _product_and_units(body)
    ids = body.get("availabilityIds")
    now = utcnow()
    if ids is not None:
        if not isinstance(ids, list) or len(ids) > 500 or not all(isinstance(i, str) for i in ids):
            raise errors.bad_request("availabilityIds must be a list of ids")
        wanted_ids = [n for i in ids if (n := ascii_whole_number(i, leading_zeros=False))]
        start, end = now - timedelta(days=1), now + timedelta(days=products.MAX_DAYS * 3)
        found = slots.slots(db.session, experience, start, end, now, only_ids=wanted_ids)
    else:
        if body.get("localDate") is not None:
            first = last = products.parse_day(body.get("localDate"), "localDate")
        elif body.get("localDateStart") is not None or body.get("localDateEnd") is not None:
            first = products.parse_day(body.get("localDateStart"), "localDateStart")
            last = products.parse_day(body.get("localDateEnd"), "localDateEnd")
        else:
            raise errors.bad_request(
                "either localDate, localDateStart/localDateEnd or availabilityIds is required"
            )
        start, end = products.day_range(first, last)
        found = slots.slots(db.session, experience, start, end, now)
    return jsonify(
        [
            slots.availability(departure, left, status, experience, g.reseller, g.octo_caps, wanted)
            for departure, left, status in found
        ]
    )


def _route_and_units(body: dict):
    route = route_products.get_route(db.session, g.reseller, body.get("productId"))
    products.check_option(body.get("optionId"))
    return route, route_units.parse_units(route, body.get("units"))


def _route_calendar(body: dict):
    route, units = _route_and_units(body)
    dates = route_slots.calendar_dates(body)
    found = route_slots.slots(db.session, route, dates, utcnow())
    return jsonify([route_slots.calendar_entry(slot, route, units) for slot in found])


def _route_availability(body: dict):
    route, units = _route_and_units(body)
    found = route_slots.slots(db.session, route, route_slots.asked_dates(body), utcnow())
    return jsonify(
        [
            route_slots.availability(slot, route, g.reseller, g.octo_caps, units)
            for slot in found
            if slot.complete
        ]
    )


# Bookings ---------------------------------------------------------------------------------


@bp.post("/bookings")
def reserve():
    body = _body()
    with unit_of_work():
        if route_products.is_route_id(body.get("productId")):
            sale = route_sales.reserve_route(db.session, g.reseller, body, utcnow(), _terms())
            answer = _booking(sale)
        else:
            channel = reservations.reserve(db.session, g.reseller, body, utcnow(), _terms())
            answer = _booking(channel)
    return jsonify(answer)


#: What each change is for a route sale.
ROUTE_ACTIONS = {
    reservations.update: route_sales.update_route,
    reservations.confirm: route_sales.confirm_route,
    reservations.extend: route_sales.extend_route,
    reservations.cancel: route_sales.cancel_route,
}


def _find(booking_uuid: str) -> ChannelBooking | ChannelRouteBooking:
    """The reseller's booking of an experience or sale of a route with this uuid."""
    sale = route_sales.find_sale(db.session, g.reseller, booking_uuid, missing_ok=True)
    return sale or reservations.find(db.session, g.reseller, booking_uuid)


def _change(action, booking_uuid: str, with_terms: bool = True):
    body = _body()
    with unit_of_work():
        channel = _find(booking_uuid)
        if isinstance(channel, ChannelRouteBooking):
            action = ROUTE_ACTIONS[action]
        if with_terms:
            channel = action(db.session, channel, body, utcnow(), _terms())
        else:
            channel = action(db.session, channel, body, utcnow())
        answer = _booking(channel)
    return jsonify(answer)


@bp.patch("/bookings/<booking_uuid>")
def update_booking(booking_uuid: str):
    return _change(reservations.update, booking_uuid)


@bp.post("/bookings/<booking_uuid>/confirm")
def confirm_booking(booking_uuid: str):
    return _change(reservations.confirm, booking_uuid)


@bp.post("/bookings/<booking_uuid>/extend")
def extend_booking(booking_uuid: str):
    return _change(reservations.extend, booking_uuid)


@bp.post("/bookings/<booking_uuid>/cancel")
def cancel_booking(booking_uuid: str):
    return _change(reservations.cancel, booking_uuid, with_terms=False)


@bp.get("/bookings/<booking_uuid>")
def get_booking(booking_uuid: str):
    return jsonify(_booking(_find(booking_uuid)))


@bp.get("/bookings")
def list_bookings():
    found = booking_search.search(db.session, g.reseller, request.args.to_dict(), utcnow())
    return jsonify([_booking(channel) for channel in found])
