"""WhatsApp and SMS messages: a row in the transaction of the change, delivered by a job.

``queue_message`` writes a ``PhoneMessage`` in the caller's transaction (its unique ``key``
means a replayed event never queues it twice) and hands it to ``schedule_delivery``, the one
door to delivery: it enqueues a ``send-message`` job in the same transaction (docs/JOBS.md),
which runs right after the commit of a request with ``MAIL_DELIVERY=request`` and in a
worker otherwise; the periodic ``send-messages`` sweeps up anything still waiting.

Delivery (``deliver_pending``) claims each row with a conditional update (``queued`` →
``sending``) in a short transaction, calls the provider with no transaction open (nothing
slow under a lock), then records the outcome in another short one. Two workers never send
the same row; a worker that dies mid-call leaves it ``sending`` and ``requeue_stale`` gives
it back after ``STALE_CLAIM``. Delivery is at least once, like email's.

A provider that is down, slow or throttling (``MessagingUnavailable``) leaves the message
queued for the next run, up to ``MAX_ATTEMPTS``; one that refuses it (``MessageRejected``),
or a WhatsApp "failed" callback, marks it failed and falls back: WhatsApp → SMS → email.
Every tourist message has its email twin in the outbox already (``outbox.queue``), sent
whatever happens here; a family's or guide's is queued by email when SMS fails too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...database import utcnow, write_transactions
from ...jobs.queue import enqueue
from ...jobs.registry import job
from ...models import PhoneMessage, PhoneOptOut
from ...models.messaging import (
    BLOCKED,
    FAILED,
    PHONE_CHANNELS,
    QUEUED,
    SENT,
    SMS,
    WHATSAPP,
)
from . import notice_emails, sms_gateway, whatsapp_gateway
from .phone_errors import MessageRejected, MessagingUnavailable
from .phone_texts import TEMPLATES, Text

#: Every template name the code may send (docs/whatsapp-templates.json lists each).
KNOWN_TEMPLATES = frozenset(TEMPLATES.values())

#: Taken by a worker, provider not answered yet.
SENDING = "sending"
#: After this many tries that found the provider unavailable, a message fails (and falls back).
MAX_ATTEMPTS = 5
#: A claim older than this was left by a worker that died: the message is queued again.
STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class Gateways:
    whatsapp: whatsapp_gateway.WhatsAppGateway | None
    sms: sms_gateway.SmsGateway | None


def gateways_from_config(config: Mapping) -> Gateways:
    return Gateways(
        whatsapp_gateway.gateway_from_config(config), sms_gateway.gateway_from_config(config)
    )


def current_gateways() -> Gateways:
    return gateways_from_config(current_app.config)


def is_opted_out(session: Session, phone: str) -> bool:
    """Whether ``phone`` said STOP and has not asked for messages again since."""
    opt_out = session.get(PhoneOptOut, phone)
    return opt_out is not None and opt_out.active


def queue_message(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: str,
    recipient: str,
    language: str,
    text: Text,
    association_id: int | None = None,
    booking_id: int | None = None,
    family_id: int | None = None,
    user_id: int | None = None,
    fallback_of_id: int | None = None,
) -> PhoneMessage | None:
    """Write a message to send after the commit, unless ``key`` was queued before or the
    number said STOP; returns the new row or ``None``. Only flushes."""
    if channel not in PHONE_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if is_opted_out(session, recipient):
        return None
    if session.scalar(select(PhoneMessage.id).where(PhoneMessage.key == key)) is not None:
        return None
    if text.template and text.template not in KNOWN_TEMPLATES:
        # Meta sends only approved templates: one missing from the catalogue would fail.
        raise ValueError(f"template {text.template!r} is not in phone_texts.TEMPLATES")
    use_template = channel == WHATSAPP and bool(text.template)
    message = PhoneMessage(
        key=key,
        kind=kind,
        channel=channel,
        recipient=recipient,
        language=language,
        body=text.body,
        template=text.template if use_template else "",
        variables=json.dumps(text.variables if use_template else []),
        association_id=association_id,
        booking_id=booking_id,
        family_id=family_id,
        user_id=user_id,
        fallback_of_id=fallback_of_id,
        status=QUEUED,
        attempts=0,
        last_error="",
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():  # a concurrent twin is refused quietly
            session.add(message)
    except IntegrityError:
        return None
    schedule_delivery(session, message)
    return message


#: The job that sends one message (``send_message``).
SEND_MESSAGE = "send-message"


class MessageNotSent(RuntimeError):
    """The provider could not take the message yet: the job is tried again with backoff."""


def schedule_delivery(session: Session, message: PhoneMessage) -> None:
    """Enqueue the job that delivers ``message``, in the current transaction (a rolled-back
    change sends nothing). The one place that decides *when* a message leaves: a request's
    jobs run right after its commit with ``MAIL_DELIVERY=request``, otherwise a worker's."""
    if message.id is None:
        session.flush()
    enqueue(session, SEND_MESSAGE, {"message_id": message.id}, key=f"phone:{message.id}")


