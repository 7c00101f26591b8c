"""The only module that talks to Stripe. Everything else sees plain dataclasses.

Amounts are integer cents. Every call that creates something carries an idempotency key, so
a retried request never creates a second PaymentIntent or refund.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import stripe
from flask import current_app

#: Stripe's own default: events signed more than five minutes ago are refused.
SIGNATURE_TOLERANCE_SECONDS = 300


class GatewayError(Exception):
    """Stripe could not be reached or failed; the caller may retry later."""


class PaymentDeclined(Exception):
    """Stripe refused the request itself (e.g. refunding a failed payment)."""


class SignatureError(Exception):
    """A webhook whose signature is missing, wrong or too old."""


#: The longest event id and type we record (``ProviderEvent`` columns).
MAX_EVENT_ID, MAX_EVENT_TYPE = 255, 100

#: What Stripe's ids (``evt_…``, ``pi_…``, ``dp_…``) and event types are made of. Anything
#: else, a NUL character above all (which PostgreSQL refuses in text), cannot be Stripe's.
STRIPE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


def stripe_ref(value, max_length: int = MAX_EVENT_ID) -> str:
    """``value`` if it looks like a Stripe id, else an empty string."""
    if isinstance(value, str) and len(value) <= max_length and STRIPE_TOKEN.fullmatch(value):
        return value
    return ""


@dataclass(frozen=True)
class IntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    charge_id: str | None
    fee_cents: int | None
    metadata: dict = field(default_factory=dict)
    failure_message: str = ""
    #: What Stripe actually received (``amount_received``); None until it has received any.
    amount_received: int | None = None

    def matches(self, amount_cents: int, currency: str) -> bool:
        """Whether this intent received exactly ``amount_cents`` in ``currency``."""
        return self.currency == currency.upper() and self.amount_received == amount_cents


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount: int
    status: str
    charge_id: str | None
    currency: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeInfo:
    id: str
    payment_intent_id: str | None
    amount: int
    amount_refunded: int
    refunds: tuple[RefundInfo, ...]


@dataclass(frozen=True)
class EventInfo:
    id: str
    type: str
    created: int
    #: The object the event is about, as sent (a trigger only: re-read before acting).
    object: dict


def _get(obj, name, default=None):
    """Attribute access that works for SDK objects, expanded or not, and plain dicts."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _metadata(obj) -> dict[str, str]:
    metadata = _get(obj, "metadata") or {}
    if isinstance(metadata, stripe.StripeObject):  # SDK 16 objects are not mappings
        metadata = metadata.to_dict()
    return {key: str(value) for key, value in dict(metadata).items()}


def _refund(refund) -> RefundInfo:
    return RefundInfo(
        refund.id,
        int(refund.amount),
        refund.status,
        _id(_get(refund, "charge")),
        str(_get(refund, "currency") or "").upper(),
        _metadata(refund),
    )


def _id(obj) -> str | None:
    if obj is None or isinstance(obj, str):
        return obj
    return _get(obj, "id")


