"""Paying a whole route by card (or a deposit) through the local Stripe emulator: one
PaymentIntent, confirmed only from Stripe, split per leg by each experience's rule, the
nights, extras and fee to their families, providers and curator; lapsed holds; a leg
cancelled by its association refunded from the route's charge; the route's emails."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS, Factories
from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest
from tourism.extensions import db
from tourism.models import (
    AccountKind,
    AccountState,
    BookingStatus,
    Notification,
    Payment,
    Refund,
    RefundStatus,
    Role,
    RoutePayment,
    TransactionKind,
    WebhookDelivery,
)
from tourism.services.booking import availability as seats
from tourism.services.ledger import checks, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.night_releases import night_over_at
from tourism.services.messages import outbox
from tourism.services.messages.rendering import render
from tourism.services.payments import intents, refunds, route_card, route_refunds
from tourism.services.routes import (
    availability,
    booking,
    changes,
    extra_releases,
    night_releases,
    settlement,
)
from tourism.unit_of_work import run_effects

from .helpers import LANGS, request_for, start_of

HOLD = timedelta(minutes=30)
AVAILABLE, PENDING = AccountState.AVAILABLE, AccountState.PENDING


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context(), app.test_request_context(), write_transactions():
        yield app


@pytest.fixture
def session(pay_app):
    return db.session


@pytest.fixture
def make(pay_app):
    return Factories(db.session)


def owed(session, kind, association=None, family=None, state=AVAILABLE) -> int:
    account = ledger.account(session, kind, association, family=family, state=state)
    return -ledger.balance(session, account)


@pytest.fixture
def sold(session, make):
    """A route with a split rule on its first leg, a curator fee, a family's lunch, held for
    two people to pay by card."""
    route = make.route(curator_fee_cents=250)
    first = route.legs[0].experience
    admin = make.user(memberships=[(first.association, Role.ADMIN)])
    now = utcnow()
    rule = split_rules.approve_rule(session, first, SPLIT_PARTS, admin, now, now)
    lunch_family = make.family(route.legs[2].experience.association)
    lunch = make.route_extra(route.legs[2].experience.association, price=700, family=lunch_family)
    route.extras += [lunch]
    session.flush()

    def hold(method="card", **kw):
        return booking.book_route(
            session,
            request_for(
                route, start_of(route), people=2, extras={lunch.id: 2}, payment_method=method
            ),
            utcnow() + timedelta(seconds=1),
            LANGS,
            online=True,
            **kw,
        )

    return dict(route=route, rule=rule, lunch=lunch, hold=hold)


def pay(gateway, rb, card="pm_card_visa"):
    """What the browser does: pay the route's PaymentIntent with a card."""
    start = route_card.start_route_payment(db.session, rb, gateway, utcnow(), HOLD)
    gateway.confirm_intent(start.payment.provider_ref, card)
    return start.payment


def kinds_queued(session) -> list[str]:
    return sorted(session.scalars(select(Notification.kind)))


def test_card_is_offered_only_when_every_leg_offers_it(session, sold, make):
    route = sold["route"]
    assert booking.payment_methods(route, online=True) == ["card", "on_arrival"]
    assert booking.payment_methods(route, online=False) == ["on_arrival"]
    route.legs[2].experience.payment_options = "on_arrival"
    assert booking.payment_methods(route, online=True) == ["on_arrival"]
    with pytest.raises(InvalidRequest):
        sold["hold"]("card")
    assert session.scalar(select(func.count(RoutePayment.id))) == 0


