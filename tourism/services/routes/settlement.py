"""A route's money: who gets what, and the cash each community collects.

**Pay on arrival, community by community.** A route is one checkout, but its money never
passes through a middleman: the visitor pays each community its own part when they arrive
there (the leg bookings, the nights at its families, its extras, and on day 1 the curator's
fee). So no community holds another's money and no receivable between associations is
needed. ``community_parts`` says who is paid what on which day (the confirmation page
shows it); ``record_route_cash`` records one community's part as collected:

- each leg booking of the association still owing money gets an ordinary cash ``Payment``
  posted with ``ledger.postings.post_payment``: split by *that experience's* rule in force
  at the sale (``Booking.split_rule_id``), into that association's ledger, exactly as the
  guide's check-in records cash for any booking;
- the nights, the extras and the curator's fee are one ``cash`` ledger transaction: cash
  held by the association (the collector) against each host family's, each provider's and
  the curator's share. They are credited *available* at once: the cash is collected on the
  day the family hosts, as ``checkin.record_cash`` releases a departure's shares on the day.
  Paid ahead (by card, or to a prepaid reseller) they are credited *pending* instead: the
  nights released night by night once each is over (``routes.night_releases``), the extras
  and the fee once the route has started (``routes.extra_releases``).

Both are idempotent: recording a part again collects and posts nothing. A route a prepaid
reseller sold was paid to the reseller: its legs owe nothing on arrival (their channel
bookings are prepaid) and its nights and fee were posted with the sale
(``reseller_postings.route_stay_sale``), so nothing of them is collected again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError, NotFound
from ...models import (
    Association,
    Booking,
    BookingStatus,
    LegKind,
    Payment,
    PaymentStatus,
    RouteBooking,
    RouteBookingExtra,
    RouteBookingNight,
    User,
)
from ...models.ledger import AccountKind, AccountState, TransactionKind
from ..ledger import journal as ledger
from ..ledger import postings, releases, reseller_postings
from .booking import stay_paid_online
from .tickets import adult_category

AVAILABLE = AccountState.AVAILABLE


class RouteNotConfirmed(DomainError):
    status_code = 409
    default_message = _l("Only a confirmed route booking can be paid.")


class NotPartOfRoute(DomainError):
    status_code = 404
    default_message = _l("This association has no part in this route booking.")


@dataclass
class CommunityPart:
    """What one association is paid for a route booking, and on which day."""

    association: Association
    day: int
    legs: list[Booking] = field(default_factory=list)
    nights: list[RouteBookingNight] = field(default_factory=list)
    extras: list[RouteBookingExtra] = field(default_factory=list)
    #: The curator's fee, when this community collects it (credited to the curator).
    curator_fee_cents: int = 0

    @property
    def legs_cents(self) -> int:
        return sum(booking.total_cents for booking in self.legs)

    @property
    def stay_cents(self) -> int:
        """Nights, extras and the curator's fee: what is posted besides the leg bookings."""
        return (
            sum(n.amount_cents for n in self.nights)
            + sum(e.amount_cents for e in self.extras)
            + self.curator_fee_cents
        )

    @property
    def total_cents(self) -> int:
        return self.legs_cents + self.stay_cents


