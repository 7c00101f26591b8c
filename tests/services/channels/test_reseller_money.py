"""A reseller's money: its commission per experience (later sales only) and its commission
posted to the ledger as a party of the split, to the cent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.errors import DomainError
from tourism.extensions import db
from tourism.models import BookingStatus, LedgerEntry, LedgerTransaction, Role
from tourism.models.ledger import AccountKind, TransactionKind
from tourism.services.channels import products, resellers, reservations
from tourism.services.ledger import checks, reseller_postings, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.commissions import booking_commission
from tourism.services.operations.checkin import record_cash
from tourism.unit_of_work import unit_of_work

TERMS = reservations.Terms(hold_max=timedelta(minutes=30), languages=["es", "en"])
GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
}


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.fixture
def world(app, make):
    experience = make.experience(prices={"adult": 4_599, "child": 2_333})
    make.stop(experience, family=make.family(experience.association))
    departure = make.departure(experience, capacity=20, starts_in=timedelta(days=3))
    other = make.experience(association=experience.association)
    reseller, _ = make.reseller(experiences=[experience, other], commission_bp=1_250)
    admin = make.user(memberships=[(experience.association, Role.ADMIN)])
    guide = make.guide(experience.association)
    make.assign(departure, guide)
    now = utcnow()
    split_rules.approve_rule(db.session, experience, SPLIT_PARTS, admin, now, now)
    db.session.commit()
    return {
        "experience": experience,
        "other": other,
        "departure": departure,
        "reseller": reseller,
        "admin": admin,
        "guide": guide,
    }


def _sell(world, adults=2, children=1):
    body = {
        "productId": world["experience"].slug,
        "optionId": "DEFAULT",
        "availabilityId": str(world["departure"].id),
        "unitItems": [{"unitId": "adult"}] * adults + [{"unitId": "child"}] * children,
    }
    now = utcnow()
    with unit_of_work():
        channel = reservations.reserve(db.session, world["reseller"], body, now, TERMS)
        reservations.confirm(db.session, channel, {"contact": GUEST}, now, TERMS)
    return channel


def _cash(world, booking, cents):
    with unit_of_work():
        payment, _ = record_cash(db.session, booking, cents, world["guide"], utcnow())
    return payment


def test_a_rate_on_one_experience_applies_to_later_sales_only(world):
    reseller, experience = world["reseller"], world["experience"]
    first = _sell(world)
    assert first.commission_bp == 1_250
    resellers.set_rate(db.session, world["admin"], reseller, experience, 2_000, utcnow())
    db.session.commit()
    assert resellers.commission_for(reseller, experience) == 2_000
    assert resellers.commission_for(reseller, world["other"]) == 1_250
    second = _sell(world)
    assert (first.commission_bp, second.commission_bp) == (1_250, 2_000)
    # The OCTO price shows the rate: net = retail less 20 % per ticket.
    assert (
        products.price(4_599, "USD", resellers.commission_for(reseller, experience))["net"]
        == 4_599 - 920
    )
    resellers.remove_rate(db.session, world["admin"], reseller, experience, utcnow())
    db.session.commit()
    assert resellers.commission_for(reseller, experience) == 1_250
    assert db.session.get(type(second), second.id).commission_bp == 2_000


@pytest.mark.parametrize("bp", [-1, 10_001])
def test_a_rate_outside_the_price_is_refused(world, bp):
    with pytest.raises(DomainError):
        resellers.set_rate(
            db.session, world["admin"], world["reseller"], world["experience"], bp, utcnow()
        )
    db.session.rollback()
    assert world["reseller"].rates == []


def test_a_rate_on_an_experience_it_may_not_sell_is_refused(world, make):
    foreign = make.experience()
    own_unsold = make.experience(association=world["experience"].association)
    db.session.commit()
    for experience in (foreign, own_unsold):
        with pytest.raises(DomainError):
            resellers.set_rate(
                db.session, world["admin"], world["reseller"], experience, 500, utcnow()
            )
        db.session.rollback()


def _entries(payment):
    transaction = db.session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.payment_id == payment.id)
    )
    return {
        (e.account.kind, e.account.reseller_id): e.amount_cents
        for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id)
        )
        if e.account.kind in (AccountKind.RESELLER_COMMISSION, AccountKind.CASH_HELD)
    }, transaction


def test_the_commission_is_a_party_of_the_split_to_the_cent(world):
    channel = _sell(world)
    booking = channel.booking
    # Per ticket, rounded: 12.5 % of 45.99 is 5.75 (5.74875), of 23.33 is 2.92 (2.91625).
    assert booking_commission(booking, 1_250) == 2 * 575 + 292
    payment = _cash(world, booking, booking.total_cents)
    found, transaction = _entries(payment)
    reseller_id = world["reseller"].id
    assert found[(AccountKind.RESELLER_COMMISSION, reseller_id)] == -(2 * 575 + 292)
    assert sum(e.amount_cents for e in transaction.entries) == 0
    credits = -sum(e.amount_cents for e in transaction.entries if e.amount_cents < 0)
    assert credits == booking.total_cents == 2 * 4_599 + 2_333
    assert checks.check(db.session) == []


def test_a_booking_paid_in_parts_owes_the_commission_once(world):
    channel = _sell(world, adults=3, children=0)
    booking = channel.booking
    owed = booking_commission(booking, 1_250)
    first = _cash(world, booking, 1_001)
    second = _cash(world, booking, booking.total_cents - 1_001)
    account = ledger.account(
        db.session, AccountKind.RESELLER_COMMISSION, reseller=world["reseller"]
    )
    assert -ledger.balance(db.session, account) == owed
    parts = [
        _entries(p)[0][(AccountKind.RESELLER_COMMISSION, world["reseller"].id)]
        for p in (first, second)
    ]
    assert -sum(parts) == owed and all(p < 0 for p in parts)
    assert checks.check(db.session) == []


def test_a_web_booking_has_no_commission(world, make):
    booking = make.booking(world["departure"], quantities={"adult": 1})
    db.session.commit()
    payment = _cash(world, booking, booking.total_cents)
    found, _ = _entries(payment)
    assert not any(kind == AccountKind.RESELLER_COMMISSION for kind, _ in found)


def test_reseller_accounts_belong_to_the_resellers_association(world, make):
    stranger = make.association()
    db.session.commit()
    with pytest.raises(ledger.InvalidAccount):
        ledger.account(
            db.session, AccountKind.RESELLER_COMMISSION, stranger, reseller=world["reseller"]
        )
    with pytest.raises(ledger.InvalidAccount):
        ledger.account(db.session, AccountKind.RESELLER_COMMISSION, stranger)


# Prepaid resellers -------------------------------------------------------------------------------


def _prepaid(world):
    world["reseller"].prepaid = True
    db.session.commit()


def test_a_prepaid_sale_is_a_receivable_of_the_price_less_the_commission(world):
    _prepaid(world)
    channel = _sell(world)
    booking = channel.booking
    commission = booking_commission(booking, 1_250)
    assert channel.prepaid and booking.due_on_arrival_cents == 0
    sale = ledger.find_transaction(db.session, TransactionKind.RESELLER_SALE, booking_id=booking.id)
    credits = -sum(e.amount_cents for e in sale.entries if e.amount_cents < 0)
    assert credits == booking.total_cents  # the parts add up to the price
    assert reseller_postings.owed(db.session, world["reseller"]) == booking.total_cents - commission
    # Confirming again posts nothing more.
    with unit_of_work():
        reseller_postings.post_sale(db.session, booking, utcnow())
    assert reseller_postings.owed(db.session, world["reseller"]) == booking.total_cents - commission
    assert checks.check(db.session) == []


def test_a_receipt_settles_what_the_reseller_owes_once(world):
    _prepaid(world)
    booking = _sell(world).booking
    owed = reseller_postings.owed(db.session, world["reseller"])
    for _ in range(2):  # the same form sent twice
        with unit_of_work():
            reseller_postings.record_receipt(
                db.session, world["admin"], world["reseller"], owed - 100, "TR-1", "tok-1", utcnow()
            )
    assert reseller_postings.owed(db.session, world["reseller"]) == 100
    for cents in (0, -5, 101):
        with pytest.raises(DomainError):
            reseller_postings.record_receipt(
                db.session, world["admin"], world["reseller"], cents, "", f"tok{cents}", utcnow()
            )
        db.session.rollback()
    result = reseller_postings.statement(db.session, world["reseller"])
    assert [line.reference for line in result.lines] == [booking.reference]
    assert result.received_cents == owed - 100 and result.owed_cents == 100
    assert result.sold_cents == owed
    assert checks.check(db.session) == []


def test_cancelling_a_prepaid_booking_undoes_its_sale(world):
    _prepaid(world)
    channel = _sell(world)
    with unit_of_work():
        reservations.cancel(db.session, channel, {}, utcnow())
    assert reseller_postings.owed(db.session, world["reseller"]) == 0
    commission = ledger.account(
        db.session, AccountKind.RESELLER_COMMISSION, reseller=world["reseller"]
    )
    assert ledger.balance(db.session, commission) == 0
    assert checks.check(db.session) == []


def test_a_weather_cancellation_undoes_a_prepaid_sale(world):
    from tourism.services.payments.refunds import cancel_departure

    _prepaid(world)
    _sell(world)
    with unit_of_work():
        cancel_departure(db.session, world["departure"], "River too high", None, utcnow())
    assert reseller_postings.owed(db.session, world["reseller"]) == 0
    assert checks.check(db.session) == []


def test_a_prepaid_sale_is_released_once_the_visit_happened(world):
    from tourism.models import Stop
    from tourism.models.ledger import AccountState
    from tourism.services.ledger import releases
    from tourism.services.operations import checkin

    _prepaid(world)
    booking = _sell(world).booking
    departure = world["departure"]
    stop = db.session.scalars(
        select(Stop).where(Stop.experience_id == departure.experience_id)
    ).one()
    after_start = departure.starts_at + timedelta(hours=1)
    held = reseller_postings.sale_shares(db.session, booking)
    family = next(a for a in held if a.kind == AccountKind.FAMILY)
    with unit_of_work():
        checkin.confirm_stop_visited(db.session, departure, stop, world["guide"], after_start)
        releases.release_departure(db.session, departure, after_start)
        releases.release_departure(db.session, departure, after_start)  # once only
    available = ledger.account(
        db.session, AccountKind.FAMILY, family=family.family, state=AccountState.AVAILABLE
    )
    assert -ledger.balance(db.session, available) == held[family] > 0
    after = reseller_postings.sale_shares(db.session, booking)
    assert all(a.state == AccountState.AVAILABLE for a in after)
    assert sum(after.values()) == booking.total_cents - booking_commission(booking, 1_250)
    assert checks.check(db.session) == []


def test_the_ledger_check_sees_a_prepaid_sale_out_of_step(world):
    """Negative control: a confirmed prepaid booking without its sale is reported."""
    _prepaid(world)
    body = {
        "productId": world["experience"].slug,
        "optionId": "DEFAULT",
        "availabilityId": str(world["departure"].id),
        "unitItems": [{"unitId": "adult"}],
    }
    now = utcnow()
    with unit_of_work():
        channel = reservations.reserve(db.session, world["reseller"], body, now, TERMS)
        booking = channel.booking
        booking.transition(BookingStatus.CONFIRMED)  # confirmed without the service
        booking.confirmed_at = now
        booking.hold_expires_at = None
    assert checks.check(db.session) == [
        f"prepaid booking {booking.reference} is confirmed but its sale is not posted"
    ]
    with unit_of_work():
        reseller_postings.post_sale(db.session, booking, now)
    assert checks.check(db.session) == []


def test_the_impact_receipt_leaves_the_commission_out(world):
    from tourism.services.messages.impact import impact_breakdown

    booking = _sell(world).booking
    _cash(world, booking, booking.total_cents)
    breakdown, from_ledger = impact_breakdown(db.session, booking)
    assert from_ledger
    assert breakdown.total_cents == booking.total_cents - booking_commission(booking, 1_250)
