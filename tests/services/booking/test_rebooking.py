"""Staff move a booking to another date of the same experience: seats, nights, counters,
ledger, audit log and messages follow; every refusal changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.errors import SoldOut
from tourism.models import (
    AccountKind,
    AuditEvent,
    BookingNight,
    BookingStatus,
    DepartureStatus,
    GroupRequest,
    HomestayBlackout,
    Notification,
    RequesterKind,
    Role,
    WebhookDelivery,
)
from tourism.models.ledger import AccountState
from tourism.services.booking import availability, rebooking, seat_check
from tourism.services.ledger import checks, postings, split_rules
from tourism.services.ledger import journal as ledger
from tourism.services.messages import outbox
from tourism.services.messages.rendering import build_booking_message
from tourism.timefmt import local


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


class World:
    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        self.now = utcnow().replace(microsecond=0)
        self.association = make.association()
        self.experience = make.experience(self.association)
        self.staff = make.user(password="", memberships=[(self.association, Role.STAFF)])
        self.first = make.departure(self.experience, capacity=6, starts_in=timedelta(days=3))
        self.second = make.departure(self.experience, capacity=4, starts_in=timedelta(days=10))
        session.flush()

    def move(self, booking, departure, now=None):
        return rebooking.change_date(
            self.session, booking, departure.id, self.staff, now or self.now
        )


@pytest.fixture
def world(session, make):
    return World(session, make)


def _no_drift(session):
    assert seat_check.mismatches(session) == []
    assert checks.check(session) == []


def test_a_confirmed_booking_moves_with_its_seats_price_and_an_audit_row(session, world, make):
    booking = make.booking(world.first, quantities={"adult": 2, "child": 1})
    total = booking.total_cents
    session.flush()
    assert world.first.seats_confirmed == 3
    world.move(booking, world.second)
    assert booking.departure_id == world.second.id and booking.status == BookingStatus.CONFIRMED
    assert booking.total_cents == total  # the price paid is kept
    session.refresh(world.first)
    session.refresh(world.second)
    assert (world.first.seats_confirmed, world.second.seats_confirmed) == (0, 3)
    assert availability.seats_left(session, world.second, world.now) == 1
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "booking.date_changed")
    ).one()
    assert event.actor == world.staff.email and booking.reference in event.target
    assert f"departure {world.first.id}" in event.detail
    assert f"departure {world.second.id}" in event.detail
    _no_drift(session)


def test_the_tourist_gets_an_email_with_the_new_date_and_calendar(session, world, make, app):
    booking = make.booking(world.first, language="en")
    world.move(booking, world.second)
    (note,) = session.scalars(select(Notification).where(Notification.kind == "date_changed")).all()
    assert note.language == "en" and note.recipient == booking.contact_email
    with app.test_request_context():
        message = build_booking_message(note)
    calendar = next(p for p in message.iter_attachments() if p.get_filename().endswith(".ics"))
    ics = calendar.get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "SEQUENCE:1" in ics
    assert local(world.second.starts_at).strftime("%Y%m%dT%H%M") in ics
    # Moved back: told again, a version later.
    world.move(booking, world.first)
    notes = session.scalars(
        select(Notification).where(Notification.kind == "date_changed").order_by(Notification.id)
    ).all()
    assert len(notes) == 2 and json.loads(notes[1].context)["sequence"] == 2
    assert outbox.notification_key(booking, "date_changed", "2") == notes[1].key


def test_a_cancellation_after_moves_is_a_calendar_version_above_the_last_move(
    session, world, make, app
):
    """Calendars apply an event's cancellation only at a higher SEQUENCE than the version
    they hold: after two moves (versions 1 and 2) the cancellation must be version 3."""
    booking = make.booking(world.first, language="en")
    world.move(booking, world.second)
    world.move(booking, world.first)
    outbox.queue(session, booking, "cancelled")
    session.flush()
    (note,) = session.scalars(select(Notification).where(Notification.kind == "cancelled")).all()
    with app.test_request_context():
        message = build_booking_message(note)
    calendar = next(p for p in message.iter_attachments() if p.get_filename().endswith(".ics"))
    ics = calendar.get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "METHOD:CANCEL" in ics and "SEQUENCE:3" in ics


def test_a_held_booking_keeps_its_hold_and_counts_on_the_new_date(session, world, make):
    booking = make.booking(world.first, status=BookingStatus.HELD)
    world.move(booking, world.second)
    assert booking.status == BookingStatus.HELD and booking.hold_expires_at > world.now
    assert availability.seats_taken_on(session, world.second.id, world.now) == 1
    assert availability.seats_taken_on(session, world.first.id, world.now) == 0
    _no_drift(session)


def test_no_room_is_refused_and_nothing_changes(session, world, make):
    make.booking(world.second, quantities={"adult": 3})
    make.booking(world.second, quantities={"adult": 1}, status=BookingStatus.HELD)
    booking = make.booking(world.first, quantities={"adult": 1})
    session.flush()
    assert rebooking.date_choices(session, booking, world.now) == []
    with pytest.raises(SoldOut):
        world.move(booking, world.second)


def test_every_refusal(session, world, make):
    booking = make.booking(world.first)
    other_experience = make.departure(make.experience(world.association))
    cancelled = make.departure(
        world.experience, status=DepartureStatus.CANCELLED, starts_in=timedelta(days=6)
    )
    past = make.departure(world.experience, starts_in=timedelta(hours=-2))
    closing = make.departure(world.experience, starts_in=timedelta(minutes=30))
    session.flush()
    for target, error in [
        (world.first, rebooking.NotAnotherDate),
        (other_experience, rebooking.NotAnotherDate),
        (cancelled, rebooking.DateNotOpen),
        (past, rebooking.DateNotOpen),
        (closing, rebooking.DateNotOpen),
    ]:
        with pytest.raises(error):
            world.move(booking, target)
    with pytest.raises(rebooking.NotAnotherDate):
        rebooking.change_date(session, booking, 2_000_000_000, world.staff, world.now)
    for raw in ("abc", "", "1e3", "-4", "٣", "9" * 20):
        with pytest.raises(rebooking.NotAnotherDate):
            rebooking.parse_departure_id(raw)
    # A group's private departure is not another date for a public booking.
    group = GroupRequest(
        association_id=world.association.id,
        experience_id=world.experience.id,
        token="q" * 43,
        requester_kind=RequesterKind.SCHOOL,
        name="Escuela",
        email="school@example.org",
        language="es",
        group_size=20,
        date_from=world.now.date(),
        date_to=world.now.date(),
    )
    session.add(group)
    session.flush()
    private = make.departure(
        world.experience, group_request_id=group.id, starts_in=timedelta(days=7)
    )
    session.flush()
    with pytest.raises(rebooking.NotAnotherDate):
        world.move(booking, private)
    assert booking.departure_id == world.first.id


@pytest.mark.parametrize(
    "state",
    ["cancelled", "expired", "checked_in", "no_show", "departed", "departure_cancelled"],
)
def test_bookings_that_cannot_move(session, world, make, state):
    booking = make.booking(world.first)
    if state == "cancelled":
        booking.status = BookingStatus.CANCELLED
    elif state == "expired":
        booking.status, booking.hold_expires_at = BookingStatus.HELD, world.now - timedelta(1)
    elif state == "checked_in":
        booking.checked_in_at = world.now
    elif state == "no_show":
        booking.no_show_at = world.now
    elif state == "departed":
        world.first.starts_at = world.now - timedelta(hours=1)
    else:
        world.first.status = DepartureStatus.CANCELLED
    session.flush()
    with pytest.raises(rebooking.CannotChangeDate):
        world.move(booking, world.second)


def _with_night(session, world, make, side="before", capacity=2):
    family = make.family(world.association)
    homestay = make.homestay(family, capacity=capacity)
    booking = make.booking(world.first, quantities={"adult": 2})
    booking.nights.append(
        BookingNight(
            homestay=homestay,
            night=rebooking.addon_service.night_of(world.first, side),
            side=side,
            people=2,
            unit_price_cents=2500,
        )
    )
    session.flush()
    return booking, homestay


def test_homestay_nights_move_with_the_booking(session, world, make):
    booking, _homestay = _with_night(session, world, make)
    world.move(booking, world.second)
    new_night = local(world.second.starts_at).date() - timedelta(days=1)
    assert [n.night for n in booking.nights] == [new_night]
    _no_drift(session)


def test_a_homestay_closed_on_the_new_night_refuses_the_move(session, world, make):
    booking, homestay = _with_night(session, world, make)
    new_night = local(world.second.starts_at).date() - timedelta(days=1)
    homestay.blackouts.append(HomestayBlackout(night=new_night))
    session.flush()
    with pytest.raises(rebooking.addon_service.NightClosed):
        world.move(booking, world.second)


def test_full_homestay_refuses_the_move(session, world, make):
    family = make.family(world.association)
    homestay = make.homestay(family, capacity=1)
    booking = make.booking(world.first, quantities={"adult": 1})
    booking.nights.append(
        BookingNight(
            homestay=homestay,
            night=local(world.first.starts_at).date(),
            side="after",
            people=1,
            unit_price_cents=2500,
        )
    )
    other = make.booking(world.second, quantities={"adult": 1})
    other.nights.append(
        BookingNight(
            homestay=homestay,
            night=local(world.second.starts_at).date(),
            side="after",
            people=1,
            unit_price_cents=2500,
        )
    )
    session.flush()
    with pytest.raises(rebooking.addon_service.NoBedsLeft):
        world.move(booking, world.second)


def test_a_paid_booking_s_guide_share_follows_the_new_departure(session, world, make):
    admin = make.user(password="", memberships=[(world.association, Role.ADMIN)])
    earlier = world.now - timedelta(days=30)
    rule = split_rules.approve_rule(session, world.experience, SPLIT_PARTS, admin, earlier, earlier)
    old_guide, new_guide = make.guide(world.association), make.guide(world.association)
    make.assign(world.first, old_guide)
    make.assign(world.second, new_guide)
    booking = make.booking(world.first, quantities={"adult": 2})
    booking.split_rule = rule
    payment = make.card_payment(booking, succeeded_at=world.now)
    postings.post_payment(session, payment)

    def owed(guide):
        account = ledger.account(
            session, AccountKind.GUIDE, world.association, user=guide, state=AccountState.PENDING
        )
        return -ledger.balance(session, account)

    share = owed(old_guide)
    assert share > 0 and owed(new_guide) == 0
    world.move(booking, world.second)
    assert (owed(old_guide), owed(new_guide)) == (0, share)
    _no_drift(session)


def test_a_reseller_booking_queues_its_webhook_and_a_web_one_does_not(session, world, make):
    from tourism.models import ChannelBooking

    reseller, _key = make.reseller(association=world.association, experiences=[world.experience])
    reseller.webhook_url = "https://reseller.example/hooks"
    sold = make.booking(world.first)
    session.add(
        ChannelBooking(
            booking=sold,
            reseller=reseller,
            uuid=str(uuid.uuid4()),
            reseller_reference="R-1",
            commission_bp=1000,
            prepaid=False,
            created_at=world.now,
        )
    )
    web = make.booking(world.first)
    session.flush()
    world.move(web, world.second)
    assert session.scalars(select(WebhookDelivery)).all() == []
    world.move(sold, world.second)
    (delivery,) = session.scalars(select(WebhookDelivery)).all()
    body = json.loads(delivery.payload)["booking"]
    assert body["availabilityId"] == str(world.second.id)
    assert body["cancellationReason"] == rebooking.WEBHOOK_REASON
    _no_drift(session)


def test_a_spanish_visitor_who_opted_in_gets_the_email_and_whatsapp_in_spanish(
    session, world, make, app
):
    from tourism.models import PhoneMessage

    booking = make.booking(
        world.first,
        language="es",
        message_opt_in_at=world.now,
        message_phone="+593991234567",
        message_channel="whatsapp",
    )
    world.move(booking, world.second)
    (note,) = session.scalars(select(Notification).where(Notification.kind == "date_changed"))
    with app.test_request_context():
        message = build_booking_message(note)
    assert "nueva fecha" in message["Subject"]
    assert "Fecha anterior" in message.get_body(("plain",)).get_content()
    (text,) = session.scalars(select(PhoneMessage).where(PhoneMessage.kind == "date_changed"))
    assert text.template == "booking_date_changed" and text.language == "es"
    assert "tiene nueva fecha" in text.body and booking.reference in text.body
    # A visitor who did not opt in gets the email only.
    quiet = make.booking(world.first)
    world.move(quiet, world.second)
    assert len(session.scalars(select(PhoneMessage)).all()) == 1