def community_parts(route_booking: RouteBooking) -> list[CommunityPart]:
    """One part per association, in the order the visitor meets them; they add up to the
    route booking's total (less, while the route stands, any leg its community cancelled)."""
    parts: dict[int, CommunityPart] = {}

    def part(association: Association, day: int) -> CommunityPart:
        found = parts.get(association.id)
        if found is None:
            found = parts[association.id] = CommunityPart(association=association, day=day)
        found.day = min(found.day, day)
        return found

    active = route_booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)
    for booking_leg in route_booking.legs:
        booking = booking_leg.booking
        if active and booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            continue  # a leg its community cancelled (refunded): no longer part of the price
        part(booking.departure.experience.association, booking_leg.leg.day).legs.append(booking)
    day_of_night = {
        (leg.homestay_id, leg.day): leg.day for leg in route_booking.route.legs if leg.homestay_id
    }
    for night in route_booking.nights:
        day = 1 + (night.night - route_booking.start_date).days
        day = day_of_night.get((night.homestay_id, day), day)
        part(night.homestay.family.association, day).nights.append(night)
    for item in route_booking.extras:
        existing = parts.get(item.extra.association_id)
        part(item.extra.association, existing.day if existing else 1).extras.append(item)
    if route_booking.curator_fee_cents:
        curator = route_booking.route.curator
        if curator is not None and curator.id in parts:
            parts[curator.id].curator_fee_cents = route_booking.curator_fee_cents
        elif parts:
            min(
                parts.values(), key=lambda p: p.day
            ).curator_fee_cents = route_booking.curator_fee_cents
    return sorted(parts.values(), key=lambda p: (p.day, p.association.name))


def _stay_memo(route_booking: RouteBooking, association: Association) -> str:
    return f"route {route_booking.reference}: nights and extras collected by {association.code}"


def card_stay_memo(route_booking: RouteBooking, association: Association) -> str:
    """The memo of a community's nights, extras and fee paid by card with the route."""
    return f"route {route_booking.reference}: nights and extras paid by card, {association.code}"


def record_route_cash(
    session: Session,
    route_booking: RouteBooking,
    association: Association,
    collector: User | None,
    now: datetime,
) -> int:
    """Record that ``association`` collected its part of the route in cash (``collector``:
    the person holding it, or the association's office); returns the cents newly recorded,
    0 when it was recorded before. See the module doc for the postings."""
    if route_booking.status != BookingStatus.CONFIRMED:
        raise RouteNotConfirmed()
    part = next(
        (p for p in community_parts(route_booking) if p.association.id == association.id), None
    )
    if part is None:
        raise NotPartOfRoute()
    recorded = 0
    for booking in part.legs:
        due = booking.due_on_arrival_cents
        if booking.status != BookingStatus.CONFIRMED or due <= 0:
            continue
        payment = Payment(
            booking=booking,
            provider="cash",
            amount_cents=due,
            currency=booking.currency,
            status=PaymentStatus.SUCCEEDED,
            collected_by_id=collector.id if collector is not None else None,
            created_at=now,
            succeeded_at=now,
        )
        session.add(payment)
        session.flush()
        postings.post_payment(session, payment)
        releases.release_departure(session, booking.departure, now)
        recorded += due
    memo = _stay_memo(route_booking, association)
    if (
        part.stay_cents
        and not stay_paid_online(route_booking)
        and not reseller_postings.route_stay_sale(session, route_booking)
        and ledger.find_transaction(session, TransactionKind.CASH, memo=memo) is None
    ):
        held = ledger.account(session, AccountKind.CASH_HELD, association, user=collector)
        lines = [(held, part.stay_cents), *stay_lines(session, route_booking, part)]
        ledger.post(
            session,
            kind=TransactionKind.CASH,
            lines=lines,
            memo=memo,
            currency=route_booking.currency,
            at=now,
        )
        recorded += part.stay_cents
    return recorded


def stay_lines(
    session: Session,
    route_booking: RouteBooking,
    part: CommunityPart,
    nights_pending=False,
    extras_pending=False,
) -> list:
    """The credits of one community's nights, extras and curator's fee: each host family,
    each provider and the curator. Paid in cash on the day the family hosts, all available
    at once; paid ahead (by card with the route, or to a prepaid reseller: both flags), each
    night is credited *pending* and released once it is over (``routes.night_releases``),
    the extras and the fee *pending* too, released once the route has started
    (``routes.extra_releases``). The flags differ only to take back what a route paid before
    either waited was credited."""
    lines = []
    state = AccountState.PENDING if nights_pending else AVAILABLE
    for night in part.nights:
        family = night.homestay.family
        lines.append(
            (
                ledger.account(session, AccountKind.FAMILY, family=family, state=state),
                -night.amount_cents,
            )
        )
    state = AccountState.PENDING if extras_pending else AVAILABLE
    for item in part.extras:
        lines.append((provider_account(session, item, state), -item.amount_cents))
    if part.curator_fee_cents:
        lines.append((curator_account(session, route_booking, state), -part.curator_fee_cents))
    return lines


