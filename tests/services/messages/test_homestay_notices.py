"""Host families hear of their homestay guests (first names, counts, nights, dietary needs):
the day before each night and when a route booking is confirmed or cancelled, by their
channel, once each; families and guides fall back to email when WhatsApp and SMS fail."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from tests.sql_log import statements_run
from tourism.database import utcnow, write_transactions
from tourism.models import BookingStatus, LegKind, Notification, PhoneMessage
from tourism.services.booking.contact_details import ContactDetails
from tourism.services.messages import dispatch, homestay_notices, phone_notices
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import MemoryMailer
from tourism.services.routes import booking, changes
from tourism.services.routes.booking import RouteBookingRequest
from tourism.timefmt import display_zone, local_to_utc, local_today

FAMILY_PHONE = "+593987654321"


@pytest.fixture
def app(make_app, messaging_fake):
    app = make_app(**messaging_fake.config(), PUBLIC_URL="https://chakra.example")
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def gateways(app):
    return dispatch.current_gateways()


def hosts(route):
    """The families of the route's two nights, in order."""
    return [leg.homestay.family for leg in route.legs if leg.kind == LegKind.HOMESTAY]


def book(session, route, start, name="Ana Quispe", needs="vegetarian, no peanuts", people=2):
    contact = ContactDetails(
        name=name,
        email="ana@example.org",
        phone="+593 99 123 4567",
        country="ec",
        language="es",
        special_needs=needs,
        special_needs_consent=bool(needs),
    )
    request = RouteBookingRequest(
        route_id=route.id, start_date=start, people=people, contact=contact, extras={}
    )
    return booking.book_route(session, request, utcnow(), ["es", "en"])


def phone_rows(session, kind):
    return list(
        session.scalars(
            select(PhoneMessage).where(PhoneMessage.kind == kind).order_by(PhoneMessage.id)
        )
    )


def notices(session):
    return list(
        session.scalars(
            select(Notification).where(Notification.kind == "notice").order_by(Notification.id)
        )
    )


def test_the_day_before_a_night_the_family_hears_first_names_counts_nights_and_needs(
    session, make, gateways, messaging_fake
):
    today = local_today()
    route = make.route(start_date=today + timedelta(days=1))
    tonight, later = hosts(route)
    tonight.message_phone, tonight.message_consent_at = FAMILY_PHONE, utcnow()
    tonight.message_channel, tonight.languages = "whatsapp", "qu,en"
    ana = book(session, route, route_start(route), people=2)
    luis = book(session, route, route_start(route), name="Luis Andi", needs="", people=1)
    gone = book(session, route, route_start(route), name="Rosa Tapuy", people=1)
    changes.cancel_route_booking(session, gone, utcnow())
    session.commit()

    # The periodic job (daily, tourism/jobs/periodic.py) queues it; a late rerun does not.
    from tourism.jobs import periodic

    periodic.tell_homestay_hosts(session, {}, "tell-homestay-hosts@today")
    assert len(phone_rows(session, "homestay_tomorrow")) == 1
    assert homestay_notices.queue_homestay_tomorrow(session, today) == 0  # once a night
    # The night after belongs to the other family, who has no way to be told.
    assert homestay_notices.queue_homestay_tomorrow(session, today + timedelta(days=1)) == 0
    session.commit()
    dispatch.deliver_pending(session, gateways)
    sent = [m for m in messaging_fake.state.sent if m.get("template") == "homestay_tomorrow"]
    assert len(sent) == 1
    people, guests, needs = sent[0]["variables"]
    assert sent[0]["language"] == "en" and sent[0]["to"] == FAMILY_PHONE
    assert people == "3 people"
    assert guests.startswith("Ana, 2 people, night ") and "Luis, 1 person, night " in guests
    assert needs == "Ana: vegetarian, no peanuts"
    # Nothing beyond what the family needs: no surnames, contact, reference, cancelled guest.
    for private in ("Quispe", "Andi", "ana@example.org", ana.reference, luis.reference, "Rosa"):
        assert private not in json.dumps(sent)
    assert later.id != tonight.id


def route_start(route):
    from tests.services.routes.helpers import start_of

    return start_of(route)


