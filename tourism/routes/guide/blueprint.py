"""The ``guide`` blueprint and the address shapes its views share."""

from __future__ import annotations

from flask import (
    Blueprint,
    redirect,
    url_for,
)

bp = Blueprint("guide", __name__, url_prefix="/guide")

DEPARTURE = "/departures/<int(max=2147483647):departure_id>"
BOOKING = DEPARTURE + "/bookings/<int(max=2147483647):booking_id>"


def tel_href(phone: str) -> str:
    """A ``tel:`` link keeping only digits and a leading plus."""
    digits = "".join(c for c in phone if c.isdigit())
    return "tel:" + ("+" if phone.strip().startswith("+") else "") + digits


def see_manifest(departure_id: int, anchor: str | None = None):
    return redirect(url_for(".manifest", departure_id=departure_id, _anchor=anchor), code=303)
