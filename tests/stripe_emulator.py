"""A real local Stripe API for tests: localstripe's aiohttp app, served in-process.

``StripeEmulator().start()`` runs ``localstripe.server.app`` on its own asyncio loop in a
daemon thread, bound to 127.0.0.1 on a port the OS picks, with an empty store whose on-disk
dump goes to a private directory instead of the fixed ``/tmp/localstripe.pickle`` (so two
runs, or two xdist workers, never share state, and old state is never loaded).

localstripe is a partial emulator. A few features it lacks are added here, each as real
Stripe behaves (see ``_install_compat_patches``). A patch may only add what localstripe
lacks, never make it accept what it refuses from the app: the card flow must work with the
stock emulator the Makefile starts (tests/reliability/test_stock_emulator.py proves it; e.g.
stock localstripe refuses a PaymentIntent ``description``, so the gateway sends none).

* ``POST /v1/payment_intents/{id}/confirm`` accepts ``payment_method`` (it answered 500;
  Stripe attaches the method and confirms; the app itself updates then confirms),
  and after a decline a new payment method (given there or by updating the intent) may be
  confirmed again (it stayed stuck in ``requires_payment_method``);
* ``POST /v1/refunds`` refuses to refund more than is left on the charge, with a 400 like
  Stripe's (it silently accepted any amount), and without ``amount`` refunds what is left
  (it refunded the whole charge again);
* ``POST /v1/setup_intents/{id}/confirm`` refuses a SetupIntent that already succeeded or was
  canceled, with Stripe's 400 ``setup_intent_unexpected_state`` (it re-attached any new card),
  and a declined card leaves the SetupIntent in ``requires_payment_method`` so another card
  can be tried, as on Stripe (it canceled the SetupIntent).

Still missing (do not test against it): idempotency keys (ignored: a retried create makes a
second object), disputes, Checkout Sessions, the ``charge.refunded`` event, non-zero fees.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import pickle
import shutil
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path

import requests
import stripe
from aiohttp import web
from localstripe import resources as ls_resources
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError

# localstripe registers plain (non-async) request handlers, which aiohttp >= 3.10 accepts but
# warns about once per route, when localstripe.server is imported. Only that warning, only here.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Bare functions are deprecated", category=DeprecationWarning
    )
    from localstripe.server import api_extra
    from localstripe.server import app as localstripe_app

__all__ = ["StripeEmulator", "sign_event"]

_lock = threading.Lock()
_running: StripeEmulator | None = None


def sign_event(payload: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The raw body and ``Stripe-Signature`` header Stripe would send for ``payload``."""
    body = json.dumps(payload, sort_keys=True).encode("utf-8")
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), secret, timestamp=timestamp
    )
    return body, header


