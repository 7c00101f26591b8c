"""The files a booking comes with, on its page and in its emails: the QR code the guide scans
at check-in (PNG for emails, inline SVG for the page) and the iCalendar event of the visit
(or its cancellation)."""

from __future__ import annotations

from io import BytesIO
from zoneinfo import ZoneInfo

import segno
from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event

from ...database import utcnow
from ...models import Booking
from ...timefmt import vtimezone
from .links import manage_url


def qr_code(data: str) -> segno.QRCode:
    """The QR code of ``data`` (the booking reference): always a standard QR code. segno
    would pick a Micro QR code for data this short, and phone cameras and the guide's
    scanner (``BarcodeDetector`` with ``qr_code``) do not read those."""
    return segno.make(data, error="m", micro=False)


#: Pixels per module of the emailed QR code, which is shown at its own size (a reference's
#: code is 21 modules plus the quiet zone: 174 px).
QR_SCALE = 6


def qr_png(data: str) -> bytes:
    """A PNG QR code of ``data``, large enough to scan from a phone."""
    buffer = BytesIO()
    qr_code(data).save(buffer, kind="png", scale=QR_SCALE, border=4)
    return buffer.getvalue()


def qr_side(data: str) -> int:
    """The width (and height) of ``qr_png(data)`` in pixels."""
    return qr_code(data).symbol_size(scale=QR_SCALE, border=4)[0]


def qr_svg(data: str) -> str:
    """The same QR code as inline SVG for a page (no image request, nothing for the CSP to
    refuse); it scales with its box."""
    return qr_code(data).svg_inline(
        scale=1, border=4, omitsize=True, dark="#000", light="#fff", title=data
    )


def booking_calendar(
    booking: Booking, locale: str, cancel: bool = False, sequence: int = 0
) -> bytes:
    """An iCalendar file with the visit as one event (or its cancellation), in local time;
    ``sequence``: the event's version (raised when the date changes)."""
    departure = booking.departure
    experience = departure.experience
    text = experience.text(locale)
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    link = manage_url(booking)

    calendar = Calendar()
    calendar.add("prodid", "-//Chakra Routes//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.reference}@chakraroutes")
    event.add("dtstamp", utcnow())
    event.add("dtstart", departure.starts_at.astimezone(zone))
    event.add("dtend", departure.ends_at.astimezone(zone))
    event.add("summary", text.title if text else experience.slug)
    if text and text.meeting_point:
        event.add("location", text.meeting_point)
    event.add(
        "description",
        "\n".join(
            [
                _("Booking reference: %(reference)s", reference=booking.reference),
                _("See or cancel your booking: %(url)s", url=link),
            ]
        ),
    )
    event.add("url", link)
    if cancel:
        event.add("status", "CANCELLED")
        event.add("sequence", max(sequence, 1))
    else:
        event.add("status", "CONFIRMED")
        event.add("sequence", sequence)
    calendar.add_component(event)
    calendar.add_component(vtimezone(str(zone)))
    return calendar.to_ical()
