"""Group quotes: a private departure made for the group, the requester emailed; accepting
holds the group's seats in an ordinary booking (card, deposit or bank transfer), a bank
transfer marked received once confirms it and posts its split to the cent; an expired
quote cannot be accepted; declining closes the request. Bad input writes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.errors import DomainError, InvalidRequest
from tourism.extensions import db
from tourism.models import (
    AccountKind,
    BookingStatus,
    Departure,
    DepartureStatus,
    GroupQuote,
    GroupRequestStatus,
    LedgerEntry,
    LedgerTransaction,
    Notification,
    Payment,
    PaymentStatus,
    QuoteStatus,
    Role,
)
from tourism.services.groups import quote_answers, quotes, transfers
from tourism.services.groups import requests as group_requests
from tourism.services.ledger import checks, split_rules
from tourism.services.messages import outbox

ZONE = ZoneInfo("America/Guayaquil")
HOLD = timedelta(minutes=30)
ONLINE = ["card", "deposit"]


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


class World:
    """An experience with a hosted stop and a split rule in force, a group request of 7."""

    def __init__(self, make) -> None:
        self.make = make
        self.now = utcnow().replace(microsecond=0)
        self.association = make.association()
        self.experience = make.experience(
            self.association, payment_options="card,deposit,on_arrival", deposit_percent=30
        )
        stop = make.stop(self.experience, family=make.family(self.association))
        self.admin = make.user(password="", memberships=[(self.association, Role.ADMIN)])
        earlier = self.now - timedelta(days=30)
        split_rules.approve_rule(
            db.session,
            self.experience,
            SPLIT_PARTS,
            self.admin,
            earlier,
            earlier,
            stop_weights={stop.id: 1},
        )
        self.today = self.now.astimezone(ZONE).date()
        self.request = group_requests.submit_request(
            db.session,
            self.experience,
            group_requests.GroupRequestInput(
                requester_kind="school",
                name="Unidad Educativa Tena",
                email="profe@example.org",
                phone="",
                language="en",
                group_size=7,
                date_from=self.today + timedelta(days=20),
                date_to=None,
            ),
            self.today,
            ["es", "en"],
            self.now,
        )

    def data(self, **changes) -> quotes.QuoteInput:
        base = dict(
            pricing="total",
            amount_cents=100_000,
            day=self.today + timedelta(days=20),
            start=time(9, 0),
            valid_until=self.today + timedelta(days=10),
        )
        return quotes.QuoteInput(**(base | changes))

    def quote(self, **changes) -> GroupQuote:
        return quotes.make_quote(
            db.session,
            self.request,
            self.data(**changes),
            self.admin,
            self.now,
            ZONE,
            "https://example.org/group-requests/x",
        )


@pytest.fixture
def world(make):
    return World(make)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_quote_makes_a_private_departure_and_emails_the_requester(world):
    quote = world.quote(pricing="per_person", amount_cents=4_250)
    departure = quote.departure
    assert departure.is_private and departure.group_request_id == world.request.id
    assert departure.capacity == 7
    assert departure.starts_at.astimezone(ZONE).time() == time(9, 0)
    assert quote.total_cents == 7 * 4_250 and quote.status == QuoteStatus.OFFERED
    assert quote.expires_at.astimezone(ZONE).date() == world.today + timedelta(days=11)
    email = db.session.scalars(select(Notification).where(Notification.kind == "group_quote")).one()
    assert (email.recipient, email.language) == ("profe@example.org", "en")
    assert json.loads(email.context)["total_cents"] == 29_750
    message = outbox.build_message(email)  # what the send-email job mails, in English
    assert message["Subject"].startswith("Your group quote for ")
    text = message.get_body(("plain",)).get_content()
    assert "$297.50" in text and "https://example.org/group-requests/x" in text


@pytest.mark.parametrize(
    "changes",
    [
        {"pricing": "per_day"},
        {"amount_cents": 0},
        {"amount_cents": -5},
        {"amount_cents": True},
        {"amount_cents": "100"},
        {"amount_cents": quotes.MAX_CENTS + 1},
        {"day": date(2020, 1, 1)},
        {"valid_until": date(2020, 1, 1)},
        {"valid_until": date(2099, 1, 1)},
        {"day": None},
    ],
)
def test_bad_quotes_are_refused_and_write_nothing(world, changes):
    with pytest.raises(InvalidRequest):
        world.quote(**changes)
    assert count(GroupQuote) == 0
    assert count(Departure) == 0
    assert count(Notification) == 0


def test_a_second_quote_waits_for_the_first_and_a_closed_request_takes_none(world):
    world.quote()
    with pytest.raises(quotes.QuoteOpen) as raised:
        world.quote(start=time(14, 0))
    assert raised.value.status_code == 409
    group_requests.close_request(db.session, world.request)
    with pytest.raises(group_requests.RequestClosed):
        world.quote(start=time(14, 0))
    assert count(GroupQuote) == 1


def test_a_departure_at_the_same_time_is_a_conflict(world):
    day = world.today + timedelta(days=20)
    starts_at = datetime.combine(day, time(9, 0), tzinfo=ZONE).astimezone(ZoneInfo("UTC"))
    world.make.departure(world.experience, starts_at=starts_at)
    with pytest.raises(quotes.DepartureTaken) as raised:
        world.quote()
    assert raised.value.status_code == 409
    assert count(GroupQuote) == 0


def ledger_shares(booking) -> int:
    """What the split credited for the booking's payments (all accounts but the bank)."""
    return -int(
        db.session.scalar(
            select(func.sum(LedgerEntry.amount_cents))
            .join(LedgerTransaction)
            .join(Payment, LedgerTransaction.payment_id == Payment.id)
            .where(Payment.booking_id == booking.id, LedgerEntry.amount_cents < 0)
        )
    )