def test_one_intent_for_the_whole_route_confirmed_only_from_stripe(session, sold, gateway):
    rb = sold["hold"]()
    assert rb.status == BookingStatus.HELD
    assert all(bl.booking.online_due_cents == bl.booking.total_cents for bl in rb.legs)
    assert booking.online_due_cents(rb) == rb.total_cents
    first = route_card.start_route_payment(session, rb, gateway, utcnow(), HOLD)
    again = route_card.start_route_payment(session, rb, gateway, utcnow(), HOLD)
    assert first.payment.id == again.payment.id  # one intent, reused
    intent = gateway.retrieve_intent(first.payment.provider_ref)
    assert intent.amount == rb.total_cents
    assert intent.metadata["route_booking_reference"] == rb.reference
    gateway.confirm_intent(first.payment.provider_ref, "pm_card_visa")
    assert rb.status == BookingStatus.HELD  # paying alone changes nothing
    assert route_card.sync_route_booking(session, rb, gateway, utcnow()) == "confirmed"
    session.refresh(rb)
    assert rb.status == BookingStatus.CONFIRMED
    assert {bl.booking.status for bl in rb.legs} == {BookingStatus.CONFIRMED}
    # Each leg has its own stripe payment of its total, from the route's intent.
    for booking_leg in rb.legs:
        (leg_payment,) = booking_leg.booking.payments
        assert leg_payment.route_payment_id == first.payment.id
        assert leg_payment.amount_cents == booking_leg.booking.total_cents
        assert leg_payment.intent_ref == first.payment.provider_ref
        assert booking_leg.booking.due_on_arrival_cents == 0
    # Applying Stripe's answer again (a replayed webhook) changes nothing.
    transactions = session.scalar(select(func.count()).select_from(ledger.LedgerTransaction))
    again_intent = gateway.retrieve_intent(first.payment.provider_ref)
    assert intents.apply_intent(session, again_intent, gateway, utcnow()) == "unchanged"
    assert (
        session.scalar(select(func.count()).select_from(ledger.LedgerTransaction)) == transactions
    )
    assert kinds_queued(session) == ["route_confirmed"]


def test_the_money_is_split_per_leg_and_the_stay_goes_to_families_and_curator(
    session, sold, gateway
):
    rb = sold["hold"]()
    route = sold["route"]
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    assert checks.check(session) == []
    first_leg, second_leg = rb.legs[0].booking, rb.legs[1].booking
    assert first_leg.split_rule_id == sold["rule"].id

    def credited(leg_booking) -> set[str]:
        (payment,) = leg_booking.payments
        found = ledger.find_transaction(session, TransactionKind.PAYMENT, payment_id=payment.id)
        return {e.account.kind.value for e in found.entries if e.amount_cents < 0}

    assert credited(first_leg) >= {"family", "guide", "association_fund", "platform"}
    assert credited(second_leg) == {"association_fund"}  # no rule: the community's fund
    for leg in (route.legs[1], route.legs[3]):
        # Each night waits, pending, until it is over (test_night_releases).
        family = leg.homestay.family
        assert owed(session, AccountKind.FAMILY, family=family, state=PENDING) == 2 * 2500
        assert owed(session, AccountKind.FAMILY, family=family) == 0
    # The lunch and the fee wait, pending, until the route starts (test_extra_releases).
    lunch_family = sold["lunch"].family
    assert owed(session, AccountKind.FAMILY, family=lunch_family, state=PENDING) == 1400
    assert owed(session, AccountKind.FAMILY, family=lunch_family) == 0
    assert owed(session, AccountKind.PLATFORM, state=PENDING) == 500  # the platform curates
    assert owed(session, AccountKind.PLATFORM) == 0
    # Card money sits in each community's Stripe clearing: the whole route's total.
    clearing = sum(
        ledger.balance(
            session, ledger.account(session, AccountKind.STRIPE_CLEARING, part.association)
        )
        for part in settlement.community_parts(rb)
    )
    assert clearing == rb.total_cents
    # Nothing is left to collect in cash on arrival.
    for part in settlement.community_parts(rb):
        assert settlement.part_outstanding_cents(session, rb, part) == 0
        assert settlement.record_route_cash(session, rb, part.association, None, utcnow()) == 0


def test_a_deposit_pays_the_legs_share_online_and_the_rest_on_arrival(session, sold, gateway):
    route = sold["route"]
    for leg in route.legs:
        if leg.experience is not None:
            leg.experience.payment_options = "card,deposit,on_arrival"
            leg.experience.deposit_percent = 30
    rb = sold["hold"]("deposit")
    assert booking.online_due_cents(rb) == sum(
        (bl.booking.total_cents * 30 + 50) // 100 for bl in rb.legs
    )
    payment = pay(gateway, rb)
    assert payment.amount_cents == booking.online_due_cents(rb)
    assert route_card.sync_route_booking(session, rb, gateway, utcnow()) == "confirmed"
    session.refresh(rb)
    outstanding = 0
    for part in settlement.community_parts(rb):
        outstanding += settlement.record_route_cash(session, rb, part.association, None, utcnow())
    assert outstanding == rb.total_cents - payment.amount_cents
    assert checks.check(session) == []


