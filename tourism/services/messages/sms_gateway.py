"""The only module that talks to the SMS provider (Twilio's HTTP API, or any service that
speaks it). Everything else sees plain strings and dataclasses.

A message is a form POST to ``/2010-04-01/Accounts/<sid>/Messages.json`` with HTTP basic
auth; callbacks (statuses and inbound texts) are form posts signed in ``X-Twilio-Signature``:
the base64 HMAC-SHA1, keyed with the auth token, of the full callback URL followed by every
form field's name and value, sorted by name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import requests

from .phone_errors import MessageRejected, MessagingUnavailable, SignatureError

#: Twilio's statuses, and the ones we record (the others are steps on the way).
FINAL_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "read": "read",
}


class SmsGateway:
    channel = "sms"

    def __init__(
        self,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback: str = "",
        timeout: tuple[float, float] = (5.0, 10.0),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.status_callback = status_callback
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        """Send ``body`` to ``to`` (E.164); returns the provider's message id (``SM…``)."""
        form = {"To": to, "From": self.sender, "Body": body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            response = requests.post(
                f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
                data=form,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise MessagingUnavailable(f"sms: {type(error).__name__}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise MessagingUnavailable(f"sms: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 400:
            raise MessageRejected(
                f"sms: HTTP {response.status_code} code {answer.get('code')} "
                f"{answer.get('message', '')}"
            )
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise MessagingUnavailable("sms: an answer without a message id")
        return sid

    def verify(self, url: str, form: Mapping[str, str], header: str | None) -> None:
        """Raise ``SignatureError`` unless ``header`` signs ``url`` and ``form``."""
        if not header:
            raise SignatureError("missing signature")
        if not hmac.compare_digest(signature(self.auth_token, url, form), header):
            raise SignatureError("wrong signature")


def signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """Twilio's request signature of a callback to ``url`` carrying ``form``."""
    data = url + "".join(f"{name}{form[name]}" for name in sorted(form))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def gateway_from_config(config: Mapping) -> SmsGateway | None:
    """The gateway the settings describe, or ``None`` when SMS is not configured."""
    if not (
        config.get("SMS_ACCOUNT_SID") and config.get("SMS_AUTH_TOKEN") and config.get("SMS_FROM")
    ):
        return None
    public = str(config.get("PUBLIC_URL", "")).rstrip("/")
    return SmsGateway(
        config["SMS_API_BASE"],
        config["SMS_ACCOUNT_SID"],
        config["SMS_AUTH_TOKEN"],
        config["SMS_FROM"],
        status_callback=f"{public}/webhooks/sms/status" if public else "",
        timeout=(config["MESSAGING_CONNECT_TIMEOUT"], config["MESSAGING_READ_TIMEOUT"]),
    )