def test_a_confirmed_then_cancelled_route_tells_each_host_once_by_its_channel(
    session, make, gateways, messaging_fake
):
    route = make.route()
    by_sms, by_email = hosts(route)
    by_sms.message_phone, by_sms.message_consent_at = FAMILY_PHONE, utcnow()
    by_sms.message_channel = "sms"
    by_email.email = "casa.grefa@example.org"
    rb = book(session, route, route_start(route))
    session.commit()
    # Replaying the confirmation queues nothing more.
    from tourism.services.routes import notices

    notices.queue_route(session, rb, notices.ROUTE_CONFIRMED)
    session.commit()
    (booked,) = phone_rows(session, "homestay_booked")
    (emailed,) = notices_of(session, "homestay_booked")
    assert booked.recipient == FAMILY_PHONE and booked.family_id == by_sms.id
    assert emailed.recipient == "casa.grefa@example.org"

    changes.cancel_route_booking(session, rb, utcnow())
    changes_again = homestay_notices.queue_homestay_change(
        session, rb, homestay_notices.HOMESTAY_CANCELLED
    )
    session.commit()
    assert changes_again == 0
    assert len(phone_rows(session, "homestay_cancelled")) == 1
    assert len(notices_of(session, "homestay_cancelled")) == 1

    dispatch.deliver_pending(session, gateways)
    first, second = (m["body"] for m in messaging_fake.state.sent_on("sms"))
    assert first.startswith("Chakra Routes: nuevos huéspedes en casa: Ana, 2 personas, ")
    assert "Necesidades alimentarias: Ana: vegetarian, no peanuts." in first
    assert first.count("noche") == 1 and "noches" not in first  # one night there
    assert second.startswith("Chakra Routes: huéspedes cancelados: Ana, 2 personas")
    mailer = MemoryMailer()
    notifications.deliver_pending(session, mailer)
    mails = [m for m in mailer.outbox if m["To"] == "casa.grefa@example.org"]
    assert [m["Subject"] for m in mails] == [
        "Chakra Routes: Nuevos huéspedes en casa",
        "Chakra Routes: Huéspedes cancelados",
    ]
    assert "Ana: vegetarian, no peanuts" in mails[0].get_body(("plain",)).get_content()


def notices_of(session, kind):
    return [n for n in notices(session) if json.loads(n.context)["kind"] == kind]


def test_a_held_route_that_is_cancelled_tells_no_host(session, make):
    route = make.route()
    for family in hosts(route):
        family.email = f"family{family.id}@example.org"
    rb = book(session, route, route_start(route))
    for notice in notices(session):
        session.delete(notice)
    rb.status = BookingStatus.HELD  # as if it were still waiting for its card payment
    changes.cancel_route_booking(session, rb, utcnow())
    assert notices_of(session, "homestay_cancelled") == []


# Email for families and guides -------------------------------------------------------------


def test_when_whatsapp_and_sms_both_fail_the_family_gets_the_email(
    session, make, gateways, messaging_fake
):
    family = make.family(
        message_phone=FAMILY_PHONE,
        message_consent_at=utcnow(),
        message_channel="whatsapp",
        languages="es",
        email="familia@example.org",
    )
    silent = make.family(
        association=family.association,
        message_phone="+593987650000",
        message_consent_at=utcnow(),
        message_channel="sms",
    )
    payout = type(
        "Payout", (), dict(id=9, amount_cents=4550, currency="USD", created_at=utcnow())
    )()
    phone_notices.queue_family_payout(session, family, payout)
    phone_notices.queue_family_payout(session, silent, payout)
    session.commit()
    messaging_fake.state.fail_next("whatsapp", "reject")
    messaging_fake.state.fail_next("sms", "reject", times=2)
    assert dispatch.deliver_pending(session, gateways) == 0
    session.expire_all()
    assert [(m.channel, m.status) for m in phone_rows(session, "family_payout")] == [
        ("whatsapp", "failed"),
        ("sms", "failed"),
        ("sms", "failed"),
    ]
    (notice,) = notices(session)  # the family without an email: nothing more to try
    assert notice.key == f"family:{family.id}:payout:9:email"
    assert notice.recipient == "familia@example.org"
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 1
    assert "$45,50" in mailer.outbox[0].get_body(("plain",)).get_content()
    # The failure replayed (a late callback) queues no second email.
    from tourism.services.messages import notice_emails

    assert notice_emails.queue_fallback(session, phone_rows(session, "family_payout")[2]) is None


def test_a_guide_without_phone_consent_or_who_chose_email_is_told_by_email(
    session, make, gateways, messaging_fake
):
    today, zone = local_today(), display_zone()
    departure = make.departure(starts_at=local_to_utc(today + timedelta(days=1), time(8, 30), zone))
    no_consent = make.user(locale="en")
    chose_email = make.user(
        locale="es",
        message_phone="+593981112233",
        message_consent_at=utcnow(),
        message_channel="email",
    )
    stopped = make.user(
        message_phone="+593981119999", message_consent_at=utcnow(), message_channel="sms"
    )
    from tourism.models import PhoneOptOut

    session.add(PhoneOptOut(phone="+593981119999", channel="sms", opted_out_at=utcnow()))
    for guide in (no_consent, chose_email, stopped):
        make.assign(departure, guide)
    make.booking(departure, quantities={"adult": 2})
    assert phone_notices.queue_guide_tomorrow(session, today, zone) == 3
    session.commit()
    assert phone_rows(session, "guide_tomorrow") == []
    assert sorted(n.recipient for n in notices(session)) == sorted(
        [no_consent.email, chose_email.email, stopped.email]
    )
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 3
    english = next(m for m in mailer.outbox if m["To"] == no_consent.email)
    assert english["Subject"] == "Chakra Routes: Your departures tomorrow"
    assert "2 people" in english.get_body(("plain",)).get_content()
    assert messaging_fake.state.sent == []


