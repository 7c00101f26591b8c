"""The only module that talks to the WhatsApp Business Cloud API. Everything else sees plain
dataclasses.

Two kinds of message: a *template* (approved in advance by Meta, in Spanish or English, with
numbered variables), which may be sent at any time, and *free text*, which WhatsApp accepts
only within 24 hours of the recipient's last message to us (the "customer service window").
Callbacks (delivery statuses and what people write) are signed with the app secret in
``X-Hub-Signature-256``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from .phone_errors import MessageRejected, MessagingUnavailable, SignatureError

#: Meta's error code for free text outside the 24-hour window ("re-engagement message").
OUTSIDE_WINDOW = 131047

#: The statuses a callback may report, in the order a message goes through them.
STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class StatusUpdate:
    provider_id: str
    status: str
    error: str = ""


@dataclass(frozen=True)
class Inbound:
    provider_id: str
    sender: str  # E.164
    body: str


class WhatsAppGateway:
    """Sends through one WhatsApp Business phone number (``phone_number_id``)."""

    channel = "whatsapp"

    def __init__(
        self,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        app_secret: str = "",
        timeout: tuple[float, float] = (5.0, 10.0),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.app_secret = app_secret
        self.timeout = timeout

    def send_template(self, to: str, template: str, language: str, variables: list[str]) -> str:
        """Send the approved ``template`` in ``language`` (``es``/``en``) with its body
        variables; returns WhatsApp's message id."""
        return self._post(
            to,
            {
                "type": "template",
                "template": {
                    "name": template,
                    "language": {"code": language},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": v} for v in variables],
                        }
                    ],
                },
            },
        )

    def send_text(self, to: str, body: str) -> str:
        """Send free text (only inside the 24-hour window); returns WhatsApp's message id."""
        return self._post(to, {"type": "text", "text": {"preview_url": False, "body": body}})

    def _post(self, to: str, content: dict) -> str:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to.removeprefix("+"),
            **content,
        }
        try:
            response = requests.post(
                f"{self.base_url}/{self.phone_number_id}/messages",
                json=payload,
                headers={"Authorization": f"Bearer {self.access_token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise MessagingUnavailable(f"whatsapp: {type(error).__name__}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise MessagingUnavailable(f"whatsapp: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message", "") if isinstance(error, dict) else ""
            raise MessageRejected(f"whatsapp: HTTP {response.status_code} code {code} {message}")
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise MessagingUnavailable("whatsapp: an answer without a message id") from None

    def verify(self, raw_body: bytes, header: str | None) -> None:
        """Raise ``SignatureError`` unless ``header`` is ``sha256=<HMAC of the body>``."""
        if not self.app_secret or not header or not header.startswith("sha256="):
            raise SignatureError("missing signature")
        expected = hmac.new(self.app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header.removeprefix("sha256=")):
            raise SignatureError("wrong signature")


def parse_callback(payload: object) -> tuple[list[StatusUpdate], list[Inbound]]:
    """The statuses and inbound text messages in a (verified) callback body; anything else
    in it (other fields, media messages) is ignored."""
    statuses: list[StatusUpdate] = []
    inbound: list[Inbound] = []
    if not isinstance(payload, Mapping):
        return statuses, inbound
    for entry in _list(payload.get("entry")):
        for change in _list(_get(entry, "changes")):
            value = _get(change, "value")
            for status in _list(_get(value, "statuses")):
                provider_id, state = _get(status, "id"), _get(status, "status")
                if _clean(provider_id) and state in STATUSES:
                    errors = _list(_get(status, "errors"))
                    detail = _get(errors[0], "title") if errors else ""
                    statuses.append(StatusUpdate(provider_id, state, str(detail or "")))
            for message in _list(_get(value, "messages")):
                provider_id, sender = _get(message, "id"), _get(message, "from")
                body = _get(_get(message, "text"), "body")
                if _clean(provider_id) and _clean(sender) and isinstance(body, str):
                    inbound.append(
                        Inbound(provider_id, "+" + sender.lstrip("+"), body.replace("\x00", ""))
                    )
    return statuses, inbound


def _clean(value: object) -> bool:
    """An id we can keep: text without NUL (which no database stores)."""
    return isinstance(value, str) and "\x00" not in value


def _get(obj: object, name: str) -> object:
    return obj.get(name) if isinstance(obj, Mapping) else None


def _list(obj: object) -> list:
    return obj if isinstance(obj, list) else []


def gateway_from_config(config: Mapping) -> WhatsAppGateway | None:
    """The gateway the settings describe, or ``None`` when WhatsApp is not configured."""
    if not (config.get("WHATSAPP_PHONE_NUMBER_ID") and config.get("WHATSAPP_ACCESS_TOKEN")):
        return None
    return WhatsAppGateway(
        config["WHATSAPP_API_BASE"],
        config["WHATSAPP_PHONE_NUMBER_ID"],
        config["WHATSAPP_ACCESS_TOKEN"],
        config.get("WHATSAPP_APP_SECRET", ""),
        timeout=(config["MESSAGING_CONNECT_TIMEOUT"], config["MESSAGING_READ_TIMEOUT"]),
    )
