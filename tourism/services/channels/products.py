"""Experiences and departures as OCTO sees them.

An experience is a product with one option, ``DEFAULT``; its active price categories are the
units (``adult`` → ``ADULT``…); each departure is an availability slot (``START_TIME``) whose
id is the departure's id and whose vacancies are the seats left, counted as the website
counts them (``services.booking.availability``). Prices are integer cents with the currency;
``net`` is the retail price less the reseller's commission, or its net rate per ticket when it
has one on the experience (``ledger.shares.unit_commission``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Departure,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    PriceCategory,
    Reseller,
)
from ...text_input import ascii_whole_number
from ...timefmt import display_zone, local
from ..ledger.shares import unit_commission
from . import octo_errors as errors
from .resellers import commission_for, may_sell, net_rate_for

OPTION_ID = "DEFAULT"
#: Our price category codes as OCTO unit types; any other code is ``OTHER``.
UNIT_TYPES = {"adult": "ADULT", "child": "CHILD", "senior": "SENIOR", "student": "STUDENT"}
#: The longest span one availability request may cover.
MAX_DAYS = 366
#: The days a date in a request may name: any later and a range's end, or a route's last
#: leg, would run past the last day Python can count.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
#: What a reseller must send with the confirmation: our booking needs a name to call the
#: party by, an email and a phone to reach it, and its country.
REQUIRED_CONTACT_FIELDS = ["firstName", "lastName", "emailAddress", "phoneNumber", "country"]


def utc_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_text(moment: datetime) -> str:
    return local(moment).replace(microsecond=0).isoformat()


def commission_cents(retail_cents: int, commission_bp: int, net_cents: int | None = None) -> int:
    """The reseller's part of one price: its commission rounded to the nearest cent, or with
    a net rate the retail less the net (``ledger.shares.unit_commission``)."""
    return unit_commission(retail_cents, commission_bp, net_cents)


def price(
    retail_cents: int, currency: str, commission_bp: int, net_cents: int | None = None
) -> dict:
    """OCTO's price object (octo/pricing): integer minor units and their precision."""
    return {
        "original": retail_cents,
        "retail": retail_cents,
        "net": retail_cents - commission_cents(retail_cents, commission_bp, net_cents),
        "currency": currency,
        "currencyPrecision": 2,
        "includedTaxes": [],
    }


def line_price(
    unit_cents: int,
    quantity: int,
    currency: str,
    commission_bp: int,
    net_cents: int | None = None,
) -> dict:
    """The price of ``quantity`` units: the reseller's commission is per unit, so a line's
    net is always the unit net times the quantity."""
    net = unit_cents - commission_cents(unit_cents, commission_bp, net_cents)
    return price(unit_cents, currency, 0) | {
        "original": unit_cents * quantity,
        "retail": unit_cents * quantity,
        "net": net * quantity,
    }


def sum_prices(prices: Iterable[dict], currency: str) -> dict:
    total = {"original": 0, "retail": 0, "net": 0}
    for item in prices:
        for key in total:
            total[key] += item[key]
    return total | {"currency": currency, "currencyPrecision": 2, "includedTaxes": []}


# Looking things up -------------------------------------------------------------------------


def sellable_products(session: Session, reseller: Reseller) -> list[Experience]:
    """The published experiences the reseller may sell, in a stable order."""
    return [e for e in reseller.experiences if e.status == ExperienceStatus.PUBLISHED]


def get_product(session: Session, reseller: Reseller, product_id) -> Experience:
    """The experience behind ``product_id`` if this reseller may sell it, else
    ``INVALID_PRODUCT_ID`` (another reseller's or association's product looks missing)."""
    if not isinstance(product_id, str) or not product_id or len(product_id) > 80:
        raise errors.OctoError(
            errors.INVALID_PRODUCT_ID, "The productId was missing or invalid", productId=""
        )
    experience = session.scalar(select(Experience).where(Experience.slug == product_id))
    if (
        experience is None
        or experience.status != ExperienceStatus.PUBLISHED
        or not may_sell(reseller, experience)
    ):
        raise errors.OctoError(
            errors.INVALID_PRODUCT_ID,
            "The productId was missing or invalid",
            productId=product_id,
        )
    return experience


def check_option(option_id) -> None:
    if option_id != OPTION_ID:
        raise errors.OctoError(
            errors.INVALID_OPTION_ID,
            "The optionId was missing or invalid",
            optionId=option_id if isinstance(option_id, str) else "",
        )


def active_units(experience: Experience) -> dict[str, PriceCategory]:
    return {pc.code: pc for pc in experience.price_categories if pc.is_active}


def get_departure(session: Session, experience: Experience, availability_id) -> Departure:
    """The departure of ``experience`` an availability id names, else
    ``INVALID_AVAILABILITY_ID``."""
    text = availability_id if isinstance(availability_id, str) else ""
    departure = None
    number = ascii_whole_number(text, leading_zeros=False)
    if number is not None:
        departure = session.get(Departure, number)
    if departure is None or departure.experience_id != experience.id or departure.is_private:
        raise errors.OctoError(
            errors.INVALID_AVAILABILITY_ID,
            "The availabilityId was missing or invalid",
            availabilityId=text,
        )
    return departure


