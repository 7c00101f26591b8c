"""What the WhatsApp and SMS gateways raise; shared so that ``dispatch`` treats both alike."""

from __future__ import annotations


class MessagingUnavailable(Exception):
    """The provider could not be reached, timed out, throttled (429) or failed (5xx): the
    same message may be tried again later."""


class MessageRejected(Exception):
    """The provider refused this message (a wrong number, a blocked recipient, WhatsApp
    free text outside the 24-hour window): trying again will not help, fall back."""


class SignatureError(Exception):
    """A callback whose signature is missing or wrong."""
