"""The two gateways on their own: what they send, how they read failures, and the callback
signatures they verify (the fake refuses what the real providers refuse)."""

from __future__ import annotations

import pytest

from tests.messaging_fake import APP_SECRET, AUTH_TOKEN, whatsapp_signature
from tourism.services.messages import phones, sms_gateway, whatsapp_gateway
from tourism.services.messages.phone_errors import (
    MessageRejected,
    MessagingUnavailable,
    SignatureError,
)

PHONE = "+593991234567"


@pytest.fixture
def config(messaging_fake):
    return {
        **messaging_fake.config(),
        "MESSAGING_CONNECT_TIMEOUT": 1.0,
        "MESSAGING_READ_TIMEOUT": 0.5,
        "PUBLIC_URL": "https://chakra.example",
    }


def test_a_wrong_access_token_is_refused_by_the_provider(config, messaging_fake):
    gateway = whatsapp_gateway.gateway_from_config({**config, "WHATSAPP_ACCESS_TOKEN": "x"})
    with pytest.raises(MessageRejected, match="401"):
        gateway.send_template(PHONE, "booking_reminder", "es", ["a"])
    sms = sms_gateway.gateway_from_config({**config, "SMS_AUTH_TOKEN": "x"})
    with pytest.raises(MessageRejected, match="401"):
        sms.send(PHONE, "Hola")
    assert messaging_fake.state.sent == []


def test_template_variables_may_not_hold_new_lines(config, messaging_fake):
    gateway = whatsapp_gateway.gateway_from_config(config)
    with pytest.raises(MessageRejected):
        gateway.send_template(PHONE, "family_visitors", "es", ["line one\nline two"])
    assert gateway.send_template(PHONE, "family_visitors", "es", ["one; two"]).startswith("wamid.")


def test_a_slow_provider_times_out_and_an_unreachable_one_is_unavailable(config, messaging_fake):
    messaging_fake.state.slow_seconds = 1.5
    messaging_fake.state.fail_next("sms", "timeout")
    gateway = sms_gateway.gateway_from_config(config)
    with pytest.raises(MessagingUnavailable, match="Timeout"):
        gateway.send(PHONE, "Hola")
    closed = sms_gateway.gateway_from_config({**config, "SMS_API_BASE": "http://127.0.0.1:9"})
    with pytest.raises(MessagingUnavailable):
        closed.send(PHONE, "Hola")


def test_whatsapp_signatures(config):
    gateway = whatsapp_gateway.gateway_from_config(config)
    body = b'{"entry": []}'
    gateway.verify(body, whatsapp_signature(body))
    for header in (
        None,
        "",
        "sha256=00",
        whatsapp_signature(body + b" "),
        whatsapp_signature(body, "other"),
    ):
        with pytest.raises(SignatureError):
            gateway.verify(body, header)
    unsigned = whatsapp_gateway.gateway_from_config({**config, "WHATSAPP_APP_SECRET": ""})
    with pytest.raises(SignatureError):  # without a secret nothing is accepted
        unsigned.verify(body, whatsapp_signature(body, ""))
    assert APP_SECRET


def test_twilio_signatures_cover_the_url_and_every_field(config):
    gateway = sms_gateway.gateway_from_config(config)
    url = "https://chakra.example/webhooks/sms/status"
    form = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    good = sms_gateway.signature(AUTH_TOKEN, url, form)
    gateway.verify(url, form, good)
    for wrong_url, wrong_form in (
        (url + "?x=1", form),
        (url, {**form, "MessageStatus": "failed"}),
        (url, {**form, "Extra": ""}),
    ):
        with pytest.raises(SignatureError):
            gateway.verify(wrong_url, wrong_form, good)
    with pytest.raises(SignatureError):
        gateway.verify(url, form, None)


def test_twilios_published_example_signature():
    # The example of Twilio's published request-validation snippets (TwilioDevEd/api-snippets).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    form = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }
    assert sms_gateway.signature("12345", url, form) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+593 99 123 4567", PHONE),
        ("099 123 4567", PHONE),
        ("(099) 123-4567", PHONE),
        ("+1 415 555 2671", "+14155552671"),
    ],
)
def test_numbers_are_stored_in_e164(raw, expected):
    assert phones.to_e164(raw, "EC") == expected


@pytest.mark.parametrize("raw", ["", "12", "+593 12 345", "call me", "+999 123 456 789"])
def test_numbers_no_provider_would_take_are_refused(raw):
    with pytest.raises(phones.InvalidPhone):
        phones.to_e164(raw, "EC")


def test_callbacks_are_parsed_defensively():
    assert whatsapp_gateway.parse_callback("nonsense") == ([], [])
    assert whatsapp_gateway.parse_callback({"entry": [{"changes": [{"value": 3}]}]}) == ([], [])
    statuses, inbound = whatsapp_gateway.parse_callback(
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "statuses": [
                                    {"id": "wamid.1", "status": "delivered"},
                                    {"id": "wamid.2", "status": "bogus"},
                                ],
                                "messages": [
                                    {
                                        "id": "wamid.3",
                                        "from": "593991234567",
                                        "type": "text",
                                        "text": {"body": "Hola"},
                                    },
                                    {"id": "wamid.4", "from": "593991234567", "type": "image"},
                                ],
                            }
                        }
                    ]
                }
            ]
        }
    )
    assert statuses == [whatsapp_gateway.StatusUpdate("wamid.1", "delivered")]
    assert inbound == [whatsapp_gateway.Inbound("wamid.3", PHONE, "Hola")]
