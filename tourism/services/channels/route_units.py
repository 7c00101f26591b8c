"""The units of a route product (OCTO): the ticket categories a reseller can sell on it, the
price of each, and a reseller's units read as the website's route tickets.

A route is sold per person, as on the website, where each activity leg charges a person
*that experience's* price of their category (``routes.tickets``). Through OCTO a route
offers ``adult`` (the ticket every activity leg sells, ``tickets.adult_category``) and each
other category (child, resident…) that **every** activity leg sells: the website charges a
child the adult price on a leg without a child price, but a reseller's unit must be one
thing with one meaning on the whole route, so a category missing on any leg is not a unit
(docs/decisions.md). A unit's price is the sum of its category's price on every activity
leg, plus every night and the curator's fee, which are per person whatever the category;
the reseller's commission is taken per ticket on the activity legs only, exactly as
``ledger.shares.booking_commission`` takes it on each leg's booking.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...models import LegKind, Route
from ..routes.tickets import ADULT, adult_category, route_category_codes
from . import octo_errors as errors
from .products import commission_cents

#: The most unit items (people) one route reservation may carry.
MAX_ITEMS = 100


@dataclass(frozen=True)
class PersonPrice:
    """One person's price of a route on one unit, and the reseller's commission on it, in
    cents."""

    retail_cents: int
    commission_cents: int
    currency: str

    def octo(self, quantity: int = 1) -> dict:
        """OCTO's price object for ``quantity`` people: the commission is per person, so a
        line's net is always the net of one person times the quantity."""
        retail = self.retail_cents * quantity
        return {
            "original": retail,
            "retail": retail,
            "net": (self.retail_cents - self.commission_cents) * quantity,
            "currency": self.currency,
            "currencyPrecision": 2,
            "includedTaxes": [],
        }


def _experience_legs(route: Route) -> list:
    return [leg for leg in route.legs if leg.kind == LegKind.EXPERIENCE]


def unit_codes(route: Route) -> list[str]:
    """``adult``, then every other category every activity leg sells (in the order the
    website lists the route's categories)."""
    experiences = [leg.experience for leg in _experience_legs(route)]
    shared = [
        code
        for code in route_category_codes(route)
        if all(
            any(pc.is_active and pc.code == code for pc in e.price_categories) for e in experiences
        )
    ]
    return [ADULT, *shared]


def _leg_price_cents(experience, code: str) -> int:
    if code != ADULT:
        for category in experience.price_categories:
            if category.is_active and category.code == code:
                return category.price_cents
    return adult_category(experience).price_cents


def stay_cents_per_person(route: Route) -> int:
    """Every night and the curator's fee: one person's, whatever their category."""
    nights = sum(
        leg.homestay.price_cents_per_person_night
        for leg in route.legs
        if leg.kind == LegKind.HOMESTAY
    )
    return nights + route.curator_fee_cents


def unit_price(route: Route, code: str, commission_bp: int) -> PersonPrice:
    """One person's price on unit ``code`` now, with the commission on its activity legs'
    tickets (each rounded as a ticket of a channel booking is)."""
    legs = [_leg_price_cents(leg.experience, code) for leg in _experience_legs(route)]
    commission = sum(commission_cents(cents, commission_bp) for cents in legs)
    return PersonPrice(sum(legs) + stay_cents_per_person(route), commission, route.currency)


def unit_prices(route: Route, commission_bp: int) -> dict[str, PersonPrice]:
    return {code: unit_price(route, code, commission_bp) for code in unit_codes(route)}


def total_price(prices: dict[str, PersonPrice], wanted: dict[str, int], currency: str) -> dict:
    """OCTO's price object of ``wanted`` (people per unit)."""
    total = {"original": 0, "retail": 0, "net": 0}
    for code, quantity in wanted.items():
        for key, value in prices[code].octo(quantity).items():
            if key in total:
                total[key] += value
    return total | {"currency": currency, "currencyPrecision": 2, "includedTaxes": []}


def _unknown_unit(unit_id, **fields) -> errors.OctoError:
    shown = unit_id[:40] if isinstance(unit_id, str) else ""
    return errors.OctoError(errors.INVALID_UNIT_ID, f"The unit id {shown!r} is not sold", **fields)


def parse_units(route: Route, units) -> dict[str, int] | None:
    """``[{"id": "adult", "quantity": 2}, {"id": "child", "quantity": 1}]`` as people per
    unit; ``None`` if not sent. A unit the route does not sell is ``INVALID_UNIT_ID``."""
    if units is None:
        return None
    if not isinstance(units, list) or len(units) > 50:
        raise errors.bad_request("units must be a list of {id, quantity}")
    known = unit_codes(route)
    wanted: dict[str, int] = {}
    for unit in units:
        if not isinstance(unit, dict):
            raise errors.bad_request("units must be a list of {id, quantity}")
        unit_id, quantity = unit.get("id"), unit.get("quantity")
        if unit_id not in known:
            # The availability error object has no ``unitId`` field: the message names it.
            raise _unknown_unit(unit_id)
        if type(quantity) is not int or not 0 <= quantity <= 1000:
            raise errors.bad_request("quantity must be a whole number from 0 to 1000")
        wanted[unit_id] = wanted.get(unit_id, 0) + quantity
    return wanted


def parse_unit_items(route: Route, unit_items) -> dict[str, int]:
    """OCTO unit items (one item is one person) as people per unit, in unit order."""
    if not isinstance(unit_items, list) or len(unit_items) > MAX_ITEMS:
        raise errors.bad_request(f"unitItems must be a list of at most {MAX_ITEMS} items")
    known = unit_codes(route)
    counts = dict.fromkeys(known, 0)
    for item in unit_items:
        unit_id = item.get("unitId") if isinstance(item, dict) else None
        if unit_id not in known:
            raise errors.OctoError(
                errors.INVALID_UNIT_ID,
                "The unitId was missing or invalid",
                unitId=unit_id if isinstance(unit_id, str) else "",
            )
        counts[unit_id] += 1
    return {code: count for code, count in counts.items() if count}


def as_tickets(wanted: dict[str, int]) -> tuple[int, dict[str, int]]:
    """People per unit as the website's route request: the people, and of them how many
    per category besides adult (``routes.tickets.check_tickets``)."""
    people = sum(wanted.values())
    return people, {code: n for code, n in wanted.items() if code != ADULT and n}
