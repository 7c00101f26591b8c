"""The words of WhatsApp and SMS messages: short, in the recipient's language, amounts and
times written as on the site's pages and emails.

Each kind is a WhatsApp template (approved by Meta under the name given here, in ``es`` and
``en``, with the variables in this order) and the same words as plain text for SMS and for
the message log. Nothing secret goes into a message except the confirmation's manage link,
which is what the tourist needs to find their booking.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from ...money import format_money
from ...timefmt import fmt_date, fmt_time, when
from .links import manage_url
from .rendering import message_locale

#: The approved WhatsApp template of each kind (free-text kinds have none).
TEMPLATES = {
    "confirmed": "booking_confirmed",
    "reminder": "booking_reminder",
    "cancelled": "booking_cancelled",
    "departure_cancelled": "departure_cancelled",
    "late_payment_refunded": "late_payment_refunded",
    "refunded": "booking_refunded",
    "date_changed": "booking_date_changed",
    "family_visitors": "family_visitors",
    "family_payout": "family_payout",
    "guide_tomorrow": "guide_tomorrow",
    "guide_assignments": "guide_assignments",
    "homestay_tomorrow": "homestay_tomorrow",
    "homestay_booked": "homestay_booked",
    "homestay_cancelled": "homestay_cancelled",
}


@dataclass(frozen=True)
class Text:
    body: str
    template: str
    #: The template's variables, in order; WhatsApp refuses new lines in them.
    variables: list[str]


def title_of(experience, locale: str) -> str:
    text = experience.text(locale)
    return text.title if text else experience.slug


def booking_text(kind: str, booking, language: str, context: dict) -> Text | None:
    """The message telling a tourist of ``kind`` about ``booking``, or ``None`` when the
    kind has no phone message (the email says it)."""
    locale = message_locale(language)
    with force_locale(locale):
        departure = booking.departure
        title = title_of(departure.experience, locale)
        refund = format_money(int(context.get("refund_cents") or 0), booking.currency)
        ref = booking.reference
        if kind == "confirmed":
            return Text(
                _(
                    "Chakra Routes: booking %(reference)s confirmed. %(title)s, %(when)s, "
                    "%(people)s. Your booking: %(url)s (write STOP to stop these messages)",
                    reference=ref,
                    title=title,
                    when=when(departure.starts_at),
                    people=_people(booking.participants),
                    url=manage_url(booking),
                ),
                TEMPLATES[kind],
                [
                    ref,
                    title,
                    when(departure.starts_at),
                    _people(booking.participants),
                    manage_url(booking),
                ],
            )
        if kind == "reminder":
            return Text(
                _(
                    "Chakra Routes: tomorrow %(title)s, %(when)s. Booking %(reference)s.",
                    title=title,
                    when=when(departure.starts_at),
                    reference=ref,
                ),
                TEMPLATES[kind],
                [title, when(departure.starts_at), ref],
            )
        if kind == "cancelled":
            return Text(
                _(
                    "Chakra Routes: booking %(reference)s is cancelled. Refund: %(amount)s.",
                    reference=ref,
                    amount=refund,
                ),
                TEMPLATES[kind],
                [ref, refund],
            )
        if kind == "departure_cancelled":
            return Text(
                _(
                    "Chakra Routes: %(title)s on %(when)s is cancelled. Booking %(reference)s, "
                    "refund: %(amount)s.",
                    title=title,
                    when=when(departure.starts_at),
                    reference=ref,
                    amount=refund,
                ),
                TEMPLATES[kind],
                [title, when(departure.starts_at), ref, refund],
            )
        if kind == "date_changed":
            return Text(
                _(
                    "Chakra Routes: booking %(reference)s has a new date: %(title)s, %(when)s. "
                    "Your booking: %(url)s (write STOP to stop these messages)",
                    reference=ref,
                    title=title,
                    when=when(departure.starts_at),
                    url=manage_url(booking),
                ),
                TEMPLATES[kind],
                [ref, title, when(departure.starts_at), manage_url(booking)],
            )
        if kind == "refunded":
            return Text(
                _(
                    "Chakra Routes: booking %(reference)s was refunded in full (%(amount)s) "
                    "and is cancelled.",
                    reference=ref,
                    amount=refund,
                ),
                TEMPLATES[kind],
                [ref, refund],
            )
        if kind == "late_payment_refunded":
            return Text(
                _(
                    "Chakra Routes: your payment for booking %(reference)s came after the "
                    "seats were taken; %(amount)s has been refunded.",
                    reference=ref,
                    amount=refund,
                ),
                TEMPLATES[kind],
                [ref, refund],
            )
    return None


def _people(count: int) -> str:
    return ngettext("%(num)s person", "%(num)s people", count)


def family_visitors_text(language: str, visits: list[tuple]) -> Text:
    """Tomorrow's visitors at a family's stops: ``visits`` is ``(starts_at, title,
    people)`` per departure, in order."""
    with force_locale(message_locale(language)):
        lines = "; ".join(
            _(
                "%(time)s %(title)s: %(people)s",
                time=fmt_time(starts_at),
                title=title,
                people=_people(people),
            )
            for starts_at, title, people in visits
        )
        return Text(
            _("Chakra Routes, visitors tomorrow: %(visits)s.", visits=lines),
            TEMPLATES["family_visitors"],
            [lines],
        )


def family_payout_text(
    language: str, family_name: str, amount_cents: int, currency: str, paid_at
) -> Text:
    with force_locale(message_locale(language)):
        amount, day = format_money(amount_cents, currency), fmt_date(paid_at)
        return Text(
            _(
                "Chakra Routes: payment to %(family)s recorded: %(amount)s on %(date)s.",
                family=family_name,
                amount=amount,
                date=day,
            ),
            TEMPLATES["family_payout"],
            [family_name, amount, day],
        )


def guide_tomorrow_text(language: str, departures: list[tuple]) -> Text:
    """Tomorrow's departures for a guide: ``(starts_at, title, people, needs)`` each, where
    ``needs`` is how many bookings told of special needs (read them in the manifest)."""
    with force_locale(message_locale(language)):
        parts = []
        for starts_at, title, people, needs in departures:
            line = _(
                "%(time)s %(title)s: %(people)s",
                time=fmt_time(starts_at),
                title=title,
                people=_people(people),
            )
            if needs:
                line += ", " + ngettext(
                    "%(num)s booking with special needs",
                    "%(num)s bookings with special needs",
                    needs,
                )
            parts.append(line)
        lines = "; ".join(parts)
        return Text(
            _("Chakra Routes, your departures tomorrow: %(departures)s.", departures=lines),
            TEMPLATES["guide_tomorrow"],
            [lines],
        )


#: At most this many departures are named in one assignment message; the rest are counted.
NAMED_DEPARTURES = 5


def _departure_list(departures: list[tuple]) -> str:
    named = [
        _("%(when)s %(title)s", when=when(starts_at), title=title)
        for starts_at, title in departures[:NAMED_DEPARTURES]
    ]
    more = len(departures) - NAMED_DEPARTURES
    if more > 0:
        named.append(ngettext("%(num)s more", "%(num)s more", more))
    return "; ".join(named)


def guide_assignments_text(language: str, added: list[tuple], removed: list[tuple]) -> Text:
    """A guide's departures changed: ``(starts_at, title)`` of those they were put on and
    of those they were taken off, in order."""
    with force_locale(message_locale(language)):
        parts = []
        if added:
            parts.append(_("you now guide: %(departures)s", departures=_departure_list(added)))
        if removed:
            parts.append(
                _("you no longer guide: %(departures)s", departures=_departure_list(removed))
            )
        changes = " / ".join(parts)
        return Text(
            _("Chakra Routes, your departures changed: %(changes)s.", changes=changes),
            TEMPLATES["guide_assignments"],
            [changes],
        )


def opted_in_text(language: str) -> Text:
    """The answer to START/ALTA: free text (the sender just wrote), no template."""
    with force_locale(message_locale(language)):
        return Text(
            _("Chakra Routes: you will get our messages again. Write STOP or BAJA to stop them."),
            "",
            [],
        )


def _guest_list(guests: list[tuple]) -> str:
    """``(first name, people, nights)`` per booking: "María, 2 people, nights 5 Dec, 6 Dec"."""
    return "; ".join(
        _(
            "%(name)s, %(people)s, %(nights)s",
            name=name,
            people=_people(people),
            nights=ngettext(
                "night %(dates)s",
                "nights %(dates)s",
                len(nights),
                dates=", ".join(fmt_date(night, "d MMM") for night in nights),
            ),
        )
        for name, people, nights in guests
    )


def _needs_list(needs: list[tuple[str, str]]) -> str:
    """``(first name, needs)`` of the bookings that gave any; "none given" otherwise."""
    given = [_("%(name)s: %(needs)s", name=name, needs=text) for name, text in needs if text]
    return "; ".join(given) or _("none given")


def homestay_tomorrow_text(language: str, guests: list[tuple], needs: list[tuple]) -> Text:
    """The day before a homestay night: who sleeps at the family's tomorrow (``guests``:
    first name, people, their nights there) and their dietary needs (first name, needs)."""
    with force_locale(message_locale(language)):
        people = _people(sum(count for _name, count, _nights in guests))
        listed, given = _guest_list(guests), _needs_list(needs)
        return Text(
            _(
                "Chakra Routes: tomorrow you host %(people)s: %(guests)s. Dietary needs: "
                "%(needs)s.",
                people=people,
                guests=listed,
                needs=given,
            ),
            TEMPLATES["homestay_tomorrow"],
            [people, listed, given],
        )


def homestay_booked_text(language: str, guests: list[tuple], needs: list[tuple]) -> Text:
    """A route booking with nights at the family's homestay was confirmed."""
    with force_locale(message_locale(language)):
        listed, given = _guest_list(guests), _needs_list(needs)
        return Text(
            _(
                "Chakra Routes: new homestay guests: %(guests)s. Dietary needs: %(needs)s.",
                guests=listed,
                needs=given,
            ),
            TEMPLATES["homestay_booked"],
            [listed, given],
        )


def homestay_cancelled_text(language: str, guests: list[tuple]) -> Text:
    """A confirmed route booking with nights at the family's homestay was cancelled."""
    with force_locale(message_locale(language)):
        listed = _guest_list(guests)
        return Text(
            _("Chakra Routes: homestay guests cancelled: %(guests)s.", guests=listed),
            TEMPLATES["homestay_cancelled"],
            [listed],
        )