def test_accepting_by_transfer_then_marking_it_received_confirms_and_posts_to_the_cent(world):
    quote = world.quote()  # $1,000.00 for 7: does not divide
    booking = quote_answers.accept_quote(
        db.session, quote, "bank_transfer", ONLINE, world.now, HOLD
    )
    assert booking.departure_id == quote.departure_id
    assert booking.status == BookingStatus.HELD and booking.online_due_cents == 0
    assert booking.total_cents == 100_000 and booking.participants == 7
    assert sorted((line.quantity, line.unit_price_cents) for line in booking.lines) == [
        (2, 14_285),
        (5, 14_286),
    ]
    assert quote.status == QuoteStatus.ACCEPTED and quote.booking_id == booking.id
    assert booking.split_rule_id is not None

    payment = transfers.mark_transfer_paid(db.session, quote, world.admin, world.now)
    assert payment.provider == "bank_transfer" and payment.status == PaymentStatus.SUCCEEDED
    assert payment.amount_cents == 100_000
    assert booking.status == BookingStatus.CONFIRMED and booking.due_on_arrival_cents == 0
    again = transfers.mark_transfer_paid(db.session, quote, world.admin, world.now)
    assert again.id == payment.id and count(Payment) == 1
    assert checks.check(db.session) == []
    assert ledger_shares(booking) == 100_000
    bank = db.session.scalar(
        select(func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction)
        .where(LedgerTransaction.payment_id == payment.id)
        .where(LedgerEntry.account.has(kind=AccountKind.BANK))
    )
    assert bank == 100_000


def test_accepting_by_card_or_deposit_asks_the_right_amount_online(world, make):
    quote = world.quote(pricing="per_person", amount_cents=4_250)
    booking = quote_answers.accept_quote(db.session, quote, "deposit", ONLINE, world.now, HOLD)
    assert booking.online_due_cents == 8_925  # 30 % of $297.50
    assert booking.hold_expires_at == world.now + HOLD
    with pytest.raises(quotes.QuoteAnswered):
        quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD)
    with pytest.raises(quotes.NotTransfer):
        transfers.mark_transfer_paid(db.session, quote, world.admin, world.now)
    # The unpaid hold lapses: the quote still stands, so it may be accepted again.
    later = world.now + HOLD + timedelta(minutes=1)
    again = quote_answers.accept_quote(db.session, quote, "card", ONLINE, later, HOLD)
    assert again.id != booking.id and again.online_due_cents == 29_750


def test_a_method_the_experience_does_not_offer_is_refused(world):
    quote = world.quote()
    with pytest.raises(InvalidRequest):
        quote_answers.accept_quote(db.session, quote, "deposit", ["card"], world.now, HOLD)
    with pytest.raises(InvalidRequest):
        quote_answers.accept_quote(db.session, quote, "on_arrival", ONLINE, world.now, HOLD)
    assert quote.status == QuoteStatus.OFFERED and quote.booking_id is None


def test_an_expired_quote_cannot_be_accepted(world):
    quote = world.quote()
    after = quote.expires_at + timedelta(seconds=1)
    with pytest.raises(quotes.QuoteExpired) as raised:
        quote_answers.accept_quote(db.session, quote, "bank_transfer", ONLINE, after, HOLD)
    assert raised.value.status_code == 409
    assert quote.status == QuoteStatus.OFFERED and quote.booking_id is None
    # Once expired, the association may quote again.
    quotes.make_quote(
        db.session,
        world.request,
        world.data(valid_until=world.today + timedelta(days=15)),
        world.admin,
        after,
        ZONE,
        "x",
    )


def test_declining_closes_the_request_and_cancels_the_private_departure(world):
    quote = world.quote()
    quote_answers.decline_quote(db.session, quote, world.now)
    assert quote.status == QuoteStatus.DECLINED
    assert world.request.status == GroupRequestStatus.CLOSED
    assert quote.departure.status == DepartureStatus.CANCELLED
    for answer in (
        lambda: quote_answers.decline_quote(db.session, quote, world.now),
        lambda: quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD),
    ):
        with pytest.raises(DomainError) as raised:
            answer()
        assert raised.value.status_code == 409
    assert quote.booking_id is None
