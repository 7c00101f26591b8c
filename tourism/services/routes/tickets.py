"""Who a route is booked for, by price category (adult, child, resident…), and what each
experience leg charges them: the experience's own categories, as a single booking of it.

A route is booked for ``people``; some of them may be children, residents… (``tickets``:
people per category code, the rest adults). Each leg books them at *that experience's*
price of the category; a leg whose experience has no price for a category (no child price,
say) charges that person its adult price, the one it charges everybody. Homestay nights
and the curator's fee are per person whatever the category. See docs/decisions.md.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...errors import InvalidRequest
from ...models import BookingLine, Experience, LegKind, Route
from ..booking import lifecycle

ADULT = "adult"


def adult_category(experience: Experience):
    """The ticket everybody can be sold on an experience leg: its adult category, or its
    first active one."""
    active = [pc for pc in experience.price_categories if pc.is_active]
    by_code = {pc.code: pc for pc in active}
    category = by_code.get(ADULT) or (active[0] if active else None)
    if category is None:
        raise InvalidRequest(_l("An activity of this route has no tickets on sale."))
    return category


def route_category_codes(route: Route) -> list[str]:
    """The categories besides adult a route offers: those any of its experience legs sells,
    in the order of the first experience that sells each."""
    codes: list[str] = []
    for leg in route.legs:
        if leg.kind != LegKind.EXPERIENCE:
            continue
        for pc in leg.experience.price_categories:
            if pc.is_active and pc.code != ADULT and pc.code not in codes:
                codes.append(pc.code)
    return codes


def check_tickets(route: Route, people: int, wanted: dict[str, int]) -> dict[str, int]:
    """People per category code (adults: the rest), or ``InvalidRequest``."""
    offered = set(route_category_codes(route))
    tickets: dict[str, int] = {}
    for code, count in sorted(wanted.items()):
        if code not in offered:
            raise InvalidRequest(_l("That ticket type is not sold on this route."))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidRequest(_l("Ticket numbers must be whole numbers, zero or more."))
        if count:
            tickets[code] = count
    if sum(tickets.values()) > people:
        raise InvalidRequest(_l("There are more tickets of a kind than people."))
    adults = people - sum(tickets.values())
    chosen = ({ADULT: adults} if adults else {}) | tickets
    lifecycle.check_accompanied(list(chosen))
    return chosen


def leg_lines(experience: Experience, tickets: dict[str, int]) -> list[BookingLine]:
    """The booking lines of one experience leg for ``tickets`` (people per code)."""
    active = {pc.code: pc for pc in experience.price_categories if pc.is_active}
    adult = adult_category(experience)
    quantities: dict[int, int] = {}
    categories = {}
    for code, count in tickets.items():
        category = active.get(code, adult)
        categories[category.id] = category
        quantities[category.id] = quantities.get(category.id, 0) + count
    ordered = sorted(quantities, key=lambda pc_id: categories[pc_id].position)
    return [
        BookingLine(
            price_category_id=pc_id,
            quantity=quantities[pc_id],
            unit_price_cents=categories[pc_id].price_cents,
        )
        for pc_id in ordered
        if quantities[pc_id]
    ]