def test_the_needs_sent_to_families_are_erased_with_the_bookings_needs(
    session, make, gateways, messaging_fake
):
    route = make.route()
    family, other = hosts(route)
    family.message_phone, family.message_consent_at = FAMILY_PHONE, utcnow()
    other.email = "otra@example.org"
    book(session, route, route_start(route))
    session.commit()
    dispatch.deliver_pending(session, gateways)
    notifications.deliver_pending(session, MemoryMailer())
    session.commit()
    # Too recent: kept. Undelivered messages are never erased.
    assert homestay_notices.forget_needs(session, utcnow(), timedelta(days=30)) == 0
    later = utcnow() + timedelta(days=31)
    assert homestay_notices.forget_needs(session, later, timedelta(days=30)) == 1
    session.commit()
    session.expire_all()
    (sent,) = phone_rows(session, "homestay_booked")
    assert (sent.body, sent.variables) == ("", "[]")
    assert all(n.context == "{}" for n in notices(session))


# Single experience bookings with a homestay night -------------------------------------------


def single_booking(make, homestay, night, name="Luis Andi", needs="", people=1, **kw):
    """A confirmed booking of an experience of the homestay's association with a night at
    it (``BookingNight``), as a pay-on-arrival hold with nights writes it."""
    from tourism.models import BookingNight

    experience = make.experience(homestay.family.association)
    departure = make.departure(experience, starts_at=local_to_utc(night, time(8, 30)))
    booking = make.booking(
        departure, quantities={"adult": people}, contact_name=name, special_needs=needs, **kw
    )
    booking.nights.append(
        BookingNight(
            homestay=homestay, night=night, side="after", people=people, unit_price_cents=2500
        )
    )
    make.session.flush()
    return booking


def test_the_day_before_lists_route_and_single_booking_guests_in_one_notice(
    session, make, gateways, messaging_fake
):
    today = local_today()
    route = make.route(start_date=today + timedelta(days=1))
    tonight = hosts(route)[0]
    tonight.message_phone, tonight.message_consent_at = FAMILY_PHONE, utcnow()
    tonight.message_channel, tonight.languages = "whatsapp", "en"
    homestay = next(leg.homestay for leg in route.legs if leg.kind == LegKind.HOMESTAY)
    book(session, route, route_start(route), people=2)
    luis = single_booking(make, homestay, today + timedelta(days=1), needs="no gluten", people=1)
    single_booking(make, homestay, today + timedelta(days=1), name="Rosa", status="cancelled")
    single_booking(make, homestay, today + timedelta(days=1), name="Eva", status="held")
    session.commit()
    assert homestay_notices.queue_homestay_tomorrow(session, today) == 1
    assert homestay_notices.queue_homestay_tomorrow(session, today) == 0  # once a night
    session.commit()
    (message,) = phone_rows(session, "homestay_tomorrow")
    assert message.key == f"family:{tonight.id}:homestay:{today + timedelta(days=1)}:whatsapp"
    people, guests, needs = json.loads(message.variables)
    assert people == "3 people"
    assert guests.startswith("Ana, 2 people, night ") and "; Luis, 1 person, night " in guests
    assert needs == "Ana: vegetarian, no peanuts; Luis: no gluten"
    for private in ("Andi", "Rosa", "Eva", luis.reference, luis.contact_email):
        assert private not in message.body


def test_the_day_before_notice_runs_as_many_statements_for_many_single_bookings(
    session, make, gateways
):
    today = local_today()
    family = make.family(email="casa@example.org")
    homestay = make.homestay(family, capacity=10)
    single_booking(make, homestay, today + timedelta(days=1))
    for name in ("Ana", "Luis", "Rosa"):
        single_booking(make, homestay, today + timedelta(days=2), name=name)
    session.commit()

    def statements_for(day):
        session.expire_all()
        with statements_run(session) as run:
            assert homestay_notices.queue_homestay_tomorrow(session, day) == 1
        return len([statement for statement in run if not statement.startswith("BEGIN")])

    assert statements_for(today) == statements_for(today + timedelta(days=1))
    (one, three) = notices_of(session, "homestay_tomorrow")
    assert (
        "Ana" in json.loads(three.context)["body"] and "Rosa" in json.loads(three.context)["body"]
    )
    assert json.loads(one.context)["body"].count("Luis") == 1
