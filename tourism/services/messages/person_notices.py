"""One door for every notice to a host family or a guide: by the channel they chose.

WhatsApp or SMS when they chose it, agreed (``message_consent_at``) and their number has not
said STOP; otherwise by email when they have an address (a family's ``email``, a guide's
account). A phone message that fails on WhatsApp and on SMS ends by email too
(``dispatch.fall_back``). Tourists are not reached here: each of their messages is the phone
twin of a booking email that goes anyway (``phone_notices.queue_for_booking``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...i18n import available_locales
from ...models import Family, Notification, PhoneMessage, User
from ...models.messaging import WHATSAPP
from . import dispatch, notice_emails
from .phone_texts import Text
from .phones import EMAIL


def language_of(codes: str | None) -> str:
    """The first of someone's languages the site speaks (a family's ``qu,es`` → ``es``)."""
    offered = available_locales()
    for code in (codes or "").split(","):
        if code.strip() in offered:
            return code.strip()
    return "es"


def phone_channel(session: Session, holder: Family | User) -> str | None:
    """The phone channel a family or guide is reached by, or ``None`` (email, no consent,
    no number, or a number that said STOP)."""
    if holder.message_channel == EMAIL or holder.message_consent_at is None:
        return None
    if not holder.message_phone or dispatch.is_opted_out(session, holder.message_phone):
        return None
    return holder.message_channel if holder.message_channel in ("whatsapp", "sms") else WHATSAPP


def email_of(holder: Family | User) -> str:
    if isinstance(holder, User):
        return holder.email if holder.is_active_account else ""
    return holder.email or ""


def notify(
    session: Session,
    holder: Family | User,
    *,
    key: str,
    kind: str,
    text: Text,
    language: str,
    association_id: int | None,
) -> PhoneMessage | Notification | None:
    """Queue ``text`` for a family or guide under ``key`` (without its channel) by the way
    they are reached; returns the new row, or ``None`` when it was queued before or they
    cannot be reached. Only flushes."""
    channel = phone_channel(session, holder)
    if channel is not None:
        return dispatch.queue_message(
            session,
            key=f"{key}:{channel}",
            kind=kind,
            channel=channel,
            recipient=holder.message_phone,
            language=language,
            text=text,
            association_id=association_id,
            family_id=holder.id if isinstance(holder, Family) else None,
            user_id=holder.id if isinstance(holder, User) else None,
        )
    return notice_emails.queue_notice_email(
        session,
        key=notice_emails.email_key(key),
        kind=kind,
        recipient=email_of(holder),
        language=language,
        body=text.body,
    )