def test_a_payment_after_the_hold_lapsed_is_given_back_whole(session, sold, gateway):
    rb = sold["hold"]()
    payment = pay(gateway, rb)
    later = utcnow() + timedelta(hours=2)
    outcome = route_card.sync_route_booking(session, rb, gateway, later)
    assert outcome == "refunded: route no longer held"
    session.commit()  # the money goes back at Stripe after the commit
    run_effects(session)
    session.refresh(rb)
    session.refresh(payment)
    assert rb.status == BookingStatus.EXPIRED
    assert {bl.booking.status for bl in rb.legs} == {BookingStatus.EXPIRED}
    assert payment.returned_cents == payment.amount_cents
    assert payment.returned_ref and payment.returned_ref.startswith("re_")
    assert session.scalar(select(func.count(Payment.id))) == 0  # nothing entered the split
    assert kinds_queued(session) == ["route_payment_refunded"]
    assert checks.check(session) == []


def test_a_lapsed_unpaid_hold_releases_every_leg_night_and_extra(session, sold, gateway):
    rb = sold["hold"]()
    route_card.start_route_payment(session, rb, gateway, utcnow(), HOLD)
    night = rb.nights[0]
    extra = rb.extras[0]
    departure = rb.legs[0].booking.departure
    now = utcnow()
    assert availability.beds_taken(session, night.homestay_id, night.night, now) == 2
    assert availability.extra_units_sold(session, extra.extra_id, now) == 2
    assert seats.seats_left(session, departure, now) == departure.capacity - 2
    later = now + timedelta(hours=2)
    assert changes.expire_route_holds(session, later) == 1
    assert rb.status == BookingStatus.EXPIRED
    assert {bl.booking.status for bl in rb.legs} == {BookingStatus.EXPIRED}
    assert availability.beds_taken(session, night.homestay_id, night.night, later) == 0
    assert availability.extra_units_sold(session, extra.extra_id, later) == 0
    assert seats.seats_left(session, departure, later) == departure.capacity
    with pytest.raises(route_card.RouteHoldExpired):
        route_card.start_route_payment(session, rb, gateway, later, HOLD)


def test_an_association_cancels_one_leg_refunded_in_full_the_rest_stands(session, sold, gateway):
    rb = sold["hold"]()
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    second = rb.legs[1].booking
    refunds.cancel_departure(session, second.departure, "Río crecido", gateway, utcnow())
    session.commit()  # the refund is paid at Stripe after the commit
    refunds.finish_refunds(session, gateway)
    (refund,) = session.scalars(select(Refund)).all()
    assert refund.status == RefundStatus.SUCCEEDED and refund.provider_ref.startswith("re_")
    assert refund.amount_cents == second.total_cents
    session.refresh(rb)
    assert rb.status == BookingStatus.CONFIRMED  # the rest of the route stands
    assert [bl.booking.status for bl in rb.legs] == [
        BookingStatus.CONFIRMED,
        BookingStatus.CANCELLED,
        BookingStatus.CONFIRMED,
    ]
    charge = gateway.retrieve_charge(refund.payment.charge_ref)
    assert sum(r.amount for r in charge.refunds) == second.total_cents
    assert checks.check(session) == []
    # And against Stripe: the route's payment and the leg's refund as Stripe has them.
    from tourism.services.payments import processor_check

    report = processor_check.check_against_processor(session, gateway)
    assert report.problems == [] and report.payments_checked == 1
    assert report.refunds_checked == 1
    # The tourist is told in their language, with the route's page.
    (notice,) = session.scalars(
        select(Notification).where(Notification.kind == "departure_cancelled")
    ).all()
    with force_locale("es"):
        rendered = render(notice.kind, second, "es", {"refund_cents": refund.amount_cents})
    assert rb.reference in rendered.text and "el resto de la ruta" in rendered.text
    assert f"/route-bookings/{rb.manage_token}" in rendered.text


@pytest.mark.parametrize(
    ("locale", "words"), [("es", "Tu ruta está confirmada"), ("en", "Your route is confirmed")]
)
def test_the_route_confirmation_email_in_the_visitors_language(session, sold, locale, words):
    rb = sold["hold"]("on_arrival")
    assert rb.status == BookingStatus.CONFIRMED
    (notice,) = session.scalars(select(Notification)).all()
    assert notice.kind == "route_confirmed"
    notice.language = locale
    message = outbox.build_message(notice)
    text = message.get_body(("plain",)).get_content()
    assert words in text
    assert rb.reference in message["Subject"]
    for booking_leg in rb.legs:
        assert booking_leg.booking.reference in text
    assert f"/route-bookings/{rb.manage_token}" in text


