"""The life of bookings and their money, as random sequences of what tourists, Stripe, guides
and treasurers do, driven through the real services (not HTTP) by a Hypothesis state machine.

Each step is one transaction, like a request: it commits, or it is refused with a
``DomainError`` and rolled back. A plain model of the bookings, payments and seats predicts
every outcome (which refusal, which status, how much is refunded), and after every step the
invariants are checked against the database:

- no departure holds (unexpired) plus confirmed more seats than its capacity, and
  ``availability.seats_left`` agrees with a direct count and with the model;
- ``checks.check`` finds nothing wrong (balanced, reversals exact, payments match refunds);
- payouts never pay more than was released, and no available balance is negative (unless
  a refund, or a processor fee learned late, took money back from shares already released:
  the families and guides then owe that part back, by design of ``take_from_share``);
- every booking's status, and every payment's status and refunds, are what the model says,
  every status change was a legal one, and Stripe's refunds are exactly ours.

Stripe is ``Processor`` below: PaymentIntents, charges and refunds kept in memory, with
Stripe's idempotency keys, so card payments take the real ``start_payment`` /
``apply_intent`` path (late payments, refunds of cancelled bookings) and cancellations
refund cards through the real ``refund_payment``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import and_, func, or_, select, text

from tests.conftest import is_postgres
from tests.factories import SPLIT_PARTS, Factories
from tourism import errors
from tourism.database import utcnow, write_transactions
from tourism.errors import DomainError, SoldOut
from tourism.extensions import db
from tourism.models import (
    AccountState,
    Association,
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    Experience,
    Family,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutMethod,
    Refund,
    RefundStatus,
    Role,
    Stop,
    TransactionKind,
    User,
)
from tourism.models.booking import TRANSITIONS
from tourism.models.ledger import append_only_triggers_sql, drop_append_only_triggers_sql
from tourism.services.booking import availability, bookable
from tourism.services.booking import lifecycle as booking_service
from tourism.services.ledger import checks, releases, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.operations import checkin
from tourism.services.operations import schedules as schedules_admin
from tourism.services.payments import intents, refunds, webhooks
from tourism.services.payments import online as payments
from tourism.services.payments.stripe_gateway import (
    ChargeInfo,
    IntentInfo,
    PaymentDeclined,
    RefundInfo,
)
from tourism.services.treasury import payouts
from tourism.unit_of_work import run_effects

pytestmark = pytest.mark.slow

HELD, CONFIRMED = BookingStatus.HELD, BookingStatus.CONFIRMED
CANCELLED, EXPIRED, REFUNDED = (
    BookingStatus.CANCELLED,
    BookingStatus.EXPIRED,
    BookingStatus.REFUNDED,
)
PRICES = {"adult": 4500, "child": 2500}
HOLD_FOR = timedelta(minutes=30)
PAY_WINDOW = timedelta(minutes=45)
#: The experience's policy: everything back 48 hours ahead, half 24 hours ahead.
POLICY = [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}]
CONTACT = booking_service.ContactDetails(
    "Ana Tester", "ana@example.org", "+593 99 123 4567", "EC", "es"
)


# Stripe, in memory ---------------------------------------------------------------------------


class Processor:
    """The part of ``StripeGateway`` these services call, kept in memory: intents, their
    charge once paid, refunds. An idempotency key returns its first answer again, and is
    refused with other parameters; refunds beyond what is left of a charge are refused."""

    def __init__(self) -> None:
        self.intents: dict[str, IntentInfo] = {}
        self.refunds: dict[str, list[RefundInfo]] = {}  # charge id -> refunds
        self._keys: dict[str, tuple] = {}
        self._ids = itertools.count(1)

    def _idempotent(self, key: str, params: tuple, make):
        if key in self._keys:
            seen, answer = self._keys[key]
            if seen != params:
                raise PaymentDeclined("idempotency key reused with other parameters")
            return answer
        answer = make()
        self._keys[key] = (params, answer)
        return answer

    def create_intent(self, amount_cents, currency, metadata, idempotency_key):
        def make():
            intent_id = f"pi_{next(self._ids)}"
            self.intents[intent_id] = IntentInfo(
                id=intent_id,
                status="requires_payment_method",
                amount=amount_cents,
                currency=currency.upper(),
                client_secret=f"{intent_id}_secret",
                charge_id=None,
                fee_cents=None,
                metadata=dict(metadata),
            )
            return intent_id

        params = (amount_cents, currency, tuple(sorted(metadata.items())))
        return self.intents[self._idempotent(idempotency_key, params, make)]

    def create_setup_intent(self, idempotency_key):
        n = next(self._ids)
        return self._idempotent(idempotency_key, (), lambda: (f"seti_{n}", f"seti_{n}_secret"))

    def retrieve_intent(self, intent_id):
        if intent_id not in self.intents:
            raise PaymentDeclined("no such payment_intent")
        return self.intents[intent_id]

    def succeed(self, intent_id, fee):
        charge = f"ch_{next(self._ids)}"
        self.refunds[charge] = []
        self.intents[intent_id] = replace(
            self.intents[intent_id],
            status="succeeded",
            charge_id=charge,
            fee_cents=fee,
            failure_message="",
            amount_received=self.intents[intent_id].amount,
        )
        return self.intents[intent_id]

    def learn_fee(self, intent_id, fee):
        self.intents[intent_id] = replace(self.intents[intent_id], fee_cents=fee)
        return self.intents[intent_id]

    def decline(self, intent_id):
        self.intents[intent_id] = replace(
            self.intents[intent_id], failure_message="Your card was declined."
        )
        return self.intents[intent_id]

    def refunded(self, charge_id) -> int:
        return sum(r.amount for r in self.refunds[charge_id])

    def refund(self, intent_id, amount_cents, idempotency_key, metadata=None):
        def make():
            intent = self.retrieve_intent(intent_id)
            if intent.status != "succeeded":
                raise PaymentDeclined("this payment_intent has no charge to refund")
            charge = intent.charge_id
            if amount_cents <= 0 or self.refunded(charge) + amount_cents > intent.amount:
                raise PaymentDeclined("refund amount is greater than what is left")
            info = RefundInfo(f"re_{next(self._ids)}", amount_cents, "succeeded", charge)
            self.refunds[charge].append(info)
            return info

        return self._idempotent(idempotency_key, (intent_id, amount_cents), make)

    def retrieve_charge(self, charge_id):
        intent = next(i for i in self.intents.values() if i.charge_id == charge_id)
        return ChargeInfo(
            charge_id,
            intent.id,
            intent.amount,
            self.refunded(charge_id),
            tuple(self.refunds[charge_id]),
        )


# The model -----------------------------------------------------------------------------------


@dataclass
class ModelDeparture:
    id: int
    capacity: int
    starts_at: datetime
    cancelled: bool = False
    visited: set[int] = field(default_factory=set)


@dataclass
class ModelPayment:
    id: int
    booking: ModelBooking
    provider: str
    amount: int
    status: PaymentStatus
    refunded: int = 0
    intent_id: str | None = None
    fee: int | None = None
    client_ref: str | None = None

    @property
    def net(self) -> int:
        return self.amount - self.refunded if self.status == PaymentStatus.SUCCEEDED else 0


@dataclass
class ModelBooking:
    id: int
    departure: ModelDeparture
    participants: int
    total: int
    method: str
    status: BookingStatus
    hold_expires_at: datetime | None
    checked_in: bool = False
    payments: list[ModelPayment] = field(default_factory=list)

    def move(self, target: BookingStatus) -> None:
        assert target in TRANSITIONS[self.status], f"{self.status} -> {target} is not legal"
        self.status = target
        if target in (CONFIRMED, CANCELLED):
            self.hold_expires_at = None

    def net(self, provider: str) -> int:
        return sum(p.net for p in self.payments if p.provider == provider)

    @property
    def due_on_arrival(self) -> int:
        if self.status not in (HELD, CONFIRMED):
            return 0
        return max(self.total - self.net("stripe") - self.net("cash"), 0)


def _pick(items, index):
    return items[index % len(items)]


picks = st.integers(min_value=0, max_value=1_000)


#: Tables a sequence leaves as they were: the association, its experience, families, stops,
#: people and split rule (``World``). Every other table is emptied after each sequence.
WORLD_TABLES = frozenset(
    {
        "associations",
        "users",
        "memberships",
        "experiences",
        "experience_texts",
        "experience_themes",
        "price_categories",
        "families",
        "stops",
        "stop_texts",
        "split_rules",
    }
)


def _empty_sequence_tables() -> None:
    """Delete what a sequence wrote, as ``conftest._empty_tables`` does for a whole test
    (switching the ledger's append-only triggers off for that one transaction)."""
    with db.engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for statement in drop_append_only_triggers_sql(dialect):
                conn.exec_driver_sql(statement)
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in WORLD_TABLES:
                conn.execute(table.delete())
        if dialect != "postgresql":
            for statement in append_only_triggers_sql(dialect):
                conn.exec_driver_sql(statement)


@dataclass
class World:
    """The ids of what every sequence shares (made once per test run)."""

    association: int
    experience: int
    families: list[int]
    stops: list[int]
    admin: int
    guide: int


def make_world(session) -> World:
    """An association with an experience of three stops (two hosted by families, weights
    3:1), its admin, a guide, and the split rule in force."""
    make = Factories(session)
    a = make.association()
    experience = make.experience(
        a, prices=PRICES, payment_options="card,on_arrival", cancellation_policy=POLICY
    )
    families = [make.family(a), make.family(a)]
    stops = [make.stop(experience, family=f) for f in families]
    stops.append(make.stop(experience))  # a stop no family hosts
    admin = make.user(password="", memberships=[(a, Role.ADMIN)])
    earlier = utcnow().replace(microsecond=0) - timedelta(days=30)
    split_rules.approve_rule(
        session,
        experience,
        SPLIT_PARTS,
        admin,
        earlier,
        earlier,
        stop_weights={stops[0].id: 3, stops[1].id: 1},
    )
    guide = make.guide(a)
    return World(
        a.id,
        experience.id,
        [f.id for f in families],
        [s.id for s in stops],
        admin.id,
        guide.id,
    )


#: Examples per run. The sequences explore the rules, which do not depend on the database, so
#: the PostgreSQL pass (which runs after the SQLite one in CI) runs fewer: enough to meet its
#: locking and types on every kind of step, at a third of the time (docs/decisions.md).
EXAMPLES = 150 if is_postgres() else 500


@settings(
    max_examples=EXAMPLES,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
class BookingLife(RuleBasedStateMachine):
    #: Set by the test before running: the shared association, experience and people.
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.processor = Processor()
        self.departures: list[ModelDeparture] = []
        self.bookings: list[ModelBooking] = []
        self.payments: list[ModelPayment] = []
        self.paid_out: dict[str, int] = {}
        self.taken_back_after_release = False
        self._refs = itertools.count(1)

    def teardown(self) -> None:
        db.session.rollback()
        db.session.remove()
        _empty_sequence_tables()

    # Running steps like requests ---------------------------------------------------------

    def attempt(self, action):
        """Run ``action(session)`` in one write transaction: commit what it did, run its
        after-commit effects, and return
        ``(result, None)``, or roll back a refusal and return ``(None, refusal)``."""
        session = db.session
        session.rollback()
        with write_transactions():
            try:
                result = action(session)
            except DomainError as refusal:
                session.rollback()
                return None, refusal
            except BaseException:
                session.rollback()
                raise
            session.commit()
        run_effects(session)  # as unit_of_work does: e.g. pay the refunds it owes
        return result, None

    def refused(self, refusal, expected) -> None:
        if expected is None:
            assert refusal is None, f"refused with {refusal!r}"
        else:
            assert isinstance(refusal, expected), f"expected {expected.__name__}, got {refusal!r}"

    def booking(self, model: ModelBooking) -> Booking:
        return db.session.get(Booking, model.id)

    def departure(self, model: ModelDeparture) -> Departure:
        return db.session.get(Departure, model.id)

    def seats_taken(self, departure: ModelDeparture) -> int:
        return sum(
            b.participants
            for b in self.bookings
            if b.departure is departure
            and (b.status == CONFIRMED or (b.status == HELD and b.hold_expires_at > self.now))
        )

    # The world -----------------------------------------------------------------------------

    @initialize(
        capacities=st.lists(st.integers(2, 4), min_size=2, max_size=3),
        hours_ahead=st.lists(st.integers(2, 60), min_size=3, max_size=3, unique=True),
    )
    def departures_scheduled(self, capacities, hours_ahead):
        """Two or three departures of the experience, a few hours to days ahead, small
        enough to sell out, each with the guide."""
        self.now = utcnow().replace(microsecond=0)
        session, world = db.session, self.world
        self.association = session.get(Association, world.association)
        self.experience = session.get(Experience, world.experience)
        self.families = [session.get(Family, i) for i in world.families]
        self.stops = [session.get(Stop, i) for i in world.stops]
        self.admin = session.get(User, world.admin)
        self.guide = session.get(User, world.guide)
        self.categories = {pc.code: pc.id for pc in self.experience.price_categories}
        with write_transactions():
            make = Factories(session)
            for capacity, hours in zip(capacities, hours_ahead, strict=False):
                departure = make.departure(
                    self.experience, capacity=capacity, starts_at=self.now + timedelta(hours=hours)
                )
                make.assign(departure, self.guide)
                self.departures.append(ModelDeparture(departure.id, capacity, departure.starts_at))
            session.commit()

    # Time ----------------------------------------------------------------------------------

    @rule(minutes=st.sampled_from([10, 35, 100, 6 * 60]))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule(which=picks, minutes=st.sampled_from([-150, -100, -30, 5, 45]))
    def time_passes_until_departure(self, which, minutes):
        """To some minutes before (or after) a departure: the day of the visit."""
        departure = _pick(self.departures, which)
        self.now = max(self.now, departure.starts_at + timedelta(minutes=minutes))

    # Tourists ------------------------------------------------------------------------------

    @rule(
        which=picks,
        adults=st.integers(0, 3),
        children=st.integers(0, 2),
        method=st.sampled_from(["on_arrival", "card"]),
        pay=st.sampled_from(["later", "at once", "after the hold", "after a resale"]),
    )
    def book(self, which, adults, children, method, pay):
        """A tourist holds seats. Paying by card, they pay straight away, or later (another
        rule), or so slowly that the money arrives after the hold lapsed, perhaps after
        someone else took the seats."""
        departure = _pick(self.departures, which)
        model = self._book(departure, adults, children, method)
        if model is None or method != "card" or pay == "later":
            return
        self._start_payment(model)
        if pay != "at once":
            self.now += PAY_WINDOW + timedelta(minutes=5)
        if pay == "after a resale":
            free = departure.capacity - self.seats_taken(departure)
            if free > 0:
                self._book(departure, free, 0, "on_arrival")
        self._payment_succeeds(model.payments[-1], fee=187)

    def _book(self, departure, adults, children, method) -> ModelBooking | None:
        tickets = adults + children
        expected = None
        if tickets == 0:
            expected = booking_service.NoTickets
        elif adults == 0:  # children come with an adult
            expected = booking_service.ChildAlone
        elif departure.cancelled:
            expected = errors.DepartureCancelled
        elif departure.starts_at - booking_service.DEFAULT_CUTOFF <= self.now:
            expected = bookable.BookingClosed
        elif tickets > departure.capacity - self.seats_taken(departure):
            expected = SoldOut
        request = booking_service.HoldRequest(
            departure_id=departure.id,
            quantities={self.categories["adult"]: adults, self.categories["child"]: children},
            contact=CONTACT,
            payment_method=method,
        )

        def hold(session):
            offered = payments.offered_methods(self.experience, self.processor)
            return booking_service.hold_seats(
                session, request, self.now, HOLD_FOR, ["es", "en"], offered_methods=offered
            ).id

        booking_id, refusal = self.attempt(hold)
        self.refused(refusal, expected)
        if refusal is not None:
            return None
        total = adults * PRICES["adult"] + children * PRICES["child"]
        model = ModelBooking(
            booking_id, departure, tickets, total, method, HELD, self.now + HOLD_FOR
        )
        self.bookings.append(model)
        stored = self.booking(model)
        assert stored.total_cents == total
        assert stored.online_due_cents == (total if method == "card" else 0)
        assert stored.split_rule_id is not None
        return model

    @precondition(lambda self: any(b.method == "card" for b in self.bookings))
    @rule(which=picks)
    def start_card_payment(self, which):
        self._start_payment(_pick([b for b in self.bookings if b.method == "card"], which))

    def _start_payment(self, model: ModelBooking) -> None:
        pending = [p for p in model.payments if p.status == PaymentStatus.PENDING]
        expected = None
        if model.status == EXPIRED:  # the hold ended (swept): said as such, not "nothing to pay"
            expected = booking_service.HoldExpired
        elif model.status != HELD:
            expected = payments.NothingToPay
        elif model.hold_expires_at <= self.now:
            expected = booking_service.HoldExpired
        started, refusal = self.attempt(
            lambda s: (
                payments.start_payment(
                    s, self.booking(model), self.processor, self.now, PAY_WINDOW
                ).payment.id
            )
        )
        self.refused(refusal, expected)
        if refusal is not None:
            return
        model.hold_expires_at = max(model.hold_expires_at, self.now + PAY_WINDOW)
        if pending:
            assert started == pending[-1].id  # the same intent, paid again
            return
        intent_id = db.session.get(Payment, started).provider_ref
        payment = ModelPayment(
            started, model, "stripe", model.total, PaymentStatus.PENDING, intent_id=intent_id
        )
        model.payments.append(payment)
        self.payments.append(payment)

    def _pending_card_payments(self):
        return [p for p in self.payments if p.status == PaymentStatus.PENDING]

    @precondition(lambda self: self._pending_card_payments())
    @rule(which=picks, fee=st.sampled_from([None, 0, 187, 365]))
    def card_payment_succeeds(self, which, fee):
        self._payment_succeeds(_pick(self._pending_card_payments(), which), fee)

    def _payment_succeeds(self, payment: ModelPayment, fee: int | None) -> None:
        model, departure = payment.booking, payment.booking.departure
        intent = self.processor.succeed(payment.intent_id, fee)
        outcome, refusal = self.attempt(
            lambda s: intents.apply_intent(s, intent, self.processor, self.now)
        )
        self.refused(refusal, None)
        payment.status, payment.fee = PaymentStatus.SUCCEEDED, fee
        if model.status == HELD and model.hold_expires_at > self.now:
            expected = "confirmed"
            model.move(CONFIRMED)
        elif model.status in (HELD, EXPIRED):
            free = departure.capacity - self.seats_taken(departure)
            if (
                not departure.cancelled
                and departure.starts_at > self.now
                and (free >= model.participants)
            ):
                expected = "confirmed late"
                model.move(CONFIRMED)
            else:
                expected = "refunded: seats sold meanwhile"
                if model.status == HELD:
                    model.move(EXPIRED)
                payment.refunded = payment.amount
        else:
            expected = f"refunded {payment.amount}: booking no longer active"
            payment.refunded = payment.amount
        assert outcome == expected
        if payment.refunded:
            self._note_taken_back(payment)

    @precondition(lambda self: self._pending_card_payments())
    @rule(which=picks)
    def card_declined(self, which):
        payment = _pick(self._pending_card_payments(), which)
        intent = self.processor.decline(payment.intent_id)
        outcome, refusal = self.attempt(
            lambda s: intents.apply_intent(s, intent, self.processor, self.now)
        )
        self.refused(refusal, None)
        assert outcome == "failed"
        payment.status = PaymentStatus.FAILED

    def _card_payments_paid(self):
        return [
            p
            for p in self.payments
            if p.provider == "stripe" and p.status == PaymentStatus.SUCCEEDED
        ]

    @precondition(lambda self: self._card_payments_paid())
    @rule(which=picks)
    def stripe_event_replayed(self, which):
        payment = _pick(self._card_payments_paid(), which)
        intent = self.processor.retrieve_intent(payment.intent_id)
        outcome, refusal = self.attempt(
            lambda s: intents.apply_intent(s, intent, self.processor, self.now)
        )
        self.refused(refusal, None)
        assert outcome == "unchanged"

    @precondition(lambda self: any(p.fee is None for p in self._card_payments_paid()))
    @rule(which=picks, fee=st.sampled_from([0, 161, 299]))
    def processor_fee_learned(self, which, fee):
        payment = _pick([p for p in self._card_payments_paid() if p.fee is None], which)
        intent = self.processor.learn_fee(payment.intent_id, fee)
        outcome, refusal = self.attempt(
            lambda s: intents.apply_intent(s, intent, self.processor, self.now)
        )
        self.refused(refusal, None)
        assert outcome == "fee recorded"
        payment.fee = fee
        if fee:
            self._note_taken_back(payment)

    @precondition(lambda self: self.bookings)
    @rule(which=picks)
    def tourist_cancels(self, which):
        active = [b for b in self.bookings if b.status in (HELD, CONFIRMED)]
        model = _pick(active if active and which % 4 else self.bookings, which)
        expected = None
        if model.status not in (HELD, CONFIRMED) or model.departure.starts_at <= self.now:
            expected = booking_service.CannotCancel
        refunded, refusal = self.attempt(
            lambda s: refunds.cancel_with_refund(s, self.booking(model), self.processor, self.now)
        )
        self.refused(refusal, expected)
        if refusal is not None:
            return
        model.move(CANCELLED)
        hours = (model.departure.starts_at - self.now) / timedelta(hours=1)
        percent = 100 if hours >= 48 else 50 if hours >= 24 else 0
        total = 0
        for payment in model.payments:
            if payment.provider == "stripe" and payment.net > 0:
                amount = (payment.net * percent + 50) // 100
                payment.refunded += amount
                total += amount
                self._note_taken_back(payment)
        assert refunded == total

    # The association -----------------------------------------------------------------------

    @precondition(lambda self: self.bookings)
    @rule(which=picks)
    def departure_cancelled(self, which):
        departure = _pick(self.departures, which)
        expected = None
        if departure.cancelled or departure.starts_at <= self.now:
            expected = schedules_admin.DepartureLocked
        affected, refusal = self.attempt(
            lambda s: [
                b.id
                for b in schedules_admin.cancel_departure(
                    s, self.departure(departure), "Crecida del río", self.processor, self.now
                )
            ]
        )
        self.refused(refusal, expected)
        if refusal is not None:
            return
        departure.cancelled = True
        hit = [
            b for b in self.bookings if b.departure is departure and b.status in (HELD, CONFIRMED)
        ]
        assert sorted(affected) == sorted(b.id for b in hit)
        for model in hit:
            model.move(CANCELLED)
            for payment in model.payments:
                if payment.provider == "stripe" and payment.net > 0:
                    payment.refunded = payment.amount
                    self._note_taken_back(payment)

    @precondition(lambda self: any(p.net > 0 for p in self._card_payments_paid()))
    @rule(which=picks, percent=st.sampled_from([100, 50, 33, 1]))
    def refunded_in_stripe_dashboard(self, which, percent):
        payment = _pick([p for p in self._card_payments_paid() if p.net > 0], which)
        amount = max(1, payment.net * percent // 100)
        self.processor.refund(payment.intent_id, amount, f"dashboard-{next(self._refs)}")
        charge_id = self.processor.intents[payment.intent_id].charge_id
        for expected in ("recorded 1 refund(s)", "recorded 0 refund(s)"):  # then redelivered
            charge = self.processor.retrieve_charge(charge_id)
            outcome, refusal = self.attempt(lambda s, c=charge: webhooks.record_refunds(s, c))
            self.refused(refusal, None)
            assert outcome == expected
        payment.refunded += amount
        model = payment.booking
        if model.status == CONFIRMED and sum(p.net for p in model.payments) == 0:
            model.move(REFUNDED)  # nothing kept: not even cash
        self._note_taken_back(payment)

    def _note_taken_back(self, payment: ModelPayment) -> None:
        """Money taken back from a payment's shares after they were released (a refund, a
        fee learned late) comes from the available balances first, which may have been paid
        out already: the families and guides then owe it back (``take_from_share``)."""
        if not self.taken_back_after_release:
            released = db.session.scalar(
                select(func.count(LedgerTransaction.id)).where(
                    LedgerTransaction.payment_id == payment.id,
                    LedgerTransaction.kind == TransactionKind.RELEASE,
                )
            )
            self.taken_back_after_release = bool(released)

    # Guides on the day ---------------------------------------------------------------------

    def _mostly_confirmed(self, which) -> ModelBooking:
        """A confirmed booking three times in four, else any (to be refused)."""
        confirmed = [b for b in self.bookings if b.status == CONFIRMED]
        return _pick(confirmed if confirmed and which % 4 else self.bookings, which)

    @precondition(lambda self: self.bookings)
    @rule(which=picks)
    def party_checked_in(self, which):
        self._check_in(self._mostly_confirmed(which))

    def _check_in(self, model: ModelBooking) -> None:
        expected = None
        if model.departure.cancelled:
            expected = errors.DepartureCancelled
        elif model.status != CONFIRMED:
            expected = checkin.NotConfirmed
        elif self.now < model.departure.starts_at - checkin.CHECK_IN_OPENS:
            expected = checkin.TooEarly
        changed, refusal = self.attempt(
            lambda s: checkin.check_in(s, self.booking(model), self.guide, self.now)
        )
        self.refused(refusal, expected)
        if refusal is None:
            assert changed == (not model.checked_in)
            model.checked_in = True

    @precondition(lambda self: self.bookings)
    @rule(which=picks, how=st.sampled_from(["due", "part", "above"]))
    def cash_collected(self, which, how):
        self._collect_cash(self._mostly_confirmed(which), how)

    def _collect_cash(self, model: ModelBooking, how: str) -> None:
        due = model.due_on_arrival
        amount = {"due": due, "part": due // 2, "above": due + 1}[how]
        expected = None
        if amount <= 0:
            expected = checkin.InvalidCash
        elif model.departure.cancelled:
            expected = errors.DepartureCancelled
        elif model.status != CONFIRMED:
            expected = checkin.NotConfirmed
        elif amount > due:
            expected = checkin.CashAboveDue
        client_ref = f"cash-{next(self._refs)}"
        result, refusal = self.attempt(
            lambda s: (
                checkin.record_cash(
                    s, self.booking(model), amount, self.guide, self.now, client_ref
                )[0].id
            )
        )
        self.refused(refusal, expected)
        if refusal is None:
            payment = ModelPayment(
                result, model, "cash", amount, PaymentStatus.SUCCEEDED, client_ref=client_ref
            )
            model.payments.append(payment)
            self.payments.append(payment)

    @precondition(lambda self: any(p.provider == "cash" for p in self.payments))
    @rule(which=picks)
    def cash_sync_replayed(self, which):
        payment = _pick([p for p in self.payments if p.provider == "cash"], which)
        model = payment.booking
        expected = None
        if model.departure.cancelled:
            expected = errors.DepartureCancelled
        elif model.status != CONFIRMED:
            expected = checkin.NotConfirmed
        result, refusal = self.attempt(
            lambda s: checkin.record_cash(
                s, self.booking(model), payment.amount, self.guide, self.now, payment.client_ref
            )
        )
        self.refused(refusal, expected)
        if refusal is None:
            assert (result[0].id, result[1]) == (payment.id, False)

    @precondition(lambda self: any(b.status == CONFIRMED for b in self.bookings))
    @rule(which=picks, stop=picks)
    def stop_visited(self, which, stop):
        self._visit(_pick(self.departures, which), _pick(self.stops, stop))

    def _visit(self, departure: ModelDeparture, stop) -> None:
        expected = None
        if departure.cancelled:
            expected = errors.DepartureCancelled
        elif self.now < departure.starts_at - checkin.CHECK_IN_OPENS:
            expected = checkin.TooEarly
        new, refusal = self.attempt(
            lambda s: checkin.confirm_stop_visited(
                s, self.departure(departure), stop, self.guide, self.now
            )[1]
        )
        self.refused(refusal, expected)
        if refusal is None:
            assert new == (stop.id not in departure.visited)
            departure.visited.add(stop.id)

    @precondition(lambda self: any(b.status == CONFIRMED for b in self.bookings))
    @rule(
        which=picks,
        cash=st.sampled_from(["due", "part"]),
        settle=st.sampled_from(["nothing", "all", "part"]),
    )
    def departure_runs(self, which, cash, settle):
        """The day of a departure with confirmed parties: the guide checks them in,
        collects what is due in cash, and confirms the stops one by one; then the
        treasurer may pay the families and the guide what is available."""
        departure = _pick([b for b in self.bookings if b.status == CONFIRMED], which).departure
        self.now = max(self.now, departure.starts_at + timedelta(minutes=5))
        for model in self.bookings:
            if model.departure is departure and model.status == CONFIRMED:
                self._check_in(model)
                if model.due_on_arrival:
                    self._collect_cash(model, cash)
        for stop in self.stops:
            self._visit(departure, stop)
        if settle != "nothing":
            for who in range(len(self.beneficiaries())):
                self.payout(who, settle, cash=False)

    @precondition(lambda self: any(d.visited for d in self.departures))
    @rule()
    def shares_released(self):
        count, refusal = self.attempt(lambda s: releases.release_started_departures(s, self.now))
        self.refused(refusal, None)
        assert count == sum(
            1
            for d in self.departures
            if not d.cancelled
            and d.visited
            and self.now - timedelta(days=30) <= d.starts_at <= self.now
        )

    # The treasurer -------------------------------------------------------------------------

    def beneficiaries(self) -> list[payouts.Beneficiary]:
        return [payouts.Beneficiary(self.association, family=f) for f in self.families] + [
            payouts.Beneficiary(self.association, user=self.guide)
        ]

    @precondition(lambda self: any(d.visited for d in self.departures))
    @rule(who=picks, how=st.sampled_from(["all", "part", "above"]), cash=st.booleans())
    def payout(self, who, how, cash):
        session = db.session
        beneficiary = _pick(self.beneficiaries(), who)
        key = beneficiary.key
        available = -ledger.balance(session, beneficiary.account(session, AccountState.AVAILABLE))
        amount = {"all": available, "part": available // 2, "above": available + 1}[how]
        expected = None
        if amount <= 0:
            expected = payouts.AmountNotPositive
        elif amount > available:
            expected = payouts.AmountAboveAvailable
        method = PayoutMethod.CASH if cash else PayoutMethod.BANK_TRANSFER
        _, refusal = self.attempt(
            lambda s: payouts.record_payout(
                s, self.association, beneficiary, amount, method, "", self.admin, self.now
            )
        )
        self.refused(refusal, expected)
        if refusal is None:
            self.paid_out[key] = self.paid_out.get(key, 0) + amount

    @precondition(lambda self: any(b.status == HELD for b in self.bookings))
    @rule()
    def holds_swept(self):
        stale = [b for b in self.bookings if b.status == HELD and b.hold_expires_at <= self.now]
        count, refusal = self.attempt(lambda s: booking_service.expire_holds(s, self.now))
        self.refused(refusal, None)
        assert count == len(stale)
        for model in stale:
            model.move(EXPIRED)

    # Invariants ----------------------------------------------------------------------------

    @invariant()
    def no_departure_oversold(self):
        session = db.session
        if not self.departures:
            return
        counted = dict(
            session.execute(
                select(Booking.departure_id, func.sum(BookingLine.quantity))
                .join(BookingLine, BookingLine.booking_id == Booking.id)
                .where(
                    or_(
                        Booking.status == CONFIRMED,
                        and_(Booking.status == HELD, Booking.hold_expires_at > self.now),
                    )
                )
                .group_by(Booking.departure_id)
            ).all()
        )
        stored = {d.id: d for d in session.scalars(select(Departure))}
        for model in self.departures:
            taken = int(counted.get(model.id) or 0)
            assert taken <= model.capacity, f"departure {model.id}: {taken} seats sold"
            assert taken == self.seats_taken(model)
            left = availability.seats_left(session, stored[model.id], self.now)
            assert left == (0 if model.cancelled else model.capacity - taken)

    @invariant()
    def bookings_and_payments_as_modelled(self):
        session = db.session
        stored = {b.id: b for b in session.scalars(select(Booking))}
        assert set(stored) == {m.id for m in self.bookings}
        for model in self.bookings:
            booking = stored[model.id]
            assert booking.status in TRANSITIONS
            assert booking.status == model.status, f"booking {model.id}"
            assert booking.hold_expires_at == model.hold_expires_at
            if model.status in (CONFIRMED, REFUNDED):
                assert booking.confirmed_at is not None
            if model.status == CANCELLED:
                assert booking.cancelled_at is not None
            assert (booking.checked_in_at is not None) == model.checked_in
            if booking.status == REFUNDED:  # everything it was paid went back
                assert booking.paid_online_cents + booking.paid_cash_cents == 0, booking.reference
        paid = {p.id: p for p in session.scalars(select(Payment))}
        assert set(paid) == {p.id for p in self.payments}
        refunded: dict[int, list[Refund]] = {}
        for refund in session.scalars(select(Refund)):
            refunded.setdefault(refund.payment_id, []).append(refund)
        for model in self.payments:
            payment = paid[model.id]
            assert (payment.provider, payment.status) == (model.provider, model.status)
            assert payment.amount_cents == model.amount
            assert payment.fee_cents == model.fee
            own = refunded.get(model.id, [])
            assert all(r.status == RefundStatus.SUCCEEDED for r in own)
            assert payment.amount_cents - sum(r.amount_cents for r in own) == model.amount - (
                model.refunded
            ), f"payment {model.id}"
            if model.provider == "stripe" and payment.charge_ref:
                at_stripe = self.processor.refunds[payment.charge_ref]
                assert sorted((r.provider_ref, r.amount_cents) for r in own) == sorted(
                    (r.id, r.amount) for r in at_stripe
                )
            else:
                assert own == []

    def _money_moved(self) -> bool:
        """Whether anything ``checks.check`` and the payout checks read has changed since
        they last ran (they are pure functions of these rows, and the slowest checks)."""
        seen = db.session.execute(
            select(
                select(func.max(LedgerTransaction.id)).scalar_subquery(),
                select(func.count(Payment.id))
                .where(Payment.status == PaymentStatus.SUCCEEDED)
                .scalar_subquery(),
                select(func.count(Refund.id)).scalar_subquery(),
                select(func.count(Payout.id)).scalar_subquery(),
            )
        ).one()
        moved = tuple(seen) != getattr(self, "_money_seen", None)
        self._money_seen = tuple(seen)
        return moved

    @invariant()
    def ledger_sound_and_payouts_covered(self):
        if not self._money_moved():
            return
        session = db.session
        assert checks.check(session) == []

        # Per family and guide: what was released to their available account, paid out.
        released: dict[str, int] = {}
        for account, kind, cents in session.execute(
            select(LedgerAccount, LedgerTransaction.kind, func.sum(LedgerEntry.amount_cents))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerAccount.state == AccountState.AVAILABLE)
            .group_by(LedgerAccount.id, LedgerTransaction.kind)
        ):
            if kind == TransactionKind.RELEASE:
                key = f"f{account.family_id}" if account.family_id else f"u{account.user_id}"
                released[key] = released.get(key, 0) - int(cents)
        paid: dict[str, int] = {}
        for family_id, user_id, cents in session.execute(
            select(Payout.family_id, Payout.user_id, func.sum(Payout.amount_cents)).group_by(
                Payout.family_id, Payout.user_id
            )
        ):
            paid[f"f{family_id}" if family_id else f"u{user_id}"] = int(cents)
        assert paid == {k: v for k, v in self.paid_out.items() if v}
        for key, cents in paid.items():
            assert cents <= released.get(key, 0), f"{key}: paid {cents} of {released} released"
        if not self.taken_back_after_release:
            # Credit-normal: an available balance above zero is money owed back.
            overdrawn = {
                account.key: cents
                for account, cents in ledger.balances(session).items()
                if account.state == AccountState.AVAILABLE and cents > 0
            }
            assert overdrawn == {}


def test_bookings_and_money_stay_sound_whatever_happens(app):
    with write_transactions():
        BookingLife.world = make_world(db.session)
        db.session.commit()
    db.session.remove()
    run_state_machine_as_test(BookingLife)
