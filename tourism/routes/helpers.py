"""Template filters and globals: money, local times, vocabulary labels, language links."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Flask, request

from .. import vocabulary
from ..database import utcnow
from ..forms.public import country_name, field_problems
from ..i18n import current_locale, language_name, locales_for
from ..models import (
    BookingStatus,
    DepartureStatus,
    ExperienceStatus,
    PaymentStatus,
    RefundStatus,
)
from ..money import decimal_text, format_money
from ..services.catalog.photos import share_width
from ..services.messages.links import absolute_url
from ..timefmt import (
    display_zone,
    fmt_date,
    fmt_datetime,
    fmt_month,
    fmt_time,
    fmt_time_zoned,
    local,
    utc_offset_text,
    zone_label,
)


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (``None`` removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return request.path + ("?" + urlencode(args) if args else "")


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=format_money,
        decimal_text=decimal_text,
        datetime=fmt_datetime,
        date=fmt_date,
        time=fmt_time,
        #: A time a visitor abroad reads: "10:30 (Ecuador time, UTC−5)".
        zoned_time=fmt_time_zoned,
        month=fmt_month,
        localtime=local,
        country=lambda code: country_name(code, current_locale()),
    )
    app.jinja_env.globals.update(
        current_locale=current_locale,
        language_name=language_name,
        utcnow=utcnow,
        timedelta=timedelta,
        url_with=url_with,
        zone_label=zone_label,
        #: "UTC−5": the offset of the site's zone now.
        zone_offset=lambda: utc_offset_text(utcnow(), display_zone()),
        #: An absolute URL from PUBLIC_URL (link previews, emails): never the request's host.
        public_url=absolute_url,
        share_width=share_width,
        field_problems=field_problems,
        PROVINCES=vocabulary.PROVINCES,
        THEMES=vocabulary.THEMES,
        PRICE_CATEGORIES=vocabulary.PRICE_CATEGORIES,
        LANGUAGES=vocabulary.LANGUAGES,
        label=vocabulary.label,
        # Templates compare states with the enums, never with their strings.
        BookingStatus=BookingStatus,
        DepartureStatus=DepartureStatus,
        ExperienceStatus=ExperienceStatus,
        PaymentStatus=PaymentStatus,
        RefundStatus=RefundStatus,
    )

    @app.context_processor
    def _locales() -> dict:
        return {"available_locales": locales_for(app)}