def parse_day(value, name: str) -> date:
    if not isinstance(value, str):
        raise errors.bad_request(f"{name} is required as YYYY-MM-DD")
    try:
        day = date.fromisoformat(value) if len(value) == 10 else date.fromisoformat("x")
    except ValueError as exc:
        raise errors.bad_request(f"{name} must be a date written as YYYY-MM-DD") from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise errors.bad_request(f"{name} must be a date from {FIRST_DAY} to {LAST_DAY}")
    return day


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise errors.bad_request("localDateEnd must not be before localDateStart")
    if (end - start).days >= MAX_DAYS:
        raise errors.bad_request(f"cannot request more than {MAX_DAYS} days of availability")
    zone = display_zone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def parse_units(experience: Experience, units) -> dict[str, int] | None:
    """``[{"id": "adult", "quantity": 2}]`` as quantities per unit id; ``None`` if not sent."""
    if units is None:
        return None
    if not isinstance(units, list) or len(units) > 50:
        raise errors.bad_request("units must be a list of {id, quantity}")
    known = active_units(experience)
    wanted: dict[str, int] = {}
    for unit in units:
        if not isinstance(unit, dict):
            raise errors.bad_request("units must be a list of {id, quantity}")
        unit_id, quantity = unit.get("id"), unit.get("quantity")
        if not isinstance(unit_id, str) or unit_id not in known:
            # The availability error object has no ``unitId`` field: the message names it.
            shown = unit_id[:40] if isinstance(unit_id, str) else ""
            raise errors.OctoError(errors.INVALID_UNIT_ID, f"The unit id {shown!r} is not sold")
        if type(quantity) is not int or not 0 <= quantity <= 1000:
            raise errors.bad_request("quantity must be a whole number from 0 to 1000")
        wanted[unit_id] = wanted.get(unit_id, 0) + quantity
    return wanted


# Representations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    pricing: bool = False
    content: bool = False

    @property
    def names(self) -> list[str]:
        return [
            name
            for name, on in (("octo/content", self.content), ("octo/pricing", self.pricing))
            if on
        ]


def unit(
    category: PriceCategory, experience: Experience, reseller: Reseller, caps: Capabilities, label
) -> dict:
    data = {
        "id": category.code,
        "internalName": category.code,
        "reference": category.code,
        "type": UNIT_TYPES.get(category.code, "OTHER"),
        "requiredContactFields": [],
        "restrictions": {
            "minAge": 0,
            "maxAge": 100,
            "idRequired": False,
            "minQuantity": None,
            "maxQuantity": experience.max_tickets_per_booking,
            "paxCount": 1,
            "accompaniedBy": ["adult"] if category.code == "child" else [],
        },
    }
    if caps.pricing:
        data["pricingFrom"] = [
            price(
                category.price_cents,
                experience.currency,
                commission_for(reseller, experience),
                net_rate_for(reseller, experience),
            )
        ]
    if caps.content:
        data |= {
            "title": label(category.code),
            "titlePlural": label(category.code),
            "subtitle": None,
        }
    return data


def option(
    session: Session,
    experience: Experience,
    reseller: Reseller,
    caps: Capabilities,
    now: datetime,
    label,
    locale: str,
) -> dict:
    starts = session.scalars(
        select(Departure.starts_at).where(
            Departure.experience_id == experience.id,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at > now,
            Departure.starts_at < now + timedelta(days=90),
            Departure.group_request_id.is_(None),
        )
    )
    times = sorted({local(moment).strftime("%H:%M") for moment in starts})
    data = {
        "id": OPTION_ID,
        "default": True,
        "internalName": "DEFAULT",
        "reference": None,
        "availabilityLocalStartTimes": times,
        # A booking can be cancelled until its departure leaves (``cancel_booking``).
        "cancellationCutoff": "0 hours",
        "cancellationCutoffAmount": 0,
        "cancellationCutoffUnit": "hour",
        "requiredContactFields": REQUIRED_CONTACT_FIELDS,
        "restrictions": {"minUnits": 1, "maxUnits": experience.max_tickets_per_booking},
        "units": [
            unit(pc, experience, reseller, caps, label)
            for pc in experience.price_categories
            if pc.is_active
        ],
    }
    if caps.content:
        text = experience.text(locale)
        data |= {
            "title": text.title if text else experience.slug,
            "subtitle": None,
            "language": text.locale if text else None,
            "shortDescription": text.summary if text else None,
            "duration": f"{experience.duration_minutes} minutes",
            "durationAmount": str(experience.duration_minutes),
            "durationUnit": "minute",
        }
    return data


def product(
    session: Session,
    experience: Experience,
    reseller: Reseller,
    caps: Capabilities,
    now: datetime,
    label,
    locale: str,
) -> dict:
    text = experience.text(locale)
    data = {
        "id": experience.slug,
        "internalName": text.title if text else experience.slug,
        "reference": experience.slug,
        "locale": text.locale if text else locale,
        "timeZone": str(display_zone()),
        "allowFreesale": False,
        "instantConfirmation": True,
        "instantDelivery": True,
        "availabilityRequired": True,
        "availabilityType": "START_TIME",
        "deliveryFormats": ["QRCODE"],
        "deliveryMethods": ["VOUCHER"],
        "redemptionMethod": "DIGITAL",
        "options": [option(session, experience, reseller, caps, now, label, locale)],
    }
    if caps.pricing:
        data |= {
            "defaultCurrency": experience.currency,
            "availableCurrencies": [experience.currency],
            "pricingPer": "UNIT",
        }
    if caps.content:
        data |= {
            "title": text.title if text else experience.slug,
            "country": "EC",
            "location": text.meeting_point if text else None,
            "subtitle": None,
            "shortDescription": text.summary if text else None,
            "description": text.description if text else None,
            "highlights": [],
            "inclusions": [],
            "exclusions": [],
            "bookingTerms": None,
            "redemptionInstructions": text.meeting_point if text else None,
            "cancellationPolicy": None,
            "coverImageUrl": None,
            "galleryImages": [],
        }
    return data