def paid_route(session, sold, gateway, policy=None):
    if policy is not None:
        sold["route"].cancellation_policy = policy
    rb = sold["hold"]()
    pay(gateway, rb)
    route_card.sync_route_booking(session, rb, gateway, utcnow())
    session.refresh(rb)
    return rb


def test_the_tourist_cancels_early_everything_is_refunded(session, sold, gateway):
    rb = paid_route(session, sold, gateway)
    night = rb.nights[0]
    refunded = route_refunds.cancel_route(session, rb, gateway, utcnow())
    assert refunded == rb.total_cents
    session.commit()
    refunds.finish_refunds(session, gateway)
    session.refresh(rb)
    assert rb.status == BookingStatus.CANCELLED
    assert {bl.booking.status for bl in rb.legs} == {BookingStatus.CANCELLED}
    assert availability.beds_taken(session, night.homestay_id, night.night, utcnow()) == 0
    legs_back = session.scalar(select(func.sum(Refund.amount_cents)))
    (route_payment,) = rb.payments
    assert legs_back + route_payment.returned_cents == rb.total_cents
    assert route_payment.returned_ref.startswith("re_")
    charge = gateway.retrieve_charge(route_payment.charge_ref)
    assert sum(r.amount for r in charge.refunds) == rb.total_cents
    assert checks.check(session) == []
    # Nobody is owed anything for a route that will not happen.
    for leg in (sold["route"].legs[1], sold["route"].legs[3]):
        assert owed(session, AccountKind.FAMILY, family=leg.homestay.family) == 0
    assert owed(session, AccountKind.PLATFORM) == 0


def test_a_late_cancellation_refunds_the_tier_of_every_part(session, sold, gateway):
    policy = [{"hours": 72, "percent": 100}, {"hours": 24, "percent": 50}]
    rb = paid_route(session, sold, gateway, policy)
    first = route_refunds.first_start(rb)
    late = first - timedelta(hours=30)
    plan = route_refunds.route_refund_plan(session, rb, late)
    assert plan.percent == 50
    assert sorted(amount for _, amount in plan.legs) == sorted(
        (bl.booking.total_cents * 50 + 50) // 100 for bl in rb.legs
    )
    refunded = route_refunds.cancel_route(session, rb, gateway, late)
    assert refunded == plan.total_cents
    session.commit()
    refunds.finish_refunds(session, gateway)
    assert checks.check(session) == []
    families = [leg.homestay.family for leg in (sold["route"].legs[1], sold["route"].legs[3])]
    for family in families:
        # The half kept of each night is the family's, pending until the night's date.
        assert owed(session, AccountKind.FAMILY, family=family, state=PENDING) == 2500
        assert owed(session, AccountKind.FAMILY, family=family) == 0
    # The half kept of the lunch and of the fee, pending until the route's start.
    lunch_family = sold["lunch"].family
    assert owed(session, AccountKind.FAMILY, family=lunch_family, state=PENDING) == 700
    assert owed(session, AccountKind.PLATFORM, state=PENDING) == 250
    after = night_over_at(max(night.night for night in rb.nights)) + timedelta(hours=1)
    extra_releases.release_route_extras(session, after)
    night_releases.release_route_nights(session, after)
    for family in families:
        assert owed(session, AccountKind.FAMILY, family=family, state=PENDING) == 0
        assert owed(session, AccountKind.FAMILY, family=family) == 2500
    assert owed(session, AccountKind.FAMILY, family=lunch_family, state=PENDING) == 0
    assert owed(session, AccountKind.FAMILY, family=lunch_family) == 700
    assert owed(session, AccountKind.PLATFORM, state=PENDING) == 0
    assert owed(session, AccountKind.PLATFORM) == 250
    assert checks.check(session) == []


def test_after_the_last_tier_nothing_is_refunded(session, sold, gateway):
    rb = paid_route(session, sold, gateway, [{"hours": 72, "percent": 100}])
    late = route_refunds.first_start(rb) - timedelta(hours=10)
    assert route_refunds.cancel_route(session, rb, gateway, late) == 0
    assert rb.status == BookingStatus.CANCELLED
    assert session.scalar(select(func.count(Refund.id))) == 0
    assert checks.check(session) == []


# A leg its community cancelled, moved to another date ----------------------------------------


