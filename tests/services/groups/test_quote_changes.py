"""Withdrawing and changing a quote, and a quote offering pay on arrival.

Withdrawing cancels the private departure, tells the group (email and a message on the thread,
in the request's language) and a withdrawn quote cannot be accepted. A change is a new quote
superseding the old one, which cannot be accepted any more; after acceptance neither is
allowed. A quote offering pay on arrival confirms the booking unpaid, with the seats counted.
"""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from tests.services.groups.test_quotes import HOLD, ONLINE, ZONE, World
from tourism.database import write_transactions
from tourism.errors import DomainError, InvalidRequest
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    GroupMessage,
    GroupQuote,
    LedgerTransaction,
    Notification,
    QuoteStatus,
)
from tourism.services.booking import availability
from tourism.services.groups import quote_answers, quote_changes, quotes
from tourism.services.ledger import checks
from tourism.services.messages import outbox
from tourism.services.operations import checkin

LINK = "https://example.org/group-requests/x"


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.fixture
def world(make):
    world = World(make)
    world.request.language = "es"  # the group reads Spanish; the staff work in English
    db.session.flush()
    return world


def _emails(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_withdrawing_cancels_the_departure_and_tells_the_group_in_its_language(world):
    quote = world.quote()
    quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK)
    assert quote.status == QuoteStatus.WITHDRAWN and quote.withdrawn_at == world.now
    assert quote.departure.status == DepartureStatus.CANCELLED
    assert availability.seats_taken_on(db.session, quote.departure_id, world.now) == 0
    [email] = _emails("group_quote_withdrawn")
    assert (email.recipient, email.language) == ("profe@example.org", "es")
    message = outbox.build_message(email)
    assert (
        message["Subject"].startswith("Tu cotización de grupo") and "retirada" in message["Subject"]
    )
    assert LINK in message.get_body(("plain",)).get_content()
    [note] = world.request.messages
    assert not note.from_requester and note.author_id == world.admin.id
    assert "ya no se puede aceptar" in note.body


def test_the_associations_own_words_of_why_reach_the_group(world):
    quote = world.quote()
    reason = "El río está muy crecido esa semana.\nPodemos ofrecerles otra fecha."
    quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK, reason=reason)
    [email] = _emails("group_quote_withdrawn")
    message = outbox.build_message(email)
    for part in ("plain", "html"):
        assert "Podemos ofrecerles otra fecha." in message.get_body((part,)).get_content()
    # The standard note in the group's language, then the association's words as written.
    notes = [m.body for m in world.request.messages]
    assert "ya no se puede aceptar" in notes[0] and notes[1] == reason
    assert all(m.author_id == world.admin.id for m in world.request.messages)


def test_without_a_reason_the_email_has_no_empty_quote(world):
    quote = world.quote()
    quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK, reason="   ")
    [email] = _emails("group_quote_withdrawn")
    text = outbox.build_message(email).get_body(("plain",)).get_content()
    assert "escribió" not in text and "wrote" not in text
    assert len(world.request.messages) == 1


def test_a_reason_too_long_is_refused_and_changes_nothing(world):
    quote = world.quote()
    with pytest.raises(InvalidRequest) as raised:
        quote_changes.withdraw_quote(
            db.session, quote, world.admin, world.now, LINK, reason="x" * 100_000
        )
    assert raised.value.status_code == 400
    assert quote.status == QuoteStatus.OFFERED
    assert quote.departure.status == DepartureStatus.SCHEDULED
    assert _emails("group_quote_withdrawn") == [] and world.request.messages == []


def test_a_withdrawn_quote_cannot_be_accepted_nor_withdrawn_again(world):
    quote = world.quote()
    quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK)
    for answer in (
        lambda: quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD),
        lambda: quote_answers.decline_quote(db.session, quote, world.now),
        lambda: quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK),
    ):
        with pytest.raises(DomainError) as raised:
            answer()
        assert raised.value.status_code == 409
    assert quote.status == QuoteStatus.WITHDRAWN and quote.booking_id is None
    assert db.session.scalar(select(func.count(Booking.id))) == 0
    assert len(_emails("group_quote_withdrawn")) == 1


def test_after_a_withdrawal_the_association_may_quote_again_at_the_same_time(world):
    quote = world.quote()
    quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK)
    again = world.quote(amount_cents=90_000)
    assert again.departure_id == quote.departure_id  # reopened, not a second departure
    assert again.departure.status == DepartureStatus.SCHEDULED
    booking = quote_answers.accept_quote(db.session, again, "card", ONLINE, world.now, HOLD)
    assert booking.total_cents == 90_000


def test_an_accepted_quote_cannot_be_withdrawn_or_changed(world):
    quote = world.quote()
    quote_answers.accept_quote(db.session, quote, "bank_transfer", ONLINE, world.now, HOLD)
    with pytest.raises(quotes.QuoteTaken) as raised:
        quote_changes.withdraw_quote(db.session, quote, world.admin, world.now, LINK)
    assert raised.value.status_code == 409
    with pytest.raises(quotes.QuoteTaken):
        quote_changes.revise_quote(
            db.session, quote, world.data(amount_cents=1), world.admin, world.now, ZONE, LINK
        )
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.departure.status == DepartureStatus.SCHEDULED
    assert db.session.scalar(select(func.count(GroupQuote.id))) == 1


def test_a_lapsed_card_acceptance_leaves_the_quote_open_to_withdraw(world):
    quote = world.quote()
    quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD)
    later = world.now + HOLD + timedelta(minutes=1)
    quote_changes.withdraw_quote(db.session, quote, world.admin, later, LINK)
    assert quote.status == QuoteStatus.WITHDRAWN


