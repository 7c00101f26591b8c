"""WhatsApp and SMS: messages to send (an outbox like ``Notification``), numbers that said
STOP, provider callbacks already applied, and what people wrote back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db

#: The channels a phone message can go by, in the order a failure falls back through them.
WHATSAPP, SMS = "whatsapp", "sms"
PHONE_CHANNELS = (WHATSAPP, SMS)

#: A message's life: ``queued`` until a provider accepts it (``sent``), then what the
#: provider's callbacks say; ``failed`` is final (its fallback, if any, is another row);
#: ``blocked`` means it was never sent (the number opted out before delivery).
QUEUED, SENT, DELIVERED, READ, FAILED, BLOCKED = (
    "queued",
    "sent",
    "delivered",
    "read",
    "failed",
    "blocked",
)


class PhoneMessage(db.Model):
    """One WhatsApp or SMS message, written in the transaction of the change it tells of and
    delivered after the commit (``services.messages.dispatch``).

    ``key`` is unique (``booking:42:confirmed:whatsapp``): replaying the event behind it, or
    retrying its delivery, never sends it twice.
    """

    __tablename__ = "phone_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    #: What it is about (``confirmed``, ``reminder``, ``family_visitors``, ``reply``…).
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    #: The number in E.164 (``+593991234567``).
    recipient: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(10), default="es")
    #: The text as sent (SMS, WhatsApp free text) and shown in the log; for a WhatsApp
    #: template, the same words the approved template produces.
    body: Mapped[str] = mapped_column(Text)
    #: The WhatsApp template's name and its variables (JSON list); empty for free text.
    template: Mapped[str] = mapped_column(String(60), default="")
    variables: Mapped[str] = mapped_column(Text, default="[]")
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    #: A guide the message is for.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=QUEUED, index=True)
    #: The provider's id for it (WhatsApp ``wamid…``, Twilio ``SM…``); callbacks name it.
    provider_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: The message this one replaces after it failed (WhatsApp → SMS).
    fallback_of_id: Mapped[int | None] = mapped_column(ForeignKey("phone_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking = relationship("Booking")
    family = relationship("Family")


class PhoneOptOut(db.Model):
    """A number that wrote STOP (or BAJA): nothing more is sent to it, whoever asks, until
    it asks again (START/ALTA, or its booking's page: ``opted_in_at``). The row stays as the
    record; a new STOP clears ``opted_in_at``."""

    __tablename__ = "phone_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The channel the STOP came by.
    channel: Mapped[str] = mapped_column(String(10))
    #: When the number asked for messages again after its last STOP; NULL: still stopped.
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.opted_in_at is None


class MessageCallback(db.Model):
    """A provider callback already applied (delivery status or inbound message); its key
    makes a redelivery a no-op."""

    __tablename__ = "message_callbacks"
    __table_args__ = (UniqueConstraint("provider", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10))
    #: ``<message id>:<status>`` for a status, the message id for an inbound message.
    event_key: Mapped[str] = mapped_column(String(160))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMessage(db.Model):
    """Something a person wrote to the association's number (other than STOP), shown on
    their booking with a reply box."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    sender: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    #: The booking of the sender's most recent opt-in, if any (else only the log shows it).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    booking = relationship("Booking")