class StripeGateway:
    def __init__(
        self,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        js_url: str = "https://js.stripe.com/v3/",
        max_network_retries: int = 1,
        http_client: stripe.HTTPClient | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> None:
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.js_url = js_url
        self.max_network_retries = max_network_retries
        self.timeouts = (connect_timeout, read_timeout)
        addresses = {"api": api_base.rstrip("/")} if api_base else None
        if http_client is None:
            # The SDK's default waits 80 s per try: far too long for a visitor or a worker.
            http_client = stripe.RequestsClient(timeout=self.timeouts)
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,
            max_network_retries=max_network_retries,
            http_client=http_client,
        )

    @classmethod
    def from_config(cls, config) -> StripeGateway | None:
        """A gateway when Stripe is configured, else None (the site offers pay on arrival)."""
        if not (config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY")):
            return None
        return cls(
            secret_key=config["STRIPE_SECRET_KEY"],
            publishable_key=config["STRIPE_PUBLISHABLE_KEY"],
            webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or "",
            api_base=config.get("STRIPE_API_BASE") or None,
            js_url=config.get("STRIPE_JS_URL") or "https://js.stripe.com/v3/",
            max_network_retries=int(config.get("STRIPE_MAX_RETRIES", 1)),
            connect_timeout=float(config.get("STRIPE_CONNECT_TIMEOUT", 5)),
            read_timeout=float(config.get("STRIPE_READ_TIMEOUT", 20)),
        )

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayError(str(exc)) from exc
        except stripe.InvalidRequestError as exc:
            raise PaymentDeclined(str(exc)) from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 500) >= 500:
                raise GatewayError(str(exc)) from exc
            raise PaymentDeclined(str(exc)) from exc

    # PaymentIntents ---------------------------------------------------------------------

    def _intent(self, intent) -> IntentInfo:
        charge = _get(intent, "latest_charge")
        fee = None
        balance = _get(charge, "balance_transaction") if not isinstance(charge, str) else None
        if balance is not None and not isinstance(balance, str):
            fee = _get(balance, "fee")
        error = _get(intent, "last_payment_error")
        metadata = _metadata(intent)
        received = _get(intent, "amount_received")
        if received is None and intent.status == "succeeded":
            # The emulator has no ``amount_received``: what the succeeded charge took.
            received = _get(charge, "amount") if not isinstance(charge, str) else None
            received = intent.amount if received is None else received
        return IntentInfo(
            id=intent.id,
            status=intent.status,
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
            client_secret=_get(intent, "client_secret"),
            charge_id=_id(charge),
            fee_cents=int(fee) if fee is not None else None,
            metadata=metadata,
            failure_message=str(_get(error, "message") or "") if error else "",
            amount_received=int(received) if received is not None else None,
        )

    def create_intent(
        self,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> IntentInfo:
        """A PaymentIntent for ``amount_cents``. The booking's reference goes in the metadata,
        not in ``description`` (which the stock emulator refuses; Stripe's dashboard shows and
        searches metadata just as well)."""
        intent = self._call(
            self.client.v1.payment_intents.create,
            params={
                "amount": amount_cents,
                "currency": currency.lower(),
                "metadata": metadata,
                "payment_method_types": ["card"],
            },
            options={"idempotency_key": idempotency_key},
        )
        return self._intent(intent)

    def retrieve_intent(self, intent_id: str) -> IntentInfo:
        intent = self._call(
            self.client.v1.payment_intents.retrieve,
            intent_id,
            params={"expand": ["latest_charge.balance_transaction"]},
        )
        return self._intent(intent)

    def confirm_intent(self, intent_id: str, payment_method: str) -> IntentInfo:
        """Attach the card the tourist just set up in the browser, then confirm.

        Two calls (update, then confirm) rather than ``confirm(payment_method=…)``: both work
        on Stripe, and the local emulator only supports this form.
        """
        self._call(
            self.client.v1.payment_intents.update,
            intent_id,
            params={"payment_method": payment_method},
        )
        intent = self._call(self.client.v1.payment_intents.confirm, intent_id)
        return self._intent(intent)

    def create_setup_intent(self, idempotency_key: str) -> tuple[str, str]:
        """A SetupIntent for the card form; returns its id and client secret."""
        setup = self._call(
            self.client.v1.setup_intents.create,
            params={"payment_method_types": ["card"], "usage": "on_session"},
            options={"idempotency_key": idempotency_key},
        )
        return setup.id, setup.client_secret

    def setup_intent_payment_method(self, setup_intent_id: str) -> str | None:
        """The card saved by a confirmed SetupIntent (checked server-side, not trusted)."""
        setup = self._call(self.client.v1.setup_intents.retrieve, setup_intent_id)
        if setup.status != "succeeded":
            return None
        return _id(_get(setup, "payment_method"))

    def cancel_intent(self, intent_id: str) -> None:
        self._call(self.client.v1.payment_intents.cancel, intent_id)

    def recent_succeeded_intent_ids(self, since: datetime) -> Iterator[str]:
        """Ids of PaymentIntents that succeeded since ``since``, from the event log."""
        events = self._call(
            self.client.v1.events.list,
            params={
                "type": "payment_intent.succeeded",
                "created": {"gte": int(since.timestamp())},
                "limit": 100,
            },
        )
        for event in events.auto_paging_iter():
            yield _id(_get(event.data, "object"))

    # Refunds and charges ----------------------------------------------------------------

    def refund(
        self,
        intent_id: str,
        amount_cents: int,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> RefundInfo:
        params: dict = {"payment_intent": intent_id, "amount": amount_cents}
        if metadata:
            params["metadata"] = metadata
        refund = self._call(
            self.client.v1.refunds.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return _refund(refund)

    def retrieve_refund(self, refund_id: str) -> RefundInfo:
        return _refund(self._call(self.client.v1.refunds.retrieve, refund_id))

    def retrieve_charge(self, charge_id: str) -> ChargeInfo:
        charge = self._call(self.client.v1.charges.retrieve, charge_id)
        refunds = self._call(
            self.client.v1.refunds.list, params={"charge": charge_id, "limit": 100}
        )
        return ChargeInfo(
            id=charge.id,
            payment_intent_id=_id(_get(charge, "payment_intent")),
            amount=int(charge.amount),
            amount_refunded=int(_get(charge, "amount_refunded") or 0),
            refunds=tuple(_refund(r) for r in refunds.data if _id(r.charge) == charge_id),
        )

    # Webhooks ---------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature_header: str | None) -> EventInfo:
        """Check the signature on the raw body; raise ``SignatureError`` if it fails."""
        if not self.webhook_secret or not signature_header:
            raise SignatureError("missing signature or secret")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature_header,
                self.webhook_secret,
                SIGNATURE_TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise SignatureError(str(exc)) from exc
        try:
            body = json.loads(payload)
            event = EventInfo(
                id=str(body["id"]),
                type=str(body["type"]),
                created=int(body.get("created") or 0),
                object=dict(body["data"]["object"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # created: 1e999
            raise SignatureError("signed but malformed event") from exc
        # Stripe's ids and types are short; longer ones cannot be Stripe's (and would not fit
        # the columns that record which events were handled).
        if not stripe_ref(event.id) or not stripe_ref(event.type, MAX_EVENT_TYPE):
            raise SignatureError("signed but malformed event")
        return event


def current_gateway() -> StripeGateway | None:
    """The app's Stripe gateway, made once per app; None when Stripe is not configured (the
    site then offers pay on arrival only)."""
    app = current_app._get_current_object()
    if "stripe_gateway" not in app.extensions:
        app.extensions["stripe_gateway"] = StripeGateway.from_config(app.config)
    return app.extensions["stripe_gateway"]
