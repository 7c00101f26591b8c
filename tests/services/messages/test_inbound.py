"""What the providers send us, read the way the tourists and the providers mean it: every
kind of message has a name on the pages, keywords are found in any width and punctuation,
inbound text is kept without what would disguise it, and a status is not lost for arriving
before our own record of the message."""

from __future__ import annotations

import pytest

from tourism.services.messages import conversations, message_log, phone_texts, phones
from tourism.services.messages.whatsapp_gateway import parse_callback


def test_every_kind_of_message_has_a_name_on_the_pages():
    kinds = set(phone_texts.TEMPLATES) | {"opted_in", "reply", "inbound"}
    assert kinds <= set(message_log.KIND_LABELS), kinds - set(message_log.KIND_LABELS)


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop ", "Baja.", "¿Stop?", "stop\u200b", "ＳＴＯＰ", "STOP ALL", "Parar", "detener"],
)
def test_stop_in_the_ways_people_write_it(text):
    assert phones.is_stop(text)


def test_the_providers_own_stop_words_stop_sms_but_not_a_whatsapp_question():
    for word in ("CANCEL", "End", "quit"):
        assert phones.is_stop(word, "sms")
        assert not phones.is_stop(word, "whatsapp")  # "cancel" there is about the booking
    assert not phones.is_stop("Stop by the river first?")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("\x07\x1b[31mred\x1b[0m\r\nline2\u202eevil", "[31mred[0m\nline2evil"),
        ("  hola  ", "hola"),
        ("\u200b \u202e", ""),
        ("", ""),
    ],
)
def test_inbound_text_is_kept_without_what_would_disguise_it(sent, kept):
    assert conversations.inbound_text(sent) == kept


def test_a_callback_with_nul_keeps_what_it_can_store():
    payload = {
        "entry": [
            {
                "changes": [
                    {
                        "value": {
                            "statuses": [{"id": "wamid.A\x00", "status": "delivered"}],
                            "messages": [
                                {
                                    "id": "wamid.B",
                                    "from": "593991234590",
                                    "text": {"body": "hola\x00mundo"},
                                },
                                {
                                    "id": "wamid.C\x00",
                                    "from": "593991234590",
                                    "text": {"body": "x"},
                                },
                            ],
                        }
                    }
                ]
            }
        ]
    }
    statuses, inbound = parse_callback(payload)
    assert statuses == []
    assert [(m.provider_id, m.body) for m in inbound] == [("wamid.B", "holamundo")]
