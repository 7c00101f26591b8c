"""WhatsApp and SMS delivery against the local fake: queued with the change, sent after the
commit once per key, retried on provider failures, falling back WhatsApp → SMS (email goes
anyway), STOP/BAJA, delivery statuses applied once, inbound text and replies."""

from __future__ import annotations

from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tourism.database import utcnow
from tourism.models import InboundMessage, Notification, PhoneMessage, PhoneOptOut
from tourism.services.messages import conversations, dispatch, phone_notices
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import MemoryMailer
from tourism.timefmt import display_zone, local_to_utc, local_today

PHONE = "+593991234567"
PUBLIC_URL = "https://chakra.example"


@pytest.fixture
def app(make_app, messaging_fake):
    app = make_app(
        **messaging_fake.config(),
        PUBLIC_URL=PUBLIC_URL,
        MESSAGING_READ_TIMEOUT=0.5,
        MAIL_BACKEND="memory",
    )
    messaging_fake.state.slow_seconds = 1.5
    with app.app_context():
        yield app


@pytest.fixture
def gateways(app):
    return dispatch.current_gateways()


def opted_in(make, channel="whatsapp", language="en", **kw):
    return make.booking(
        message_opt_in_at=utcnow(),
        message_phone=PHONE,
        message_channel=channel,
        language=language,
        **kw,
    )


def rows(session, **where) -> list[PhoneMessage]:
    statement = select(PhoneMessage).order_by(PhoneMessage.id)
    for name, value in where.items():
        statement = statement.where(getattr(PhoneMessage, name) == value)
    return list(session.scalars(statement))


def queue_confirmation(session, booking):
    notifications.queue(session, booking, "confirmed")
    session.commit()


