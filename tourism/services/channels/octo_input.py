"""What a reseller's request body may hold: its text fields, its uuid, the hold it asks
for and the guest's contact, each read and refused (``BAD_REQUEST``) as the web forms
refuse the same input."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from datetime import timedelta

from ...errors import DomainError
from ...text_input import ascii_whole_number, has_control_characters
from ..booking import contact_details
from . import octo_errors as errors


@dataclass(frozen=True)
class Terms:
    """What the site allows a channel reservation: its longest hold and the languages a
    booking may be in."""

    hold_max: timedelta
    languages: list[str]


def text_field(body: dict, name: str, limit: int, multiline: bool = False) -> str | None:
    """A text field of the body, as the web forms take it: no control characters, and no
    line breaks unless ``multiline`` (a reference or a name ends up in a CSV cell, an
    email's line or the guide's list)."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise errors.bad_request(f"{name} must be text of at most {limit} characters")
    if has_control_characters(value, multiline):
        kinds = "control characters" if multiline else "control characters or line breaks"
        raise errors.bad_request(f"{name} may not contain {kinds}")
    return value.strip()


def booking_uuid_as_kept(value):
    """A uuid as a booking keeps it (lower case, as ``given_uuid`` wrote it): a reseller
    that writes it in capitals finds the booking it made. Anything else as it came."""
    if isinstance(value, str) and len(value) == 36:
        try:
            return str(uuid_module.UUID(value))
        except ValueError:
            pass
    return value


def hold_length(body: dict, terms: Terms) -> timedelta:
    """The hold the reseller asked for, bounded by ours; ours when it asked for none."""
    raw = body.get("expirationMinutes")
    if raw is None:
        return terms.hold_max
    if isinstance(raw, str):  # the update body describes it as text
        raw = ascii_whole_number(raw, max_digits=6)
    if type(raw) is not int or raw < 1:
        raise errors.bad_request("expirationMinutes must be a whole number of minutes, 1 or more")
    return min(timedelta(minutes=min(raw, 100_000)), terms.hold_max)


def given_uuid(body: dict) -> str:
    raw = body.get("uuid")
    if raw is None:
        return str(uuid_module.uuid4())
    try:
        if not isinstance(raw, str) or len(raw) != 36:
            raise ValueError
        return str(uuid_module.UUID(raw))
    except ValueError as exc:
        raise errors.bad_request("uuid must be a UUID") from exc


def language(locales, languages: list[str]) -> str:
    for tag in locales if isinstance(locales, list) else []:
        if isinstance(tag, str):
            primary = tag.split("-")[0].lower()
            if primary in languages:
                return primary
    return "en" if "en" in languages else languages[0]


def guest_contact(contact, languages: list[str]) -> contact_details.ContactDetails:
    """OCTO's contact as our booking's contact, checked as the website checks it."""
    if not isinstance(contact, dict):
        raise errors.bad_request("contact is required")
    fields = {}
    for name in (
        "fullName",
        "firstName",
        "lastName",
        "emailAddress",
        "phoneNumber",
        "country",
        "notes",
    ):
        fields[name] = text_field(contact, name, 1000, multiline=name == "notes") or ""
    name = fields["fullName"] or " ".join(
        part for part in (fields["firstName"], fields["lastName"]) if part
    )
    details = contact_details.ContactDetails(
        name=name,
        email=fields["emailAddress"],
        phone=fields["phoneNumber"],
        country=fields["country"],
        language=language(contact.get("locales"), languages),
    )
    try:
        return contact_details.validate_contact(details, languages)
    except DomainError as error:
        raise errors.bad_request(str(error)) from error
