"""Demo money: split rules for every experience, and six months of visits that ran.

So the treasury, the family statements, the reports dashboard and the tourist-facing
breakdowns have something true to show, the demo replays past visits through the real
services: bookings paid by card (with the processor's fee) or in cash to the guide, stops
confirmed by the guide (which releases the shares), one partial refund, and a payout
settlement to the families last month. Everything is marked Demo; amounts are integer
cents and the ledger check passes on the result (a test proves it).

Deterministic: the same seed gives the same history, dated relative to the day it runs.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    Family,
    GuideRole,
    Membership,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    Role,
    SplitRule,
    StopVisit,
    User,
)
from ..services.booking.references import new_manage_token, new_reference
from ..services.ledger import postings, releases, split_rules
from ..services.operations import checkin
from ..services.treasury import batches, payouts

#: Demo shares (an association would set its own on the money-sharing page): most of the
#: money to the host families, a fixed $2 per visitor and a fifth of the rest to the guides.
DEMO_SPLIT_PARTS = [
    {"party": "families", "basis_points": 5_500, "cents_per_participant": 0},
    {"party": "guides", "basis_points": 2_000, "cents_per_participant": 200},
    {"party": "association_fund", "basis_points": 1_200, "cents_per_participant": 0},
    {"party": "conservation_fund", "basis_points": 500, "cents_per_participant": 0},
    {"party": "platform", "basis_points": 800, "cents_per_participant": 0},
]
RULE_AGE = timedelta(days=400)

#: (experience slug, guide email): the visits replayed, one every ``VISIT_EVERY`` days.
HISTORY = [
    ("kallari-cacao-route", "guia@kallari.demo"),
    ("winak-guayusa-dawn", "guia@winak.demo"),
]
HISTORY_DAYS = 180
SETTLED_DAYS_AGO = 30
VISIT_EVERY = 9
CARD_FEE_BASIS_POINTS, CARD_FEE_FIXED_CENTS = 290, 30

#: Who represents each demo family, for the reports (most chakras are cared for by women).
GENDERS = ("female", "female", "male", "female", "other", None)


def seed_rules(session: Session, now: datetime) -> None:
    """Split rules for every published experience (and the bookings already made), and who
    represents each family, for the reports. Only flushes."""
    users = {u.email: u for u in session.scalars(select(User))}
    _describe_people(session, users)
    for experience in session.scalars(
        select(Experience).where(Experience.status == ExperienceStatus.PUBLISHED)
    ):
        rule = _approve_demo_rule(session, experience, users["plataforma@chakraroutes.demo"], now)
        for booking in session.scalars(
            select(Booking)
            .join(Departure, Booking.departure_id == Departure.id)
            .where(Departure.experience_id == experience.id, Booking.split_rule_id.is_(None))
        ):
            booking.split_rule = rule
    session.flush()


def seed_history(session: Session, now: datetime, seed: int = 2026) -> None:
    """Past visits with their money, and a payout settlement. Needs ``seed_rules`` first,
    and a write transaction on SQLite (it records cash and stops like a guide). Only
    flushes."""
    rng = random.Random(seed)
    users = {u.email: u for u in session.scalars(select(User))}
    runs = [
        (session.scalars(select(Experience).where(Experience.slug == slug)).one(), users[email])
        for slug, email in HISTORY
    ]
    settled_at = now - timedelta(days=SETTLED_DAYS_AGO)
    # Visits before the settlement, the settlement (of what was available then), the rest.
    for start, end in ((now - timedelta(days=HISTORY_DAYS), settled_at), (settled_at, now)):
        for experience, guide in runs:
            _replay_visits(session, experience, guide, start, end - timedelta(days=2), rng)
        if end == settled_at:
            _pay_families(session, users["tesoreria@kallari.demo"], settled_at)
    session.flush()


def _describe_people(session: Session, users: dict[str, User]) -> None:
    for index, family in enumerate(session.scalars(select(Family).order_by(Family.id))):
        family.representative_gender = GENDERS[index % len(GENDERS)]
    for email, under_30 in (("guia@kallari.demo", True), ("guia@winak.demo", False)):
        for membership in session.scalars(
            select(Membership).where(
                Membership.user_id == users[email].id, Membership.role == Role.GUIDE
            )
        ):
            membership.under_30 = under_30


def _approve_demo_rule(session, experience, approver, now) -> SplitRule:
    """Version 1, in force long before the history starts. (Admins approve from today on;
    the demo dates its rule back so the past visits were sold under it.)"""
    rule = SplitRule(
        experience=experience,
        version=1,
        parts=split_rules.validate_parts(DEMO_SPLIT_PARTS),
        stop_weights=[],
        approved_by=approver,
        approved_at=now - RULE_AGE,
        effective_from=now - RULE_AGE,
        created_at=now - RULE_AGE,
    )
    session.add(rule)
    session.flush()
    return rule


def _replay_visits(session, experience, guide, start, end, rng) -> None:
    rule = split_rules.rule_in_force(session, experience, start)
    prices = {pc.code: pc for pc in experience.price_categories if pc.is_active}
    hosted = [stop for stop in experience.stops if stop.family_id is not None]
    day = start
    while day < end:
        starts_at = day.replace(hour=13, minute=0, second=0, microsecond=0)  # 08:00 in Ecuador
        departure = Departure(
            experience=experience,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=experience.duration_minutes),
            capacity=12,
            status=DepartureStatus.SCHEDULED,
        )
        session.add(departure)
        session.add(DepartureGuide(departure=departure, user=guide, role=GuideRole.LEAD))
        session.flush()
        for _ in range(rng.randint(1, 3)):
            booked_at = starts_at - timedelta(days=rng.randint(3, 20))
            booking = _booking(session, departure, rule, prices, rng, booked_at)
            if booking.payment_method == PaymentMethod.CARD.value:
                payment = _card_payment(session, booking, booked_at)
                if rng.random() < 0.08:
                    _partial_refund(session, payment, booked_at + timedelta(days=1))
            else:
                checkin.record_cash(
                    session, booking, booking.total_cents, guide, starts_at + timedelta(minutes=5)
                )
            booking.checked_in_at = starts_at + timedelta(minutes=10)
        # The guide confirmed each stop during the visit (recorded together here, then
        # released once: what confirming them one by one on the phone ends up with).
        for position, stop in enumerate(hosted):
            session.add(
                StopVisit(
                    departure_id=departure.id,
                    stop_id=stop.id,
                    confirmed_by_id=guide.id,
                    confirmed_at=starts_at + timedelta(hours=1 + position),
                )
            )
        session.flush()
        releases.release_departure(session, departure, starts_at + timedelta(hours=len(hosted)))
        day += timedelta(days=VISIT_EVERY)


def _booking(session, departure, rule, prices, rng, booked_at) -> Booking:
    experience = departure.experience
    visitor = rng.randrange(10_000)
    quantities = {"adult": rng.randint(1, 3)}
    if "child" in prices and rng.random() < 0.4:
        quantities["child"] = 1
    lines = [
        BookingLine(
            price_category=prices[code], quantity=n, unit_price_cents=prices[code].price_cents
        )
        for code, n in quantities.items()
    ]
    method = PaymentMethod.CARD if rng.random() < 0.6 else PaymentMethod.ON_ARRIVAL
    booking = Booking(
        departure=departure,
        reference=new_reference(session, experience.association.code),
        manage_token=new_manage_token(),
        status=BookingStatus.CONFIRMED,
        payment_method=method.value,
        contact_name=f"Visitante Demo H{visitor}",
        contact_email=f"demo-h{visitor}@example.org",
        contact_phone=f"+593 99 100 {visitor:04d}",
        country=rng.choice(("EC", "US", "DE", "FR", "CO")),
        language=rng.choice(("es", "en")),
        special_needs="",
        total_cents=sum(line.quantity * line.unit_price_cents for line in lines),
        currency=experience.currency,
        created_at=booked_at,
        confirmed_at=booked_at,
        lines=lines,
        split_rule=rule,
    )
    session.add(booking)
    session.flush()
    return booking


def _card_payment(session, booking, at) -> Payment:
    amount = booking.total_cents
    payment = Payment(
        booking=booking,
        provider="stripe",
        provider_ref=f"pi_demo_{uuid.uuid4().hex[:16]}",
        charge_ref=f"ch_demo_{uuid.uuid4().hex[:16]}",
        amount_cents=amount,
        fee_cents=min(amount, amount * CARD_FEE_BASIS_POINTS // 10_000 + CARD_FEE_FIXED_CENTS),
        currency=booking.currency,
        status=PaymentStatus.SUCCEEDED,
        created_at=at,
        succeeded_at=at,
    )
    session.add(payment)
    session.flush()
    postings.post_payment(session, payment)
    return payment


def _partial_refund(session, payment, at) -> None:
    """One fewer visitor came: a quarter of the payment back, as the processor would."""
    refund = Refund(
        payment=payment,
        provider_ref=f"re_demo_{uuid.uuid4().hex[:16]}",
        amount_cents=payment.amount_cents // 4,
        reason="requested_by_customer",
        status=RefundStatus.SUCCEEDED,
        created_at=at,
    )
    session.add(refund)
    session.flush()
    postings.post_refund(session, refund)


def _pay_families(session, treasurer: User, paid_at: datetime) -> None:
    """Last month's settlement: each Kallari family paid what was available then."""
    association = treasurer.memberships[0].association
    items = [
        batches.BatchItem(line.beneficiary, line.available_cents, reference="Demo")
        for line in payouts.beneficiary_balances(session, association)
        if line.beneficiary.family is not None and line.available_cents > 0
    ]
    if items:
        batches.settle_batch(session, association, items, "cash", treasurer, paid_at)
