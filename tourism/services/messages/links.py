"""Absolute links into the site for messages that leave it (emails, WhatsApp/SMS, calendar
files, API answers): built from ``PUBLIC_URL``, with or without a request."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...models import Booking


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link into the site from ``PUBLIC_URL``; needs no request, works in one."""
    path = current_app.url_map.bind("", script_name="/").build(endpoint, values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def manage_url(booking: Booking) -> str:
    """The booking's private page: ``PUBLIC_URL/bookings/<manage_token>``."""
    return absolute_url("bookings.manage", token=booking.manage_token)
