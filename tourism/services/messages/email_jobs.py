"""The send-email job's kind and key, shared by every kind of email in the outbox (booking,
account and notice emails), so each queues its row and its job the same way."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...jobs.queue import enqueue
from ...models import Notification

#: The kind of the job that sends one notification (``outbox.send_email``).
SEND_EMAIL = "send-email"


def delivery_key(notification: Notification) -> str:
    """The send-email job's key: one job per notification, however often it is enqueued."""
    return f"email:{notification.key}"


def enqueue_delivery(session: Session, notification: Notification) -> int | None:
    """Enqueue the job that sends ``notification`` (in the caller's transaction); returns its
    id, or None when the notification has one already."""
    return enqueue(
        session, SEND_EMAIL, {"notification_id": notification.id}, key=delivery_key(notification)
    )
