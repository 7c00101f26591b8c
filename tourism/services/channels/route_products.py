"""Routes across communities as OCTO products.

A published route is a product when the reseller's association curates it, or, for a route
the platform curates, took part in it and approved (``may_sell_route``); every association
with a leg must have approved too (``routes.shape.check_route``). Its id is ``route:`` and
the route's slug: experience ids are bare slugs, which never hold a colon, so the two
never collide.

A route is sold per person, as on the website: its units are ``adult`` and every other
ticket category all its activity legs sell, each priced per person over every leg, every
night and the curator's fee (``route_units``). The reseller's commission is taken on the
activity legs, per ticket, exactly as on a booking of one experience; homestay nights and
the curator's fee reach the families and the curator whole (docs/decisions.md). Start
dates are its availability slots (``route_slots``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import ExperienceStatus, LegKind, Reseller, Route
from ...timefmt import display_zone
from ..routes import curation, discovery, shape
from ..routes.tickets import ADULT
from . import octo_errors as errors
from . import route_units
from .products import (
    FIRST_DAY,
    LAST_DAY,
    OPTION_ID,
    REQUIRED_CONTACT_FIELDS,
    UNIT_TYPES,
    Capabilities,
)
from .route_units import PersonPrice

ROUTE_PREFIX = "route:"


def is_route_id(product_id) -> bool:
    return isinstance(product_id, str) and product_id.startswith(ROUTE_PREFIX)


def product_id(route: Route) -> str:
    return ROUTE_PREFIX + route.slug


def may_sell_route(reseller: Reseller, route: Route) -> bool:
    """A route of the reseller's association, or one the platform curates and the
    reseller's association approved taking part in; every leg's association approved."""
    if route.status != ExperienceStatus.PUBLISHED:
        return False
    if route.curator_association_id is not None:
        allowed = route.curator_association_id == reseller.association_id
    else:
        allowed = reseller.association_id in shape.approved_association_ids(route)
    if not allowed:
        return False
    try:
        shape.check_route(route)
    except DomainError:
        return False
    return True


def sellable_routes(session: Session, reseller: Reseller) -> list[Route]:
    """The published routes the reseller may sell, by slug."""
    return [route for route in discovery.published(session) if may_sell_route(reseller, route)]


def get_route(session: Session, reseller: Reseller, wanted) -> Route:
    """The route ``wanted`` (``route:<slug>``) names if this reseller may sell it, else
    ``INVALID_PRODUCT_ID`` (a route it may not sell looks missing)."""
    slug = wanted[len(ROUTE_PREFIX) :] if is_route_id(wanted) else ""
    route = None
    if slug and len(wanted) <= 80:
        route = session.scalar(
            select(Route).where(Route.slug == slug).options(*curation.ROUTE_BOOKING)
        )
    if route is None or not may_sell_route(reseller, route):
        raise errors.OctoError(
            errors.INVALID_PRODUCT_ID,
            "The productId was missing or invalid",
            productId=wanted if isinstance(wanted, str) else "",
        )
    return route


def parse_start(availability_id) -> date:
    """The start date an availability id names, else ``INVALID_AVAILABILITY_ID``."""
    text = availability_id if isinstance(availability_id, str) else ""
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError
        return day
    except ValueError as exc:
        raise errors.OctoError(
            errors.INVALID_AVAILABILITY_ID,
            "The availabilityId was missing or invalid",
            availabilityId=text,
        ) from exc


# Products -----------------------------------------------------------------------------------


def unit(route: Route, code: str, price: PersonPrice | None, caps: Capabilities, label) -> dict:
    data = {
        "id": code,
        "internalName": code,
        "reference": code,
        "type": UNIT_TYPES.get(code, "OTHER"),
        "requiredContactFields": [],
        "restrictions": {
            "minAge": 0,
            "maxAge": 100,
            "idRequired": False,
            "minQuantity": None,
            "maxQuantity": route.max_people_per_booking,
            "paxCount": 1,
            "accompaniedBy": [ADULT] if code == "child" else [],
        },
    }
    if caps.pricing and price is not None:
        data["pricingFrom"] = [price.octo()]
    if caps.content:
        data |= {"title": label(code), "titlePlural": label(code), "subtitle": None}
    return data


def units(route: Route, reseller: Reseller, caps: Capabilities, label) -> list[dict]:
    """Every unit the route sells (``route_units``), each with its price per person."""
    prices = route_units.unit_prices(route, reseller.commission_bp) if caps.pricing else {}
    return [
        unit(route, code, prices.get(code), caps, label) for code in route_units.unit_codes(route)
    ]


def _first_leg_time(route: Route) -> list[str]:
    first = next((leg for leg in route.legs if leg.kind == LegKind.EXPERIENCE), None)
    return [first.start_time.strftime("%H:%M")] if first is not None else []


def option(route: Route, reseller: Reseller, caps: Capabilities, label, locale: str) -> dict:
    data = {
        "id": OPTION_ID,
        "default": True,
        "internalName": "DEFAULT",
        "reference": None,
        "availabilityLocalStartTimes": _first_leg_time(route),
        # A route can be cancelled until its first activity leaves (``cancel_route_booking``).
        "cancellationCutoff": "0 hours",
        "cancellationCutoffAmount": 0,
        "cancellationCutoffUnit": "hour",
        "requiredContactFields": REQUIRED_CONTACT_FIELDS,
        "restrictions": {"minUnits": 1, "maxUnits": route.max_people_per_booking},
        "units": units(route, reseller, caps, label),
    }
    if caps.content:
        text = route.text(locale)
        data |= {
            "title": text.title if text else route.slug,
            "subtitle": None,
            "language": text.locale if text else None,
            "shortDescription": text.summary if text else None,
            "duration": f"{route.days} days",
            "durationAmount": str(route.days),
            "durationUnit": "day",
        }
    return data


def product(route: Route, reseller: Reseller, caps: Capabilities, label, locale: str) -> dict:
    text = route.text(locale)
    data = {
        "id": product_id(route),
        "internalName": text.title if text else route.slug,
        "reference": route.slug,
        "locale": text.locale if text else locale,
        "timeZone": str(display_zone()),
        "allowFreesale": False,
        "instantConfirmation": True,
        "instantDelivery": True,
        "availabilityRequired": True,
        "availabilityType": "START_TIME",
        "deliveryFormats": ["QRCODE"],
        "deliveryMethods": ["VOUCHER"],
        "redemptionMethod": "DIGITAL",
        "options": [option(route, reseller, caps, label, locale)],
    }
    if caps.pricing:
        data |= {
            "defaultCurrency": route.currency,
            "availableCurrencies": [route.currency],
            "pricingPer": "UNIT",
        }
    if caps.content:
        data |= {
            "title": text.title if text else route.slug,
            "country": "EC",
            "location": None,
            "subtitle": None,
            "shortDescription": text.summary if text else None,
            "description": text.description if text else None,
            "highlights": [],
            "inclusions": [],
            "exclusions": [],
            "bookingTerms": None,
            "redemptionInstructions": None,
            "cancellationPolicy": None,
            "coverImageUrl": None,
            "galleryImages": [],
        }
    return data