@pytest.fixture
def leg_cancelled(session, sold, gateway, make):
    """A card-paid route whose day-2 departure its community cancelled, and another
    departure of that experience the same afternoon with room for two."""
    rb = paid_route(session, sold, gateway)
    second = rb.legs[1].booking
    refunds.cancel_departure(session, second.departure, "Río crecido", gateway, utcnow())
    later = make.departure(
        second.departure.experience,
        capacity=2,
        starts_at=second.departure.starts_at + timedelta(hours=8),
    )
    session.flush()
    return dict(rb=rb, leg=rb.legs[1], later=later)


def test_a_cancelled_leg_can_move_to_another_date_with_room(session, leg_cancelled, gateway):
    rb, leg, later = leg_cancelled["rb"], leg_cancelled["leg"], leg_cancelled["later"]
    assert changes.movable_legs(rb) == [leg]
    assert changes.move_options(session, rb, leg, utcnow()) == [later]
    new_leg = changes.move_leg(session, rb, leg.id, later.id, utcnow())
    moved = new_leg.booking
    assert moved.status == BookingStatus.CONFIRMED and moved.departure_id == later.id
    assert moved.payment_method == "on_arrival" and moved.due_on_arrival_cents == moved.total_cents
    assert seats.seats_left(session, later, utcnow()) == 0
    assert changes.movable_legs(rb) == []  # moved once
    # Sold on our own site: no reseller to tell.
    assert session.scalars(select(WebhookDelivery)).all() == []
    with pytest.raises(changes.CannotMoveLeg):
        changes.move_leg(session, rb, leg.id, later.id, utcnow())
    # Its community is paid in cash for it, like any leg.
    part = next(p for p in settlement.community_parts(rb) if moved in p.legs)
    assert settlement.part_outstanding_cents(session, rb, part) == moved.total_cents


def test_moving_a_leg_of_a_route_a_reseller_sold_posts_its_webhook(session, leg_cancelled, make):
    import json
    import uuid

    from tourism.models import ChannelBooking, ChannelRouteBooking

    rb, leg, later = leg_cancelled["rb"], leg_cancelled["leg"], leg_cancelled["later"]
    reseller, _key = make.reseller()
    reseller.webhook_url = "https://reseller.example/hooks"
    sale = ChannelRouteBooking(
        route_booking=rb, reseller=reseller, uuid=str(uuid.uuid4()), reseller_reference="R-9"
    )
    session.add(sale)
    for booking_leg in rb.legs:
        session.add(
            ChannelBooking(
                booking=booking_leg.booking,
                reseller=reseller,
                uuid=str(uuid.uuid4()),
                route_sale=sale,
                reseller_reference="R-9",
                created_at=utcnow(),
            )
        )
    session.flush()
    changes.move_leg(session, rb, leg.id, later.id, utcnow())
    (delivery,) = session.scalars(select(WebhookDelivery)).all()
    body = json.loads(delivery.payload)["booking"]
    assert body["uuid"] == sale.uuid and body["cancellationReason"] == changes.LEG_MOVED


def test_a_leg_cannot_move_where_there_is_no_room_or_to_another_experience(
    session, leg_cancelled, make
):
    rb, leg, later = leg_cancelled["rb"], leg_cancelled["leg"], leg_cancelled["later"]
    make.booking(later, quantities={"adult": 1})
    assert changes.move_options(session, rb, leg, utcnow()) == []
    with pytest.raises(changes.NoRoomToMove):
        changes.move_leg(session, rb, leg.id, later.id, utcnow())
    elsewhere = rb.legs[2].booking.departure  # the day-3 activity: another experience
    with pytest.raises(changes.CannotMoveLeg):
        changes.move_leg(session, rb, leg.id, elsewhere.id, utcnow())
    standing = rb.legs[0]
    with pytest.raises(changes.CannotMoveLeg):  # only a leg its community cancelled moves
        changes.move_leg(session, rb, standing.id, later.id, utcnow())