@job(SEND_MESSAGE, max_attempts=MAX_ATTEMPTS + 1)
def send_message(session: Session, payload: dict, _key: str) -> None:
    """Deliver one message unless it left already (the claim makes a second run a no-op);
    raises while the provider cannot take it, so the job backs off and tries again. A
    fallback SMS gets its own job."""
    session.commit()
    deliver_one(session, payload["message_id"], current_gateways())
    message = session.get(PhoneMessage, payload["message_id"], populate_existing=True)
    if message is not None and message.status == QUEUED and message.attempts < MAX_ATTEMPTS:
        raise MessageNotSent(message.last_error or "the provider could not take it")


def sends_at_once() -> bool:
    """Whether messages leave right after their change commits (``MAIL_DELIVERY=request``)
    or only from the scheduled ``flask send-messages`` (``worker``)."""
    return current_app.config.get("MAIL_DELIVERY", "request") == "request"


def requeue_stale(session: Session, now: datetime) -> int:
    """Give back messages a dead worker left ``sending``; returns how many."""
    result = session.execute(
        update(PhoneMessage)
        .where(PhoneMessage.status == SENDING, PhoneMessage.status_at < now - STALE_CLAIM)
        .values(status=QUEUED)
    )
    return result.rowcount or 0


def deliver_pending(
    session: Session, gateways: Gateways, limit: int = 50, only_ids: list[int] | None = None
) -> int:
    """Deliver queued messages (``only_ids``: just those), oldest first, fallbacks included;
    returns how many a provider accepted. Call it with no transaction of the caller's open:
    it commits its own short ones."""
    with write_transactions():
        session.rollback()
        requeue_stale(session, utcnow())
        statement = select(PhoneMessage.id).where(
            PhoneMessage.status == QUEUED, PhoneMessage.attempts < MAX_ATTEMPTS
        )
        if only_ids is not None:
            statement = statement.where(PhoneMessage.id.in_(only_ids or [-1]))
        ids = list(session.scalars(statement.order_by(PhoneMessage.id).limit(limit)))
        session.commit()
    sent = 0
    while ids:
        accepted, fallback_id = deliver_one(session, ids.pop(0), gateways)
        sent += accepted
        if fallback_id is not None:
            ids.append(fallback_id)
    return sent


def deliver_one(session: Session, message_id: int, gateways: Gateways) -> tuple[bool, int | None]:
    """Send one queued message; returns whether it was accepted and the id of the fallback
    queued if it failed. A message not ``queued`` (sent, claimed by another worker, blocked)
    is left alone: retrying by id or by key never sends twice."""
    with write_transactions():
        session.rollback()
        now = utcnow()
        claimed = session.execute(
            update(PhoneMessage)
            .where(PhoneMessage.id == message_id, PhoneMessage.status == QUEUED)
            .values(status=SENDING, attempts=PhoneMessage.attempts + 1, status_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            session.commit()
            return False, None
        message = session.get(PhoneMessage, message_id, populate_existing=True)
        if is_opted_out(session, message.recipient):
            message.status, message.status_at = BLOCKED, now
            session.commit()
            return False, None
        outgoing = (
            message.channel,
            message.recipient,
            message.body,
            message.template,
            json.loads(message.variables or "[]"),
            message.language,
        )
        session.commit()
    provider_id, error, transient = None, "", False
    try:
        provider_id = _send(gateways, *outgoing)
    except MessagingUnavailable as failure:
        error, transient = str(failure), True
    except MessageRejected as failure:
        error = str(failure)
    with write_transactions():
        session.rollback()
        now = utcnow()
        message = session.get(PhoneMessage, message_id, populate_existing=True)
        fallback = None
        if provider_id is not None:
            message.status, message.provider_id = SENT, provider_id
            message.sent_at = message.status_at = now
            message.last_error = ""
        elif transient and message.attempts < MAX_ATTEMPTS:
            message.status, message.last_error = QUEUED, error[:2000]
        else:
            message.status, message.status_at, message.last_error = FAILED, now, error[:2000]
            fallback = fall_back(session, message)
        session.flush()
        fallback_id = fallback.id if fallback is not None else None
        session.commit()
    return provider_id is not None, fallback_id


def _send(gateways: Gateways, channel, recipient, body, template, variables, language) -> str:
    if channel == WHATSAPP:
        if gateways.whatsapp is None:
            raise MessageRejected("whatsapp is not configured")
        if template:
            return gateways.whatsapp.send_template(recipient, template, language, variables)
        return gateways.whatsapp.send_text(recipient, body)
    if gateways.sms is None:
        raise MessageRejected("sms is not configured")
    return gateways.sms.send(recipient, body)


def fall_back(session: Session, message: PhoneMessage) -> PhoneMessage | None:
    """Queue the SMS that replaces a failed WhatsApp message (same words, plain text). After
    SMS, email: a tourist's email twin went out anyway; a family's or guide's message is
    queued by email (``notice_emails``) when they have an address. Returns the SMS, if any."""
    if message.channel != WHATSAPP:
        notice_emails.queue_fallback(session, message)
        return None
    if is_opted_out(session, message.recipient):
        notice_emails.queue_fallback(session, message)
        return None
    base = message.key.removesuffix(f":{WHATSAPP}")
    return queue_message(
        session,
        key=f"{base}:{SMS}",
        kind=message.kind,
        channel=SMS,
        recipient=message.recipient,
        language=message.language,
        text=Text(message.body, "", []),
        association_id=message.association_id,
        booking_id=message.booking_id,
        family_id=message.family_id,
        user_id=message.user_id,
        fallback_of_id=message.id,
    )
