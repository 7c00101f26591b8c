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


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount: int
    status: str
    charge_id: str | None


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
        max_network_retries: int = 2,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.js_url = js_url
        addresses = {"api": api_base.rstrip("/")} if api_base else None
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
        metadata = _get(intent, "metadata") or {}
        if isinstance(metadata, stripe.StripeObject):  # SDK 16 objects are not mappings
            metadata = metadata.to_dict()
        return IntentInfo(
            id=intent.id,
            status=intent.status,
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
            client_secret=_get(intent, "client_secret"),
            charge_id=_id(charge),
            fee_cents=int(fee) if fee is not None else None,
            metadata={key: str(value) for key, value in dict(metadata).items()},
            failure_message=str(_get(error, "message") or "") if error else "",
        )

    def create_intent(
        self,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        description: str = "",
    ) -> IntentInfo:
        intent = self._call(
            self.client.v1.payment_intents.create,
            params={
                "amount": amount_cents,
                "currency": currency.lower(),
                "metadata": metadata,
                "description": description,
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

    def refund(self, intent_id: str, amount_cents: int, idempotency_key: str) -> RefundInfo:
        refund = self._call(
            self.client.v1.refunds.create,
            params={"payment_intent": intent_id, "amount": amount_cents},
            options={"idempotency_key": idempotency_key},
        )
        return RefundInfo(refund.id, int(refund.amount), refund.status, _id(refund.charge))

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
            refunds=tuple(
                RefundInfo(r.id, int(r.amount), r.status, _id(r.charge))
                for r in refunds.data
                if _id(r.charge) == charge_id
            ),
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
