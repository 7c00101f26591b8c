"""Webhooks to resellers: we tell a reseller when one of its bookings changes on our side
(a departure cancelled for weather, the guest cancelling from the voucher's link).

- **Written with the change.** ``booking_changed`` adds a ``WebhookDelivery`` row in the same
  database transaction as the change, so a change that rolls back posts nothing and a change
  that commits is never forgotten.
- **Sent later, never under a lock.** ``deliver_due`` (``flask deliver-webhooks``) claims each
  due row with a short lease and commits, posts it with a bounded timeout outside any
  transaction, then records the answer and commits again; two runs at once skip each other's
  rows. A 2xx answer delivers; anything else (or no answer) retries after 1, 2, 4, 8…
  minutes (at most 6 hours), and after ``MAX_ATTEMPTS`` we give up (``failed``).
- **Signed.** Each post carries ``Chakra-Signature: t=<unix time>,v1=<hex>``, the
  HMAC-SHA256 of ``"<t>.<body>"`` with the reseller's secret, and ``Chakra-Event-Id`` (the
  same on every attempt: the reseller applies an event once). The body is a trigger: the
  booking's uuid, references and new status; the reseller reads the booking itself with
  ``GET /octo/bookings/{uuid}``.
- **No server-side request forgery.** The address must be ``https`` in production, may not
  carry credentials, and must resolve only to public addresses (no loopback, private,
  link-local, reserved or multicast), checked when it is saved and again at each post, and
  the post connects to the address that was checked. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...errors import InvalidRequest
from ...models import Booking, ChannelBooking, Reseller, User, WebhookDelivery
from ...text_input import has_control_characters
from ..access import audit
from .products import utc_text
from .route_representation import webhook_booking

EVENT_BOOKING_UPDATE = "booking_update"
#: The reason posted when the guest cancels from their own page (the voucher link).
GUEST_CANCELLED = "cancelled by the guest"
#: The reason posted when the association's staff cancel one booking (the tourist phoned,
#: or the association had to call the party off).
ASSOCIATION_CANCELLED = "cancelled by the association"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SIGNATURE_HEADER = "Chakra-Signature"
EVENT_HEADER = "Chakra-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a visible prefix, not a secret)
URL_LIMIT = 500
#: Attempts before we give up on a post.
MAX_ATTEMPTS = 10
#: The pause after the first failed attempt; it doubles after each one, up to ``MAX_BACKOFF``.
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
#: How long a claimed post is left alone by other runs (longer than a post can take).
LEASE = timedelta(minutes=2)
#: Seconds to connect and to wait for the answer.
TIMEOUT_SECONDS = 5
#: Posts sent per run, at most.
BATCH = 200

WEBHOOK_SET = "reseller.webhook_set"
WEBHOOK_REMOVED = "reseller.webhook_removed"


@dataclass(frozen=True)
class UrlPolicy:
    """What a webhook address may be: ``https`` only (production), and whether private
    and loopback addresses are allowed (only the test suite's local receiver)."""

    require_https: bool = True
    allow_private: bool = False

    @classmethod
    def from_config(cls, config) -> UrlPolicy:
        return cls(
            require_https=config.get("CHAKRA_ENV") == "production",
            allow_private=bool(
                config.get("TESTING") and config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES")
            ),
        )


class UnsafeAddress(InvalidRequest):
    default_message = _l("That address cannot receive notifications: give a public https address.")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, policy: UrlPolicy) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of a webhook address we may post to; raises
    ``UnsafeAddress`` otherwise (see the module doc)."""
    url = (url or "").strip()
    if not url or len(url) > URL_LIMIT or has_control_characters(url) or " " in url:
        raise UnsafeAddress()  # a space or a line break would end the request line we send
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeAddress() from error
    if port == 0:
        raise UnsafeAddress()  # no server listens there; we would post to 443 instead
    allowed = ("https",) if policy.require_https else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise UnsafeAddress()
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def resolve(host: str, port: int, policy: UrlPolicy) -> str:
    """The address to connect to: every address the name resolves to must be public."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeAddress() from error
    addresses = [info[4][0] for info in found]
    if not addresses:
        raise UnsafeAddress()
    if not policy.allow_private and not all(_public(a) for a in addresses):
        raise UnsafeAddress()
    return addresses[0]


# Settings -------------------------------------------------------------------------------------


def set_webhook(
    session: Session, actor: User, reseller: Reseller, url: str, policy: UrlPolicy, now: datetime
) -> str:
    """Post the reseller's booking changes to ``url``, signed with a new secret, which is
    returned to be shown once."""
    scheme, host, port, _path = check_url(url, policy)
    resolve(host, port, policy)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    reseller.webhook_url, reseller.webhook_secret = url.strip(), secret
    session.flush()
    audit.record(
        session,
        WEBHOOK_SET,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        detail=f"{scheme}://{host}:{port}",
        at=now,
    )
    return secret