def _hmac_header(body: bytes, secret: str, timestamp: int) -> str:
    """The same header computed by hand (kept to check the SDK helper against)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# Compatibility patches --------------------------------------------------------------------

_PATCHES_INSTALLED = False


def _install_compat_patches() -> None:
    """Make localstripe accept what real Stripe accepts from our gateway (idempotent)."""
    global _PATCHES_INSTALLED
    if _PATCHES_INSTALLED:
        return
    PaymentIntent = ls_resources.PaymentIntent
    Refund = ls_resources.Refund
    Charge = ls_resources.Charge

    original_confirm = PaymentIntent._api_confirm.__func__

    def pi_confirm(cls, id, payment_method=None, **kwargs):
        if payment_method is not None:
            obj = cls._api_retrieve(id)
            if not isinstance(payment_method, str) or not payment_method.startswith("pm_"):
                raise UserError(400, "Bad request")
            ls_resources.PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
            if obj.status not in ("requires_payment_method", "requires_confirmation"):
                raise UserError(400, "Bad request")
            obj.payment_method = payment_method
            if obj.latest_charge is not None and obj.latest_charge.status == "failed":
                obj.latest_charge = None  # a new attempt after a decline, as on Stripe
        return original_confirm(cls, id, **kwargs)

    original_pi_update = PaymentIntent._update

    def pi_update(self, **data):
        retry = data.get("payment_method") is not None and self.status == "requires_payment_method"
        original_pi_update(self, **data)
        if retry and self.latest_charge is not None and self.latest_charge.status == "failed":
            self.latest_charge = None  # a new card after a decline may be confirmed again

    original_refund_init = Refund.__init__

    def refund_init(self, charge=None, payment_intent=None, amount=None, **kwargs):
        charge_obj = None
        if isinstance(charge, str):
            charge_obj = ls_resources.store.get("charge:" + charge)
        elif isinstance(payment_intent, str):
            intent = ls_resources.store.get("payment_intent:" + payment_intent)
            charge_obj = intent.latest_charge if intent is not None else None
        wanted = ls_resources.try_convert_to_int(amount)
        if isinstance(charge_obj, Charge) and charge_obj.status != "failed":
            left = charge_obj.amount - charge_obj.amount_refunded
            if left <= 0:
                raise UserError(
                    400,
                    f"Charge {charge_obj.id} has already been refunded.",
                    {"code": "charge_already_refunded"},
                )
            if isinstance(wanted, int) and wanted > left:
                raise UserError(
                    400,
                    f"Refund amount ({wanted}) is greater than unrefunded amount on charge "
                    f"({left})",
                    {"code": "amount_too_large"},
                )
            if amount is None:
                amount = left  # no amount: refund what is left, as Stripe does
        original_refund_init(
            self, charge=charge, payment_intent=payment_intent, amount=amount, **kwargs
        )

    SetupIntent = ls_resources.SetupIntent
    original_seti_confirm = SetupIntent._api_confirm.__func__
    original_seti_attach = SetupIntent._attach_pm

    def seti_confirm(cls, id, **kwargs):
        obj = ls_resources.store.get("setup_intent:" + id) if isinstance(id, str) else None
        if obj is not None and obj.status in ("succeeded", "canceled"):
            done = (
                "succeeded after being previously confirmed"
                if obj.status == "succeeded"
                else "been canceled"
            )
            raise UserError(
                400,
                f"You cannot confirm this SetupIntent because it has already {done}.",
                {"code": "setup_intent_unexpected_state"},
            )
        return original_seti_confirm(cls, id, **kwargs)

    def seti_attach_pm(self, pm):
        try:
            original_seti_attach(self, pm)
        except UserError:
            # Stripe: "If the setup fails, the SetupIntent returns to requires_payment_method."
            self.status = "requires_payment_method"
            self.payment_method = None
            raise

    SetupIntent._api_confirm = classmethod(seti_confirm)
    SetupIntent._attach_pm = seti_attach_pm
    PaymentIntent._update = pi_update
    PaymentIntent._api_confirm = classmethod(pi_confirm)
    Refund.__init__ = refund_init
    # The routes captured the old bound classmethod when localstripe.server was imported.
    for route in localstripe_app.router.routes():
        resource = route.resource
        if (
            route.method == "POST"
            and resource is not None
            and resource.canonical == "/v1/payment_intents/{id}/confirm"
        ):
            route._handler = api_extra(PaymentIntent._api_confirm, None)
        if (
            route.method == "POST"
            and resource is not None
            and resource.canonical == "/v1/setup_intents/{id}/confirm"
        ):
            route._handler = api_extra(SetupIntent._api_confirm, None)
    _PATCHES_INSTALLED = True


# The emulator ------------------------------------------------------------------------------


class StripeEmulator:
    """localstripe on 127.0.0.1 in a background thread. One per process at a time."""

    def __init__(self, state_dir: str | Path | None = None) -> None:
        self._own_state_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="localstripe-"))
        self.state_file = self.state_dir / "localstripe.pickle"
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._saved_store_methods: tuple | None = None

    # Addresses

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Stripe emulator is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.base_url}/js.stripe.com/v3/"

    # Life cycle

    def start(self, timeout: float = 5.0) -> StripeEmulator:
        global _running
        with _lock:
            if _running is not None:
                raise RuntimeError("a Stripe emulator is already running in this process")
            _running = self
        try:
            _install_compat_patches()
            self._redirect_store()
            ls_resources.store.clear()
            ls_webhooks._webhooks.clear()
            self._thread = threading.Thread(target=self._serve, name="localstripe", daemon=True)
            self._thread.start()
            if not self._ready.wait(timeout):
                raise RuntimeError("the Stripe emulator did not start in time")
            if self._startup_error is not None:
                raise RuntimeError("the Stripe emulator failed to start") from (self._startup_error)
            self._wait_until_answering(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        global _running
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._thread = None
        self._loop = None
        ls_webhooks._webhooks.clear()
        ls_resources.store.clear()
        self._restore_store()
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        with _lock:
            if _running is self:
                _running = None

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _redirect_store(self) -> None:
        """Point localstripe's pickle dump at our directory; never read an old one."""
        store_class = type(ls_resources.store)
        self._saved_store_methods = (store_class.dump_to_disk, store_class.try_load_from_disk)
        state_file = self.state_file

        def dump_to_disk(store) -> None:
            with open(state_file, "wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)

        def try_load_from_disk(store) -> None:  # never load state from an earlier run
            return None

        store_class.dump_to_disk = dump_to_disk
        store_class.try_load_from_disk = try_load_from_disk

    def _restore_store(self) -> None:
        if self._saved_store_methods is not None:
            store_class = type(ls_resources.store)
            store_class.dump_to_disk, store_class.try_load_from_disk = self._saved_store_methods
            self._saved_store_methods = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        runner = web.AppRunner(localstripe_app, access_log=None, handle_signals=False)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
        except BaseException as exc:  # reported by start()
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:  # webhook deliveries still waiting
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with requests.get(self.js_url, timeout=1) as response:
                    if response.status_code == 200:
                        return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Stripe emulator at {self.base_url} does not answer")
            time.sleep(0.02)

    # Helpers

    def flush(self) -> None:
        """Forget every object (``DELETE /_config/data``); webhooks stay registered."""
        with requests.delete(f"{self.base_url}/_config/data", timeout=5) as response:
            response.raise_for_status()

    def register_webhook(
        self,
        url: str,
        secret: str,
        events: list[str] | None = None,
        webhook_id: str | None = None,
    ) -> str:
        """Have every new event (or only ``events``) POSTed, signed with ``secret``, to
        ``url`` about a second after it happens. Returns the id to unregister it with."""
        webhook_id = (
            webhook_id
            or "wh_"
            + hashlib.sha1(  # noqa: S324 - just a name
                f"{url}{time.monotonic_ns()}".encode()
            ).hexdigest()[:12]
        )
        data: list[tuple[str, str]] = [("url", url), ("secret", secret)]
        for event in events or ():
            data.append(("events[]", event))
        with requests.post(
            f"{self.base_url}/_config/webhooks/{webhook_id}", data=data, timeout=5
        ) as response:
            response.raise_for_status()
        return webhook_id

    def unregister_webhook(self, webhook_id: str) -> None:
        """localstripe has no endpoint for this; it shares our process, so drop it here."""
        loop = self._loop
        if loop is None:
            ls_webhooks._webhooks.pop(webhook_id, None)
            return
        done = threading.Event()

        def drop() -> None:
            ls_webhooks._webhooks.pop(webhook_id, None)
            done.set()

        loop.call_soon_threadsafe(drop)
        done.wait(5)

    @staticmethod
    def sign_event(payload: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        return sign_event(payload, secret, timestamp)


def free_port() -> int:
    """A port nothing listens on right now (for "Stripe is down" tests)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The card that always succeeds.
GOOD_CARD = "4242424242424242"


def confirm_card_setup(
    base_url: str, publishable_key: str, setup_secret: str, number: str = GOOD_CARD
) -> str:
    """What Stripe.js does in the browser: the card goes to Stripe (the emulator at
    ``base_url``), never to our server. Returns the SetupIntent's id."""
    setup_intent = setup_secret.split("_secret_")[0]
    response = requests.post(
        f"{base_url}/v1/setup_intents/{setup_intent}/confirm",
        data=json.dumps(
            {
                "key": publishable_key,
                "use_stripe_sdk": True,
                "client_secret": setup_secret,
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
                    "billing_details": {"name": "Ana Quispe"},
                },
            }
        ),
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    return setup_intent