def _race_two_moves(pay_app, rb_ids, leg_ids, departure_id, barrier):
    """Two tourists move their cancelled leg to the same departure at the same moment; each
    waits, after counting the seats, for the other to count too (as long as it can)."""
    from tourism.models import RouteBooking

    outcomes = []

    def move(rb_id, leg_id):
        with pay_app.app_context(), write_transactions():
            try:
                found = db.session.get(RouteBooking, rb_id)
                changes.move_leg(db.session, found, leg_id, departure_id, utcnow())
                db.session.commit()
                outcomes.append("moved")
            except changes.NoRoomToMove:
                db.session.rollback()
                outcomes.append("no room")
            finally:
                db.session.remove()

    import threading

    pairs = zip(rb_ids, leg_ids, strict=True)
    threads = [threading.Thread(target=move, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes)


@pytest.fixture
def two_cancelled(session, sold, gateway, make):
    """Two card-paid routes for two people on the same dates, whose day-2 departure is
    cancelled, and another departure with room for only one of them; committed."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("two transactions at once need PostgreSQL (SQLite runs one writer)")
    first, second = paid_route(session, sold, gateway), paid_route(session, sold, gateway)
    departure = first.legs[1].booking.departure
    refunds.cancel_departure(session, departure, "Río crecido", gateway, utcnow())
    later = make.departure(
        departure.experience, capacity=2, starts_at=departure.starts_at + timedelta(hours=8)
    )
    session.commit()
    return [first.id, second.id], [first.legs[1].id, second.legs[1].id], later.id


def _wait_after_counting(monkeypatch, barrier):
    real = seats.seats_taken_on

    def counted_then_wait(session, departure_id, now):
        taken = real(session, departure_id, now)
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return taken

    monkeypatch.setattr(seats, "seats_taken_on", counted_then_wait)


def test_two_tourists_moving_to_the_last_seats_at_once_one_gets_them(
    pay_app, session, two_cancelled, monkeypatch
):
    barrier = threading.Barrier(2)
    _wait_after_counting(monkeypatch, barrier)
    rb_ids, leg_ids, departure_id = two_cancelled
    assert _race_two_moves(pay_app, rb_ids, leg_ids, departure_id, barrier) == [
        "moved",
        "no room",
    ]


def test_negative_control_without_the_departure_lock_both_moves_oversell(
    pay_app, session, two_cancelled, monkeypatch
):
    """The same race with the departure lock replaced by a plain read: both count two free
    seats before either writes, both move, and the departure of two holds four."""
    from tourism.models import Departure

    barrier = threading.Barrier(2)
    _wait_after_counting(monkeypatch, barrier)
    monkeypatch.setattr(
        seats, "lock_departure", lambda session, departure_id: session.get(Departure, departure_id)
    )
    rb_ids, leg_ids, departure_id = two_cancelled
    assert _race_two_moves(pay_app, rb_ids, leg_ids, departure_id, barrier) == [
        "moved",
        "moved",
    ]
    session.expire_all()
    later = session.get(Departure, departure_id)
    assert later.capacity == 2
    assert seats.seats_taken_on(session, departure_id, utcnow()) == 4  # oversold


def test_a_missed_confirmation_is_repaired_by_reconcile(session, sold, gateway):
    """Stripe took the money but no webhook came and the tourist closed the tab:
    ``flask reconcile-payments`` finds the route's intent and confirms the route."""
    from tourism.services.payments import reconcile

    rb = sold["hold"]()
    pay(gateway, rb)
    session.commit()
    report = reconcile.reconcile_payments(session, gateway, utcnow(), utcnow() - timedelta(hours=1))
    assert report.failed == [] and report.changed >= 1
    session.refresh(rb)
    assert rb.status == BookingStatus.CONFIRMED
    assert checks.check(session) == []


def test_the_dates_offered_are_those_around_the_cancelled_day(session, leg_cancelled, make):
    """The tourist is on the route around the cancelled day: the dates offered (and the
    only ones taken) are within a week of it, the closest first, however many run sooner."""
    rb, leg, later = leg_cancelled["rb"], leg_cancelled["leg"], leg_cancelled["later"]
    cancelled = leg.booking.departure
    experience = cancelled.experience
    around = changes.MOVE_DAYS_AROUND
    sooner = [
        make.departure(experience, capacity=8, starts_at=utcnow() + timedelta(days=1, hours=h))
        for h in range(0, 40, 4)
    ]
    far = make.departure(
        experience, capacity=8, starts_at=cancelled.starts_at + timedelta(days=around + 1)
    )
    session.flush()
    within = [d for d in sooner if abs(d.starts_at - cancelled.starts_at).days < around]
    offered = changes.move_options(session, rb, leg, utcnow())
    assert later in offered and far not in offered
    assert all(abs(d.starts_at - cancelled.starts_at) <= timedelta(days=around) for d in offered)
    assert offered == sorted(offered, key=lambda d: d.starts_at)
    assert set(offered) <= {later, *within}
    with pytest.raises(changes.CannotMoveLeg):  # sent without being offered: refused too
        changes.move_leg(session, rb, leg.id, far.id, utcnow())
    assert changes.move_leg(session, rb, leg.id, later.id, utcnow()).booking.departure == later