def remove_webhook(session: Session, actor: User, reseller: Reseller, now: datetime) -> None:
    """No more posts; the ones waiting are not sent (they are given up)."""
    reseller.webhook_url = reseller.webhook_secret = None
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.reseller_id == reseller.id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, next_attempt_at=None, last_error="webhook removed")
    )
    session.flush()
    audit.record(
        session,
        WEBHOOK_REMOVED,
        actor=actor,
        target=f"resellers:{reseller.id}",
        association_id=reseller.association_id,
        at=now,
    )


# Writing a post with the change -----------------------------------------------------------------


def booking_changed(
    session: Session, booking: Booking, now: datetime, reason: str = ""
) -> WebhookDelivery | None:
    """Queue a post telling the booking's reseller about its new state; nothing for a
    booking sold on our own site or a reseller without a webhook. Call it in the
    transaction that changes the booking."""
    channel = session.scalar(select(ChannelBooking).where(ChannelBooking.booking_id == booking.id))
    if channel is None or not channel.reseller.webhook_url:
        return None
    event_id = str(uuid.uuid4())
    body = {
        "webhook": {"id": event_id, "event": EVENT_BOOKING_UPDATE, "utcCreatedAt": utc_text(now)},
        # A leg of a route the reseller sold is told about as the route (its sale).
        "booking": webhook_booking(channel, booking, now, reason),
    }
    delivery = WebhookDelivery(
        reseller=channel.reseller,
        booking=booking,
        event=EVENT_BOOKING_UPDATE,
        event_id=event_id,
        payload=json.dumps(body, separators=(",", ":"), sort_keys=True),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


# Sending ----------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Chakra-Signature`` header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempts: int) -> timedelta:
    """The pause after ``attempts`` failed attempts: 1, 2, 4, 8… minutes, at most 6 hours."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


@dataclass(frozen=True)
class Post:
    url: str
    body: bytes
    headers: dict[str, str]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked, verifying the certificate of the host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post_json(post: Post, policy: UrlPolicy) -> int:
    """Send ``post``; returns the answer's status code. Raises ``OSError`` (no answer) or
    ``UnsafeAddress`` (the address is, or now resolves to, one we may not reach)."""
    scheme, host, port, path = check_url(post.url, policy)
    address = resolve(host, port, policy)
    if scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(
            address, host, port, TIMEOUT_SECONDS
        )
    else:
        connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT_SECONDS)
    try:
        headers = {"Host": host if port in (80, 443) else f"{host}:{port}", **post.headers}
        connection.request("POST", path, body=post.body, headers=headers)
        response = connection.getresponse()
        response.read(4096)
        return response.status
    finally:
        connection.close()


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(session: Session, delivery_id: int, now: datetime) -> Post | None:
    """Take one due post for ``LEASE`` (another run skips it), committed; ``None`` when
    another run took it first or it is no longer due."""
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.rollback()
        return None
    delivery = session.get(WebhookDelivery, delivery_id)
    reseller = delivery.reseller
    if not reseller.webhook_url or not reseller.webhook_secret:
        delivery.status, delivery.next_attempt_at = FAILED, None
        delivery.last_error = "webhook removed"
        session.commit()
        return None
    body = delivery.payload.encode()
    post = Post(
        reseller.webhook_url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "ChakraRoutes-Webhooks/1",
            EVENT_HEADER: delivery.event_id,
            SIGNATURE_HEADER: signature(reseller.webhook_secret, int(now.timestamp()), body),
        },
    )
    session.commit()
    return post


def _record(
    session: Session, delivery_id: int, now: datetime, status_code: int | None, error: str
) -> str:
    delivery = session.get(WebhookDelivery, delivery_id)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None
        delivery.last_error = ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = FAILED, None
        delivery.last_error = error[:300]
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.last_error = error[:300]
    result = delivery.status
    session.commit()
    return result


def deliver_due(
    session: Session,
    now: datetime,
    *,
    policy: UrlPolicy | None = None,
    send: Callable[[Post, UrlPolicy], int] | None = None,
) -> Report:
    """Send every post that is due at ``now`` (at most ``BATCH``); returns the counts.

    A job, not a request: it commits itself, after each claim and each answer, so no row or
    table lock is held while a reseller's server is being called.
    """
    policy = policy or UrlPolicy()
    send = send or post_json
    due = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
        )
    )
    session.rollback()
    report = Report()
    for delivery_id in due:
        post = _claim(session, delivery_id, now)
        if post is None:
            continue
        status_code, error = None, ""
        try:
            status_code = send(post, policy)
            if not 200 <= status_code < 300:
                error = f"answered {status_code}"
        except UnsafeAddress:
            error = "the address is not a public one"
        except (OSError, http.client.HTTPException) as problem:
            error = f"no answer: {type(problem).__name__}"
        outcome = _record(session, delivery_id, now, status_code, error)
        if outcome == DELIVERED:
            report.delivered += 1
        elif outcome == FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report


def deliveries(session: Session, reseller: Reseller, limit: int = 100) -> list[WebhookDelivery]:
    """The reseller's latest posts, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.reseller_id == reseller.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