def test_a_change_supersedes_the_quote_keeping_it_and_tells_the_group(world):
    quote = world.quote()
    revision = quote_changes.revise_quote(
        db.session,
        quote,
        world.data(pricing="per_person", amount_cents=12_000, group_size=9),
        world.admin,
        world.now,
        ZONE,
        LINK,
    )
    assert quote.status == QuoteStatus.SUPERSEDED and quote.total_cents == 100_000
    assert revision.replaces_id == quote.id and revision.status == QuoteStatus.OFFERED
    assert (revision.group_size, revision.total_cents) == (9, 108_000)
    # Same day and time: the private departure serves again, sized for the new group.
    assert revision.departure_id == quote.departure_id and revision.departure.capacity == 9
    assert world.request.quotes[-1].id == revision.id
    assert quotes.live_quote(world.request, world.now).id == revision.id
    [email] = _emails("group_quote_changed")
    assert email.language == "es"
    text = outbox.build_message(email).get_body(("plain",)).get_content()
    assert "1080,00" in text.replace(".", "").replace("\xa0", "") and LINK in text
    assert db.session.scalar(select(func.count(GroupMessage.id))) == 1

    with pytest.raises(quotes.QuoteSuperseded) as raised:
        quote_answers.accept_quote(db.session, quote, "card", ONLINE, world.now, HOLD)
    assert raised.value.status_code == 409
    booking = quote_answers.accept_quote(db.session, revision, "card", ONLINE, world.now, HOLD)
    assert booking.participants == 9 and booking.total_cents == 108_000


def test_a_change_of_day_cancels_the_old_departure(world):
    quote = world.quote()
    revision = quote_changes.revise_quote(
        db.session,
        quote,
        world.data(day=world.today + timedelta(days=21), start=time(14, 0)),
        world.admin,
        world.now,
        ZONE,
        LINK,
    )
    assert revision.departure_id != quote.departure_id
    assert quote.departure.status == DepartureStatus.CANCELLED
    assert revision.departure.status == DepartureStatus.SCHEDULED
    assert revision.departure.starts_at.astimezone(ZONE).time() == time(14, 0)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_cents": 0},
        {"group_size": 0},
        {"group_size": 201},
        {"pricing": "by the kilo"},
        {"valid_until": None},
        {"pay_on_arrival": "yes"},
    ],
)
def test_a_bad_change_is_refused_and_changes_nothing(world, changes):
    quote = world.quote()
    with pytest.raises(InvalidRequest) as raised:
        quote_changes.revise_quote(
            db.session, quote, world.data(**changes), world.admin, world.now, ZONE, LINK
        )
    assert raised.value.status_code == 400
    assert db.session.scalar(select(func.count(GroupQuote.id))) == 1
    assert db.session.scalar(select(GroupQuote.status)) == QuoteStatus.OFFERED
    assert _emails("group_quote_changed") == []


def test_pay_on_arrival_is_offered_only_where_the_experience_takes_it(world, make):
    experience = world.experience
    experience.payment_options = "card"
    with pytest.raises(InvalidRequest):
        world.quote(pay_on_arrival=True)
    experience.payment_options = "card,on_arrival"
    quote = world.quote(pay_on_arrival=True)
    assert quote.pay_on_arrival
    assert "on_arrival" in quote_answers.methods_for(ONLINE + ["on_arrival"], quote)
    without = World(make).quote()
    assert "on_arrival" not in quote_answers.methods_for(ONLINE + ["on_arrival"], without)


def test_accepting_to_pay_on_arrival_confirms_the_booking_unpaid(world):
    quote = world.quote(pay_on_arrival=True, pricing="per_person", amount_cents=4_250)
    offered = ["card", "deposit", "on_arrival"]
    booking = quote_answers.accept_quote(db.session, quote, "on_arrival", offered, world.now, HOLD)
    db.session.flush()
    db.session.refresh(booking.departure)
    assert booking.status == BookingStatus.CONFIRMED and booking.hold_expires_at is None
    assert booking.payment_method == "on_arrival" and booking.online_due_cents == 0
    assert booking.due_on_arrival_cents == 29_750 and booking.payments == []
    assert booking.departure.seats_confirmed == 7  # the counter the manifest and seats use
    confirmed = _emails("confirmed")
    assert [n.booking_id for n in confirmed] == [booking.id]
    assert checks.check(db.session) == []  # nothing paid, nothing posted
    assert quote.status == QuoteStatus.ACCEPTED
    # On the day the cash is collected as for any pay-on-arrival booking, and posted.
    on_the_day = booking.departure.starts_at
    payment, _new = checkin.record_cash(db.session, booking, 29_750, world.admin, on_the_day)
    assert payment.provider == "cash" and booking.due_on_arrival_cents == 0
    assert checks.check(db.session) == []
    posted = db.session.scalar(
        select(func.count(LedgerTransaction.id)).where(LedgerTransaction.payment_id == payment.id)
    )
    assert posted >= 1


def test_on_arrival_is_refused_when_the_quote_does_not_offer_it(world):
    quote = world.quote()
    offered = ["card", "deposit", "on_arrival"]
    with pytest.raises(InvalidRequest):
        quote_answers.accept_quote(db.session, quote, "on_arrival", offered, world.now, HOLD)
    assert quote.status == QuoteStatus.OFFERED and quote.booking_id is None


def test_the_quote_email_says_how_many_people(world):
    quote = world.quote(group_size=5)
    email = db.session.scalars(select(Notification).where(Notification.kind == "group_quote")).one()
    assert json.loads(email.context)["group_size"] == 5 == quote.group_size
