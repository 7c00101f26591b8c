"""The extras and homestay nights of the booking form, read from the posted fields
``extra_<id>`` (units) and ``night_before`` / ``night_after`` (a homestay id, or empty).

Read as sent: what is not a whole number is passed on as it is, so the booking service
refuses it with its message (400) and the quote counts it as 0, as the page's script does.
"""

from __future__ import annotations

from ..errors import InvalidRequest
from ..models import NightSide
from ..services.booking.addons import AddonRequest, UnknownHomestay

EXTRA_PREFIX = "extra_"
NIGHT_FIELDS = {f"night_{side.value}": side.value for side in NightSide}


def _number(text: str):
    text = (text or "").strip()
    if not text:
        return 0
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else text


def addons_from(formdata) -> AddonRequest:
    """The extras and nights in a posted booking form."""
    extras: dict = {}
    for name in formdata:
        if not name.startswith(EXTRA_PREFIX):
            continue
        extra_id = _number(name.removeprefix(EXTRA_PREFIX))
        if not isinstance(extra_id, int):
            raise InvalidRequest()
        extras[extra_id] = _number(formdata.get(name, ""))
    nights: dict = {}
    for name, side in NIGHT_FIELDS.items():
        value = (formdata.get(name) or "").strip()
        if not value:
            continue
        homestay_id = _number(value)
        if not isinstance(homestay_id, int):
            raise UnknownHomestay()
        nights[side] = homestay_id
    return AddonRequest(extras=extras, nights=nights)


def safe_addons_from(formdata) -> AddonRequest:
    """``addons_from`` for showing the page again: what cannot be read counts as nothing."""
    try:
        return addons_from(formdata)
    except InvalidRequest:
        return AddonRequest()
