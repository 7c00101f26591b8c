"""Ledger postings of money events: payments (card and cash), refunds, disputes, releases;
idempotent, inside the event's transaction, and shared exactly as the booking's rule says."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.models import (
    AccountKind,
    AccountState,
    BookingStatus,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Refund,
    Role,
    StopVisit,
    TransactionKind,
)
from tourism.services.ledger import checks, postings, releases, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.ledger.splits import Member, Party, split_payment
from tourism.services.operations import checkin
from tourism.services.payments import refunds, webhooks
from tourism.services.payments.stripe_gateway import ChargeInfo, RefundInfo

PENDING, AVAILABLE = AccountState.PENDING, AccountState.AVAILABLE
PARTS = SPLIT_PARTS


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


class World:
    """An association, an experience with two hosted stops (weights 3:1), a rule in force,
    a departure starting now with its guide."""

    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        self.now = utcnow().replace(microsecond=0)
        self.association = make.association()
        a = self.association
        self.experience = make.experience(a)
        self.families = [make.family(a), make.family(a)]
        self.stops = [make.stop(self.experience, family=f) for f in self.families]
        admin = make.user(password="", memberships=[(a, Role.ADMIN)])
        earlier = self.now - timedelta(days=30)
        self.rule = split_rules.approve_rule(
            session,
            self.experience,
            PARTS,
            admin,
            earlier,
            earlier,
            stop_weights={self.stops[0].id: 3, self.stops[1].id: 1},
        )
        self.departure = make.departure(self.experience, starts_at=self.now)
        self.guide = make.guide(a)
        make.assign(self.departure, self.guide)

    def booking(self, rule=True, **kw):
        booking = self.make.booking(self.departure, **kw)
        booking.split_rule = self.rule if rule else None
        self.session.flush()
        return booking

    def card(self, booking, amount=None, fee=0) -> Payment:
        """A succeeded card payment, recorded and posted the way ``apply_intent`` does."""
        payment = self.make.card_payment(
            booking, fee_cents=fee, amount_cents=amount, succeeded_at=self.now
        )
        postings.post_payment(self.session, payment)
        return payment

    def refund(self, payment, amount) -> Refund:
        """A refund Stripe reports (e.g. made in its dashboard), through the webhook service."""
        info = RefundInfo("re_" + uuid.uuid4().hex[:20], amount, "succeeded", payment.charge_ref)
        charge = ChargeInfo(
            payment.charge_ref, payment.provider_ref, payment.amount_cents, 0, (info,)
        )
        webhooks.record_refunds(self.session, charge)
        return self.session.scalars(select(Refund).where(Refund.provider_ref == info.id)).one()

    def dispute(self, payment, dispute_id, status, amount=None):
        data = {
            "id": dispute_id,
            "charge": payment.charge_ref,
            "payment_intent": payment.provider_ref,
            "amount": payment.amount_cents if amount is None else amount,
            "reason": "fraudulent",
            "status": status,
        }
        return webhooks.record_dispute(self.session, data, self.now)

    def departure_visits(self):
        return self.session.scalars(
            select(StopVisit).where(StopVisit.departure_id == self.departure.id)
        ).all()

    def expected(self, gross, fee, participants) -> dict:
        split = split_payment(
            gross,
            fee,
            participants,
            split_rules.to_split_rule(self.rule),
            families=split_rules.family_members(self.rule, self.stops),
            guides=[Member(self.guide.id)],
        )
        return {(p.party, p.member_id): p.cents for p in split.portions}

    def account(self, party, member_id=None, state=PENDING):
        s, a = self.session, self.association
        if party == Party.FAMILIES:
            family = next(f for f in self.families if f.id == member_id)
            return ledger.account(s, AccountKind.FAMILY, family=family, state=state)
        if party == Party.GUIDES:
            return ledger.account(s, AccountKind.GUIDE, a, user=self.guide, state=state)
        return ledger.account(s, AccountKind(party.value), a, state=state)

    def owed(self, party, member_id=None, state=PENDING) -> int:
        return -ledger.balance(self.session, self.account(party, member_id, state))

    def held(self, kind, **kw) -> int:
        return ledger.balance(
            self.session, ledger.account(self.session, kind, self.association, **kw)
        )


@pytest.fixture
def world(session, make) -> World:
    return World(session, make)


def transactions(session, kind) -> int:
    return session.scalar(
        select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == kind)
    )


# Payments ----------------------------------------------------------------------------------


def test_a_card_payment_credits_every_share_pending_once(session, world):
    booking = world.booking(quantities={"adult": 2, "child": 1})  # 11500, 3 participants
    payment = world.card(booking, fee=365)
    expected = world.expected(11_500, 365, 3)
    first, second = (expected[Party.FAMILIES, f.id] for f in world.families)
    assert abs(first - 3 * second) <= 3  # the stops weigh 3:1
    for (party, member), cents in expected.items():
        assert world.owed(party, member) == cents
    assert world.held(AccountKind.STRIPE_CLEARING) == 11_500
    assert world.held(AccountKind.PROCESSOR_FEES) == -365

    postings.post_payment(session, payment)  # a replayed event
    assert transactions(session, TransactionKind.PAYMENT) == 1
    assert checks.check(session) == []


def test_a_booking_without_a_rule_credits_the_association_fund(session, world):
    booking = world.booking(rule=False)
    world.card(booking, fee=100)
    assert world.owed(Party.ASSOCIATION_FUND) == booking.total_cents - 100
    assert world.owed(Party.PLATFORM) == 0
    assert checks.check(session) == []


def test_cash_is_held_by_the_guide_who_collected_it(session, world):
    booking = world.booking(quantities={"adult": 1}, payment_method="on_arrival")
    payment, new = checkin.record_cash(session, booking, 4_500, world.guide, world.now, "c-1")
    replay, again = checkin.record_cash(session, booking, 4_500, world.guide, world.now, "c-1")
    assert new and not again and replay.id == payment.id
    cash = ledger.account(session, AccountKind.CASH_HELD, world.association, user=world.guide)
    assert ledger.balance(session, cash) == 4_500
    assert transactions(session, TransactionKind.CASH) == 1
    expected = world.expected(4_500, 0, 1)
    assert world.owed(Party.GUIDES) == expected[Party.GUIDES, world.guide.id]
    assert checks.check(session) == []


def test_check_reports_a_succeeded_payment_never_posted(session, world):
    booking = world.booking()
    payment = Payment(
        booking=booking, provider="cash", amount_cents=500, status=PaymentStatus.SUCCEEDED
    )
    session.add(payment)
    session.flush()
    assert checks.check(session) == [
        f"cash payment {payment.id} succeeded but its split was never posted"
    ]
    postings.post_payment(session, payment)
    assert checks.check(session) == []


# Refunds -----------------------------------------------------------------------------------


def test_partial_refunds_reverse_proportionally_and_never_over_reverse(session, world):
    booking = world.booking(quantities={"adult": 2, "child": 1})
    payment = world.card(booking, amount=10_001, fee=321)
    for amount in (3_333, 3_333, 1, 3_334):
        world.refund(payment, amount)
        assert checks.check(session) == []
    assert payment.refunded_cents == 10_001
    for party, member in world.expected(10_001, 321, 3):
        if party != Party.ASSOCIATION_FUND:
            assert world.owed(party, member) == 0
    # The processor kept its fee: the association bears it.
    assert world.owed(Party.ASSOCIATION_FUND) == -321
    assert world.held(AccountKind.STRIPE_CLEARING) == 0
    assert transactions(session, TransactionKind.REFUND) == 4


def test_a_full_card_refund_leaves_a_party_that_paid_cash_confirmed(session, world):
    """Half the card payment refunded in Stripe's dashboard makes half due on arrival; the
    guide collects it; the rest of the card refunded later must not mark the booking
    refunded while it keeps the cash (its party could no longer be checked in)."""
    booking = world.booking(quantities={"adult": 2}, payment_method="card")  # 9000
    payment = world.card(booking, fee=187)
    world.refund(payment, 4_500)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.due_on_arrival_cents == 4_500
    checkin.record_cash(session, booking, 4_500, world.guide, world.now, "c-rest")
    world.refund(payment, 4_500)
    assert payment.net_cents == 0
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.paid_cash_cents == 4_500
    assert checks.check(session) == []
    assert checkin.check_in(session, booking, world.guide, world.now)


def test_a_half_refund_halves_every_share(session, world):
    booking = world.booking(quantities={"adult": 4})
    payment = world.card(booking, amount=18_000, fee=0)
    before = world.expected(18_000, 0, 4)
    refund = world.refund(payment, 9_000)
    for (party, member), cents in before.items():
        assert abs(world.owed(party, member) - cents / 2) <= 1
    postings.post_refund(session, refund)  # replayed
    assert transactions(session, TransactionKind.REFUND) == 1
    assert checks.check(session) == []


# Disputes ----------------------------------------------------------------------------------


def test_a_dispute_moves_the_money_and_a_won_one_moves_it_back(session, world):
    booking = world.booking()
    payment = world.card(booking, fee=0)
    shares = world.expected(payment.amount_cents, 0, 1)
    for status in ("needs_response", "under_review"):
        world.dispute(payment, "dp_1", status)
    assert world.held(AccountKind.DISPUTED_FUNDS) == payment.amount_cents
    assert world.held(AccountKind.STRIPE_CLEARING) == 0
    assert checks.check(session) == []
    world.dispute(payment, "dp_1", "won")
    world.dispute(payment, "dp_1", "won")  # redelivered
    assert world.held(AccountKind.DISPUTED_FUNDS) == 0
    assert world.held(AccountKind.STRIPE_CLEARING) == payment.amount_cents
    assert transactions(session, TransactionKind.DISPUTE) == 1
    assert transactions(session, TransactionKind.REVERSAL) == 1
    for (party, member), cents in shares.items():
        assert world.owed(party, member) == cents
    assert checks.check(session) == []


def test_a_lost_dispute_claws_the_shares_back(session, world):
    booking = world.booking()
    payment = world.card(booking, fee=0)
    world.dispute(payment, "dp_2", "lost")  # first heard of when already lost
    assert world.held(AccountKind.DISPUTED_FUNDS) == 0
    assert world.held(AccountKind.STRIPE_CLEARING) == 0
    for party, member in world.expected(payment.amount_cents, 0, 1):
        assert world.owed(party, member) == 0
    assert transactions(session, TransactionKind.DISPUTE_LOST) == 1
    assert checks.check(session) == []


# Releases ----------------------------------------------------------------------------------


def test_a_confirmed_stop_releases_its_family_and_the_rest(session, world):
    booking = world.booking(quantities={"adult": 2})
    world.card(booking, fee=0)
    shares = world.expected(booking.total_cents, 0, 2)
    first, second = world.families

    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    assert world.owed(Party.FAMILIES, first.id, PENDING) == 0
    assert world.owed(Party.FAMILIES, first.id, AVAILABLE) == shares[Party.FAMILIES, first.id]
    assert world.owed(Party.FAMILIES, second.id, AVAILABLE) == 0
    for party in (Party.GUIDES, Party.ASSOCIATION_FUND, Party.CONSERVATION_FUND, Party.PLATFORM):
        member = world.guide.id if party == Party.GUIDES else None
        assert world.owed(party, member, PENDING) == 0
        assert world.owed(party, member, AVAILABLE) == shares[party, member]

    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    checkin.confirm_stop_visited(session, world.departure, world.stops[1], world.guide, world.now)
    assert world.owed(Party.FAMILIES, second.id, AVAILABLE) == shares[Party.FAMILIES, second.id]
    assert transactions(session, TransactionKind.RELEASE) == 3
    assert checks.check(session) == []


def test_nothing_is_released_before_the_departure_starts(session, world, make):
    departure = make.departure(world.experience, starts_at=world.now + timedelta(hours=1))
    make.assign(departure, world.guide)
    booking = make.booking(departure)
    booking.split_rule = world.rule
    world.card(booking)
    checkin.confirm_stop_visited(session, departure, world.stops[0], world.guide, world.now)
    assert transactions(session, TransactionKind.RELEASE) == 0
    releases.release_departure(session, departure, world.now + timedelta(hours=1))
    assert transactions(session, TransactionKind.RELEASE) == 2  # the family, and the rest


def test_cash_collected_after_a_stop_is_released_at_once(session, world):
    checkin.confirm_stop_visited(session, world.departure, world.stops[0], world.guide, world.now)
    booking = world.booking(payment_method="on_arrival")
    checkin.record_cash(session, booking, booking.total_cents, world.guide, world.now)
    shares = world.expected(booking.total_cents, 0, 1)
    first = world.families[0].id
    assert world.owed(Party.FAMILIES, first, AVAILABLE) == shares[Party.FAMILIES, first]
    assert world.owed(Party.PLATFORM, None, AVAILABLE) == shares[Party.PLATFORM, None]
    assert checks.check(session) == []


# Generated histories -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_histories_keep_the_books_sound(session, world, seed):
    """Random bookings paid by card or cash, partial and full refunds, disputes won and
    lost, and stop confirmations, through the services; the books stay sound, every
    untouched payment is shared exactly as the rule says, and a touched one keeps what is
    left of it, proportionally."""
    rng = random.Random(seed)
    touched: dict[int, int] = {}  # payment id -> cents taken back
    payments: list[Payment] = []
    for n in range(12):
        booking = world.booking(
            quantities={"adult": rng.randint(1, 3), "child": rng.randint(0, 2)},
            payment_method="on_arrival" if n % 3 == 0 else "card",
        )
        if booking.payment_method == "on_arrival":
            payment, _ = checkin.record_cash(
                session, booking, booking.total_cents, world.guide, world.now, f"s{seed}-{n}"
            )
        else:
            payment = world.card(booking, fee=rng.choice([0, 30 + booking.total_cents // 34]))
        payments.append(payment)
        if rng.random() < 0.3:
            stop = rng.choice(world.stops)
            checkin.confirm_stop_visited(session, world.departure, stop, world.guide, world.now)
        if payment.provider == "stripe":
            event = rng.random()
            if event < 0.3:
                left = payment.amount_cents
                for _ in range(rng.randint(1, 3)):
                    amount = rng.randint(1, left) if left else 0
                    if amount:
                        world.refund(payment, amount)
                        left -= amount
                touched[payment.id] = payment.amount_cents - left
            elif event < 0.5:
                outcome = rng.choice(["won", "lost", "under_review"])
                world.dispute(payment, f"dp_{seed}_{n}", "needs_response")
                world.dispute(payment, f"dp_{seed}_{n}", outcome)
                if outcome == "lost":
                    touched[payment.id] = payment.amount_cents
        assert checks.check(session) == [], f"after booking {n}"

    for payment in payments:
        fee = payment.fee_cents or 0
        taken = touched.get(payment.id, 0)
        kept = payment.amount_cents - taken
        # Everything the beneficiaries hold of a payment is what we kept of it, less the fee.
        assert sum(postings._held(session, payment).values()) == kept - fee
        held = {
            (a.kind, a.family_id, a.user_id): cents
            for a, cents in postings._held(session, payment).items()
        }
        shares = world.expected(payment.amount_cents, fee, payment.booking.participants)
        for (party, member), cents in shares.items():
            if party == Party.ASSOCIATION_FUND:
                continue  # it also bears the processor's fee on refunds
            account = world.account(party, member)
            got = held.get((account.kind, account.family_id, account.user_id), 0)
            if not taken:
                assert got == cents
            else:
                assert 0 <= got <= cents
                assert abs(got - cents * kept / payment.amount_cents) <= 1

    # Family, guide and fund balances are the sums of what the rule gave them, less what
    # refunds and lost disputes took back.
    for family in world.families:
        total = world.owed(Party.FAMILIES, family.id) + world.owed(
            Party.FAMILIES, family.id, AVAILABLE
        )
        assert total == sum(
            held_by(session, p, AccountKind.FAMILY, family.id)
            if p.id in touched
            else world.expected(p.amount_cents, p.fee_cents or 0, p.booking.participants)[
                Party.FAMILIES, family.id
            ]
            for p in payments
        )
    visited = {v.stop_id for v in world.departure_visits()}
    for family, stop in zip(world.families, world.stops, strict=True):
        if stop.id not in visited:
            assert world.owed(Party.FAMILIES, family.id, AVAILABLE) == 0
    if not visited:
        assert world.owed(Party.GUIDES, world.guide.id, AVAILABLE) == 0
    assert checks.check(session) == []


def held_by(session, payment, kind, family_id=None) -> int:
    return sum(
        cents
        for account, cents in postings._held(session, payment).items()
        if account.kind == kind and account.family_id == family_id
    )


# End to end, through the Stripe emulator -------------------------------------------------


@pytest.fixture
def stripe_world(make_app, stripe_settings, tmp_path):
    from tests.factories import Factories
    from tourism.extensions import db

    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context():
        yield World(db.session, Factories(db.session))


def test_a_card_payment_and_a_cancellation_through_stripe(stripe_world, gateway):
    from tourism.services.payments import intents
    from tourism.services.payments import online as payments

    world, session = stripe_world, stripe_world.session
    departure = world.make.departure(world.experience, starts_in=timedelta(hours=30))
    world.make.assign(departure, world.guide)
    world.experience.cancellation_policy = [{"hours": 24, "percent": 50}]
    booking = world.make.booking(departure, {"adult": 2}, status=BookingStatus.HELD)
    booking.split_rule, booking.payment_method = world.rule, "card"
    booking.online_due_cents = booking.total_cents
    session.flush()
    start = payments.start_payment(session, booking, gateway, utcnow(), timedelta(minutes=30))
    gateway.confirm_intent(start.payment.provider_ref, "pm_card_visa")
    intent = gateway.retrieve_intent(start.payment.provider_ref)

    assert intents.apply_intent(session, intent, gateway, utcnow()) == "confirmed"
    assert intents.apply_intent(session, intent, gateway, utcnow()) == "unchanged"
    assert transactions(session, TransactionKind.PAYMENT) == 1
    shares = world.expected(9_000, start.payment.fee_cents or 0, 2)
    for (party, member), cents in shares.items():
        assert world.owed(party, member) == cents
    assert world.held(AccountKind.STRIPE_CLEARING) == 9_000
    assert checks.check(session) == []

    assert refunds.cancel_with_refund(session, booking, gateway, utcnow()) == 4_500
    assert transactions(session, TransactionKind.REFUND) == 0  # owed: posted once paid
    assert refunds.finish_refunds(session, gateway)["paid"]  # after the commit, as in a request
    assert transactions(session, TransactionKind.REFUND) == 1
    assert world.held(AccountKind.STRIPE_CLEARING) == 4_500
    for (party, member), cents in shares.items():
        if party != Party.ASSOCIATION_FUND:  # which also bears the fee's part
            assert abs(world.owed(party, member) - cents / 2) <= 1
    assert checks.check(session) == []