def test_a_confirmation_goes_as_the_whatsapp_template_in_the_visitors_language(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    (message,) = rows(session)
    assert (message.key, message.channel, message.status) == (
        f"booking:{booking.id}:confirmed:whatsapp",
        "whatsapp",
        "queued",
    )
    # The email twin is in the same transaction's outbox.
    assert session.scalar(select(Notification.key)) == f"booking:{booking.id}:confirmed"
    assert dispatch.deliver_pending(session, gateways) == 1
    (sent,) = messaging_fake.state.sent_on("whatsapp")
    assert sent["template"] == "booking_confirmed" and sent["language"] == "en"
    assert sent["to"] == PHONE
    assert sent["variables"][0] == booking.reference
    assert sent["variables"][-1] == f"{PUBLIC_URL}/bookings/{booking.manage_token}"
    session.expire_all()
    assert rows(session)[0].status == "sent"
    assert rows(session)[0].provider_id == sent["id"]
    assert message.body.startswith(f"Chakra Routes: booking {booking.reference} confirmed.")


def test_spanish_words_and_amounts_as_elsewhere(session, make, gateways, messaging_fake):
    booking = opted_in(make, language="es", channel="sms")
    notifications.queue(session, booking, "cancelled", refund_cents=123450)
    session.commit()
    dispatch.deliver_pending(session, gateways)
    (sent,) = messaging_fake.state.sent_on("sms")
    assert sent["body"] == (
        f"Chakra Routes: la reserva {booking.reference} está cancelada. Reembolso: $1.234,50."
    )
    assert booking.manage_token not in sent["body"]  # no link where none is needed


def test_without_the_opt_in_only_the_email_is_queued(session, make, gateways, messaging_fake):
    booking = make.booking(message_phone=None)
    queue_confirmation(session, booking)
    assert rows(session) == []
    assert session.scalar(select(func.count(Notification.id))) == 1


def test_a_replayed_event_and_a_repeated_delivery_send_once(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    queue_confirmation(session, booking)
    assert len(rows(session)) == 1
    assert dispatch.deliver_pending(session, gateways) == 1
    assert dispatch.deliver_pending(session, gateways) == 0
    assert dispatch.deliver_one(session, rows(session)[0].id, gateways) == (False, None)
    assert len(messaging_fake.state.sent) == 1


def test_nothing_is_sent_when_the_change_rolls_back(session, make, gateways, messaging_fake):
    booking = opted_in(make)
    session.commit()
    notifications.queue(session, booking, "confirmed")
    session.rollback()
    assert rows(session) == []
    assert dispatch.deliver_pending(session, gateways) == 0
    assert messaging_fake.state.sent == []


@pytest.mark.parametrize("mode", ["timeout", "429", "500"])
def test_an_unavailable_provider_keeps_the_message_for_the_next_run(
    session, make, gateways, messaging_fake, mode
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    messaging_fake.state.fail_next("whatsapp", mode)
    assert dispatch.deliver_pending(session, gateways) == 0
    session.expire_all()
    (message,) = rows(session)
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.last_error
    assert dispatch.deliver_pending(session, gateways) == 1
    session.expire_all()
    assert (rows(session)[0].status, rows(session)[0].attempts) == ("sent", 2)
    assert messaging_fake.state.sent_on("sms") == []


def test_a_provider_down_for_good_ends_in_the_sms_fallback(session, make, gateways, messaging_fake):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    messaging_fake.state.fail_next("whatsapp", "500", times=dispatch.MAX_ATTEMPTS)
    for _ in range(dispatch.MAX_ATTEMPTS):
        dispatch.deliver_pending(session, gateways)
    session.expire_all()
    whatsapp, sms = rows(session)
    assert (whatsapp.status, whatsapp.attempts) == ("failed", dispatch.MAX_ATTEMPTS)
    assert (sms.channel, sms.status, sms.fallback_of_id) == ("sms", "sent", whatsapp.id)
    assert sms.key == f"booking:{booking.id}:confirmed:sms"


def test_a_refused_whatsapp_falls_back_to_sms_at_once_and_the_email_still_goes(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    messaging_fake.state.fail_next("whatsapp", "reject")
    assert dispatch.deliver_pending(session, gateways) == 1
    session.expire_all()
    whatsapp, sms = rows(session)
    assert whatsapp.status == "failed" and "131026" in whatsapp.last_error
    (text,) = messaging_fake.state.sent_on("sms")
    assert text["body"] == whatsapp.body == sms.body
    assert text["callback"] == f"{PUBLIC_URL}/webhooks/sms/status"


def test_when_whatsapp_and_sms_both_fail_the_email_is_what_remains(
    app, session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    messaging_fake.state.fail_next("whatsapp", "reject")
    messaging_fake.state.fail_next("sms", "reject")
    assert dispatch.deliver_pending(session, gateways) == 0
    session.expire_all()
    assert [m.status for m in rows(session)] == ["failed", "failed"]
    assert len(rows(session)) == 2  # no third try
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 1
    assert mailer.outbox[0]["To"] == booking.contact_email


def test_whatsapp_not_configured_goes_by_sms(app, session, make, messaging_fake):
    app.config["WHATSAPP_ACCESS_TOKEN"] = ""
    booking = opted_in(make)
    queue_confirmation(session, booking)
    assert dispatch.deliver_pending(session, dispatch.current_gateways()) == 1
    assert [m["channel"] for m in messaging_fake.state.sent] == ["sms"]


@pytest.mark.parametrize("word", ["STOP", "baja", " Baja. "])
def test_stop_or_baja_opts_the_number_out_at_once(session, make, gateways, messaging_fake, word):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    assert conversations.receive(session, "whatsapp", "wamid.in1", PHONE, word) == "opted_out"
    session.commit()
    assert session.get(PhoneOptOut, PHONE) is not None
    assert rows(session)[0].status == "blocked"
    notifications.queue(session, booking, "reminder")
    session.commit()
    assert len(rows(session)) == 1  # nothing more is queued for that number
    assert dispatch.deliver_pending(session, gateways) == 0
    assert messaging_fake.state.sent == []


def test_a_stop_between_queueing_and_sending_blocks_the_message(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    session.add(PhoneOptOut(phone=PHONE, channel="sms", opted_out_at=utcnow()))
    session.commit()
    assert dispatch.deliver_pending(session, gateways) == 0
    session.expire_all()
    assert rows(session)[0].status == "blocked"


def test_statuses_apply_once_and_never_go_back(session, make, gateways, messaging_fake):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    dispatch.deliver_pending(session, gateways)
    provider_id = rows(session)[0].provider_id
    assert conversations.apply_status(session, "whatsapp", provider_id, "read") == "read"
    assert conversations.apply_status(session, "whatsapp", provider_id, "read") == "duplicate"
    assert conversations.apply_status(session, "whatsapp", provider_id, "delivered") == "ignored"
    assert conversations.apply_status(session, "whatsapp", "wamid.unknown", "read") == "unknown"
    session.commit()
    assert rows(session)[0].status == "read"


def test_a_failed_status_falls_back_to_sms(session, make, gateways, messaging_fake):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    dispatch.deliver_pending(session, gateways)
    provider_id = rows(session)[0].provider_id
    assert conversations.apply_status(session, "whatsapp", provider_id, "failed", "x") == "failed"
    session.commit()
    dispatch.deliver_pending(session, gateways)
    session.expire_all()
    assert [(m.channel, m.status) for m in rows(session)] == [
        ("whatsapp", "failed"),
        ("sms", "sent"),
    ]


def test_inbound_text_lands_on_the_booking_and_can_be_answered_within_24_hours(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    session.commit()
    assert conversations.receive(session, "whatsapp", "wamid.in2", PHONE, "Can I bring a dog?") == (
        "received"
    )
    assert conversations.receive(session, "whatsapp", "wamid.in2", PHONE, "Can I bring a dog?") == (
        "duplicate"
    )
    session.commit()
    (inbound,) = session.scalars(select(InboundMessage)).all()
    assert (inbound.booking_id, inbound.body) == (booking.id, "Can I bring a dog?")
    messaging_fake.state.window_open.add(PHONE.lstrip("+"))
    now = utcnow()
    reply = conversations.reply_on_booking(session, booking, "Yes, on a leash.", now)
    again = conversations.reply_on_booking(session, booking, "Yes, on a leash.", now)
    session.commit()
    assert again.id == reply.id
    dispatch.deliver_pending(session, gateways)
    (sent,) = messaging_fake.state.sent_on("whatsapp")
    assert sent["body"] == "Yes, on a leash." and "template" not in sent
    with pytest.raises(conversations.OutsideWindow):
        conversations.reply_on_booking(session, booking, "Later", now + timedelta(hours=25))


def test_free_text_whatsapp_refuses_outside_its_window_falls_back_to_sms(
    session, make, gateways, messaging_fake
):
    booking = opted_in(make)
    session.commit()
    conversations.receive(session, "whatsapp", "wamid.in3", PHONE, "Hello?")
    session.commit()
    conversations.reply_on_booking(session, booking, "Hello!", utcnow())
    session.commit()
    dispatch.deliver_pending(session, gateways)
    session.expire_all()
    assert "131047" in rows(session)[0].last_error
    assert [m["channel"] for m in messaging_fake.state.sent] == ["sms"]


def test_a_dead_workers_claim_is_given_back(session, make, gateways, messaging_fake):
    booking = opted_in(make)
    queue_confirmation(session, booking)
    message = rows(session)[0]
    message.status, message.status_at = dispatch.SENDING, utcnow() - timedelta(minutes=11)
    session.commit()
    assert dispatch.deliver_pending(session, gateways) == 1


def test_families_hear_who_comes_tomorrow_and_of_their_payouts(
    session, make, gateways, messaging_fake
):
    family = make.family(
        message_phone="+593987654321",
        message_consent_at=utcnow(),
        message_channel="sms",
        languages="qu,es",
    )
    quiet = make.family(association=family.association, message_phone=None)
    experience = make.experience(association=family.association)
    make.stop(experience, family=family)
    make.stop(experience, family=quiet)
    today, zone = local_today(), display_zone()
    departure = make.departure(
        experience, starts_at=local_to_utc(today + timedelta(days=1), time(9, 0), zone)
    )
    make.booking(departure, quantities={"adult": 2, "child": 1})
    assert phone_notices.queue_family_visitors(session, today, zone) == 1
    assert phone_notices.queue_family_visitors(session, today, zone) == 0
    payout = SimpleNamespace(id=7, amount_cents=4550, currency="USD", created_at=utcnow())
    assert phone_notices.queue_family_payout(session, family, payout) is not None
    assert phone_notices.queue_family_payout(session, quiet, payout) is None
    session.commit()
    dispatch.deliver_pending(session, gateways)
    visitors, paid = (m["body"] for m in messaging_fake.state.sent_on("sms"))
    assert visitors.startswith("Chakra Routes, visitantes de mañana: 9:00")
    assert "3 personas" in visitors
    assert "$45,50" in paid


def test_guides_hear_of_tomorrows_departures_with_head_counts_and_needs(
    session, make, gateways, messaging_fake
):
    today, zone = local_today(), display_zone()
    guide = make.user(message_phone="+593981112233", message_consent_at=utcnow(), locale="en")
    departure = make.departure(starts_at=local_to_utc(today + timedelta(days=1), time(8, 30), zone))
    make.assign(departure, guide)
    make.booking(departure, quantities={"adult": 3})
    make.booking(departure, special_needs="vegetarian")
    assert phone_notices.queue_guide_tomorrow(session, today, zone) == 1
    session.commit()
    dispatch.deliver_pending(session, gateways)
    (sent,) = messaging_fake.state.sent_on("whatsapp")
    assert sent["template"] == "guide_tomorrow" and sent["language"] == "en"
    assert "4 people" in sent["variables"][0]
    assert "1 booking with special needs" in sent["variables"][0]
    assert "vegetarian" not in str(sent)


def test_send_reminders_messages_tourists_families_and_guides_then_send_messages_retries(
    app, session, make, messaging_fake
):
    today, zone = local_today(), display_zone()
    family = make.family(message_phone="+593987654321", message_consent_at=utcnow())
    experience = make.experience(association=family.association)
    make.stop(experience, family=family)
    departure = make.departure(
        experience, starts_at=local_to_utc(today + timedelta(days=1), time(9, 0), zone)
    )
    opted_in(make, departure=departure)
    session.commit()
    messaging_fake.state.fail_next("whatsapp", "500")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 reminder(s); sent 1 email(s)." in result.output
    assert "Queued 1 family/guide notice(s); sent 1 WhatsApp/SMS message(s)." in result.output
    result = runner.invoke(args=["send-messages"])
    assert "Sent 1 WhatsApp/SMS message(s)." in result.output
    assert sorted(m["template"] for m in messaging_fake.state.sent) == [
        "booking_reminder",
        "family_visitors",
    ]


def _message_jobs(session):
    from tourism.models import Job

    return {
        job.key: job
        for job in session.scalars(select(Job).where(Job.kind == dispatch.SEND_MESSAGE))
    }


def test_each_message_is_a_job_retried_with_backoff_and_its_fallback_gets_its_own(
    session, make, messaging_fake
):
    from sqlalchemy import update

    from tourism.jobs.worker import Worker
    from tourism.models import Job, JobState

    booking = opted_in(make)
    session.commit()
    notifications.queue(session, booking, "confirmed")
    session.rollback()  # a rolled-back change leaves no job either
    assert _message_jobs(session) == {}

    queue_confirmation(session, booking)
    (message,) = rows(session)
    (job,) = _message_jobs(session).values()
    assert job.key == f"phone:{message.id}" and job.state == JobState.QUEUED

    # The provider is down: the job fails, backs off, and the next try sends it.
    messaging_fake.state.fail_next("whatsapp", "500")
    worker = Worker(session, kinds={dispatch.SEND_MESSAGE})
    worker.run(burst=True)
    session.expire_all()
    job = _message_jobs(session)[f"phone:{message.id}"]
    assert job.state == JobState.QUEUED and job.attempts == 1 and job.run_at > utcnow()
    session.execute(update(Job).where(Job.id == job.id).values(run_at=utcnow()))
    session.commit()
    worker.run(burst=True)
    session.expire_all()
    assert _message_jobs(session)[f"phone:{message.id}"].state == JobState.DONE
    assert len(messaging_fake.state.sent_on("whatsapp")) == 1

    # Run again (a job retried by hand): nothing is sent twice.
    dispatch.send_message(session, {"message_id": message.id}, f"phone:{message.id}")
    assert len(messaging_fake.state.sent_on("whatsapp")) == 1


def test_a_refused_message_falls_back_to_an_sms_with_its_own_job(session, make, messaging_fake):
    from tourism.jobs.worker import Worker
    from tourism.models import JobState

    booking = opted_in(make)
    queue_confirmation(session, booking)
    messaging_fake.state.fail_next("whatsapp", "reject")
    Worker(session, kinds={dispatch.SEND_MESSAGE}).run(burst=True)
    session.expire_all()
    whatsapp, sms = rows(session)
    jobs = _message_jobs(session)
    assert jobs[f"phone:{whatsapp.id}"].state == JobState.DONE
    assert jobs[f"phone:{sms.id}"].state == JobState.DONE
    assert sms.status == "sent" and len(messaging_fake.state.sent_on("sms")) == 1


def test_a_guide_hears_when_put_on_or_taken_off_departures_one_message_per_change(
    session, make, gateways, messaging_fake
):
    from tourism.models import Role
    from tourism.services.operations import assignments, guides

    association = make.association()
    admin = make.user(memberships=[(association, Role.ADMIN)])
    guide = make.user(
        memberships=[(association, Role.GUIDE)],
        message_phone="+593981112244",
        message_consent_at=utcnow(),
        locale="en",
    )
    quiet = make.user(memberships=[(association, Role.GUIDE)])  # no consent: email only
    experience = make.experience(association)
    single, *many = [make.departure(experience, starts_in=timedelta(days=3 + n)) for n in range(4)]
    session.commit()

    from tourism.database import write_transactions

    with write_transactions():
        guides.assign_guide(session, single, guide, "lead", admin, utcnow())
        guides.assign_guide(session, single, quiet, "assistant", admin, utcnow())
        session.commit()
        results = assignments.assign_guide_to_departures(
            session,
            experience,
            assignments.Selection(departure_ids=tuple(d.id for d in many)),
            guide,
            "assistant",
            admin,
            utcnow(),
            display_zone(),
        )
        session.commit()
        guides.unassign_guide(session, single, guide, admin, utcnow())
        session.commit()
    assert len(results) == 3

    changes = rows(session, kind="guide_assignments")
    assert [m.recipient for m in changes] == ["+593981112244"] * 3  # the quiet guide: none
    dispatch.deliver_pending(session, gateways)
    texts = [m["variables"][0] for m in messaging_fake.state.sent_on("whatsapp")]
    title = experience.text("en").title
    assert texts[0].startswith("you now guide:") and texts[0].count(title) == 1
    assert texts[1].startswith("you now guide:") and texts[1].count(title) == 3
    assert texts[1].count("; ") == 2
    assert texts[2].startswith("you no longer guide:") and texts[2].count(title) == 1