def provider_account(session: Session, item: RouteBookingExtra, state=AVAILABLE):
    """Who an extra is credited to: its family, or its association's fund."""
    extra = item.extra
    if extra.family is not None:
        return ledger.account(session, AccountKind.FAMILY, family=extra.family, state=state)
    return ledger.account(session, AccountKind.ASSOCIATION_FUND, extra.association, state=state)


def curator_account(session: Session, route_booking: RouteBooking, state=AVAILABLE):
    """Who the curator's fee is credited to: the curating association's fund, or the
    platform when it curates the route."""
    curator = route_booking.route.curator
    if curator is None:
        return ledger.account(session, AccountKind.PLATFORM, state=state)
    return ledger.account(session, AccountKind.ASSOCIATION_FUND, curator, state=state)


@dataclass(frozen=True)
class Share:
    """What one community (or the curator) receives of one person's route price."""

    name: str
    cents: int
    curator: bool = False


def per_person_shares(route) -> list[Share]:
    """One person's route price, by who receives it, in the order the visitor meets them:
    the transparency line across communities on the route page."""
    totals: dict[int, int] = {}
    names: dict[int, str] = {}
    for leg in sorted(route.legs, key=lambda leg: leg.position):
        if leg.kind == LegKind.EXPERIENCE:
            association = leg.experience.association
            cents = adult_category(leg.experience).price_cents
        else:
            association = leg.homestay.family.association
            cents = leg.homestay.price_cents_per_person_night
        names[association.id] = association.name
        totals[association.id] = totals.get(association.id, 0) + cents
    shares = [Share(names[i], cents) for i, cents in totals.items()]
    if route.curator_fee_cents:
        name = route.curator.name if route.curator is not None else "Chakra Routes"
        shares.append(Share(name, route.curator_fee_cents, curator=True))
    return shares


def part_outstanding_cents(session: Session, route_booking: RouteBooking, part) -> int:
    """What is still to collect of one community's part: its leg bookings' cash due, and the
    nights, extras and fee unless they were recorded. Nothing, once the route booking is
    cancelled (or its hold lapsed)."""
    if route_booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        return 0
    due = sum(
        booking.due_on_arrival_cents
        for booking in part.legs
        if booking.status == BookingStatus.CONFIRMED
    )
    memo = _stay_memo(route_booking, part.association)
    if (
        part.stay_cents
        and not stay_paid_online(route_booking)
        and not reseller_postings.route_stay_sale(session, route_booking)
        and ledger.find_transaction(session, TransactionKind.CASH, memo=memo) is None
    ):
        due += part.stay_cents
    return due


@dataclass(frozen=True)
class PartToCollect:
    route_booking: RouteBooking
    part: CommunityPart
    outstanding_cents: int


def parts_to_collect(
    session: Session, association: Association, since: date
) -> list[PartToCollect]:
    """The confirmed route bookings starting on or after ``since`` in which ``association``
    has a part, with what is still to collect of it, soonest first."""
    found = session.scalars(
        select(RouteBooking)
        .where(RouteBooking.status == BookingStatus.CONFIRMED, RouteBooking.start_date >= since)
        .order_by(RouteBooking.start_date, RouteBooking.id)
    )
    result = []
    for route_booking in found:
        for part in community_parts(route_booking):
            if part.association.id == association.id:
                outstanding = part_outstanding_cents(session, route_booking, part)
                result.append(PartToCollect(route_booking, part, outstanding))
    return result


def route_booking_with_part(
    session: Session, association: Association, route_booking_id: int
) -> RouteBooking:
    """A route booking in which ``association`` has a part; any other is simply not found."""
    found = session.get(RouteBooking, route_booking_id)
    if found is None or all(
        part.association.id != association.id for part in community_parts(found)
    ):
        raise NotFound()
    return found
