"""Caps on open unpaid bookings, so nobody can sit on a departure's seats.

An open unpaid booking is a hold not yet paid (until it expires) or a pay-on-arrival booking
for a departure still to come: both take seats without any money changing hands. One email
may have ``per_email`` of them at a time, one client address ``per_address`` (higher: a
hostel or a school shares one address). The address is stored only as a keyed hash
(``address_key``), never as the address itself.

The caps hold exactly under concurrency: the check serialises holds of one email (and of
one address) before it counts, until the transaction that inserts the booking ends. On
PostgreSQL that is a transaction-level advisory lock per email and per address (always taken
in that order, email first, so two holds never wait on each other crosswise; a hold of
tickets alone takes them within its booking's insert, ``lock_columns``); SQLite has one
writer at a time and every hold's transaction takes the write lock first (``BEGIN
IMMEDIATE``), so the count there already sees every booking committed before it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_ngettext as _ln
from sqlalchemy import Integer, String, and_, bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import Booking, BookingStatus, Departure, PaymentMethod


class TooManyOpenBookings(DomainError):
    status_code = 429

    def __init__(self, count: int) -> None:
        super().__init__(
            _ln(
                "You already have %(num)s unpaid booking waiting. Pay for or cancel it before "
                "booking again.",
                "You already have %(num)s unpaid bookings waiting. Pay for or cancel one of "
                "them before booking again.",
                count,
            )
        )


@dataclass(frozen=True)
class HoldCaps:
    per_email: int = 3
    per_address: int = 10

    @classmethod
    def from_config(cls, config) -> HoldCaps:
        return cls(config["OPEN_BOOKINGS_PER_EMAIL"], config["OPEN_BOOKINGS_PER_ADDRESS"])


def address_key(secret: str, address: str | None) -> str | None:
    """A keyed hash of a client address: comparable, not reversible without the key."""
    if not address:
        return None
    digest = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


#: The departures the counts join, under a name of their own: the counts can then be columns
#: of a statement that reads the departures table itself (``open_count_columns``).
_DEPARTURES = Departure.__table__.alias("cap_departures")
#: Table columns, not the mapped class: the statements that use them run as Core, without
#: the ORM's compile step (they are on every hold's path).
_BOOKINGS = Booking.__table__.c


def _open_unpaid(now):
    return or_(
        and_(_BOOKINGS.status == BookingStatus.HELD, _BOOKINGS.hold_expires_at > now),
        and_(
            _BOOKINGS.status == BookingStatus.CONFIRMED,
            _BOOKINGS.payment_method == PaymentMethod.ON_ARRIVAL.value,
            _DEPARTURES.c.starts_at > now,
        ),
    )


def _open_count(condition, cap: str, *others):
    """How many open unpaid bookings match ``condition``, counting no further than the
    ``cap`` parameter: an index finds the candidates, and the count never grows with
    someone's history."""
    rows = (
        select(_BOOKINGS.id)
        .join(_DEPARTURES, _BOOKINGS.departure_id == _DEPARTURES.c.id)
        .where(condition, _open_unpaid(bindparam("now")), *others)
        .limit(bindparam(cap))
        .subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


def _open_counts(*others) -> list:
    """The counts per email and per address; a ``held_from`` of None matches nothing
    (``= NULL``)."""
    return [
        _open_count(
            func.lower(_BOOKINGS.contact_email) == bindparam("email"), "per_email", *others
        ).label("open_by_email"),
        _open_count(_BOOKINGS.held_from == bindparam("held_from"), "per_address", *others).label(
            "open_by_address"
        ),
    ]


#: Both counts in one statement, built once (it runs on every hold).
_OPEN_COUNTS = select(*_open_counts())


def open_count_columns() -> list:
    """Both counts as columns ``open_by_email`` and ``open_by_address`` of a statement run
    after ``serialise`` and after the booking's own insert, leaving that booking out
    (parameters: ``count_params``). The hold of tickets alone reads them with the
    departure's lock (``availability.lock_departure_state``), one statement for both."""
    return _open_counts(_BOOKINGS.id != bindparam("booking_id"))


def count_params(contact, request, now: datetime, caps: HoldCaps, booking) -> dict:
    """The parameters of ``open_count_columns`` for a hold's checked contact and request
    (``contact_details.ContactDetails``, ``lifecycle.HoldRequest``) and its new ``booking``."""
    return _params(contact.email, request.held_from, now, caps) | {"booking_id": booking.id}


def _params(email: str, held_from: str | None, now: datetime, caps: HoldCaps) -> dict:
    return {
        "email": email.lower(),
        "held_from": held_from,
        "now": now,
        "per_email": caps.per_email,
        "per_address": caps.per_address,
    }


def check_counts(counts, params: dict) -> None:
    """Raise ``TooManyOpenBookings`` when either count (a row with ``open_by_email`` and
    ``open_by_address``) has reached its cap (in ``params``, from ``count_params``)."""
    if counts.open_by_email >= params["per_email"]:
        raise TooManyOpenBookings(count=counts.open_by_email)
    if counts.open_by_address >= params["per_address"]:
        raise TooManyOpenBookings(count=counts.open_by_address)


#: First key of the advisory locks taken here: one number per kind of thing serialised.
EMAIL_LOCK, ADDRESS_LOCK, FORM_KEY_LOCK = 0x43415001, 0x43415002, 0x43415003

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:kind, hashtext(:value))")
#: Both locks in one round trip. PostgreSQL evaluates a select list in order, so the email's
#: lock is still taken before the address's. The count is a statement of its own: one that
#: had waited for a lock would still read the bookings as they were when it started.
_ADVISORY_LOCKS = text(
    "SELECT pg_advisory_xact_lock(:kind, hashtext(:value)),"
    " pg_advisory_xact_lock(:address_kind, hashtext(:address))"
)


def lock_params(session: Session, email: str, held_from: str | None) -> dict | None:
    """The parameters of ``lock_columns`` for a hold of this email and address, to take the
    caps' locks within one of the hold's own statements (``hold_rows.insert_booking``);
    None on SQLite, where the write lock the hold's transaction holds serialises it.
    ``serialise`` takes its locks with these too (the negative controls of the tests turn
    every caps' lock off here)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    params = {"kind": EMAIL_LOCK, "value": email.lower()}
    if held_from:
        params |= {"address_kind": ADDRESS_LOCK, "address": held_from}
    return params


def lock_columns(with_address: bool) -> list:
    """``serialise``'s advisory locks as columns of a select (the email's first: PostgreSQL
    evaluates a select list in order), with the parameters of ``lock_params``."""
    columns = [
        func.pg_advisory_xact_lock(
            bindparam("kind", type_=Integer), func.hashtext(bindparam("value", type_=String))
        ).label("email_lock")
    ]
    if with_address:
        columns.append(
            func.pg_advisory_xact_lock(
                bindparam("address_kind", type_=Integer),
                func.hashtext(bindparam("address", type_=String)),
            ).label("address_lock")
        )
    return columns


def serialise(session: Session, email: str, held_from: str | None) -> None:
    """Make holds of this email and this address wait for each other until the transaction
    ends (PostgreSQL); on SQLite the write lock the hold's transaction holds does it."""
    params = lock_params(session, email, held_from)
    if params is None:
        return
    session.execute(_ADVISORY_LOCKS if "address" in params else _ADVISORY_LOCK, params)


def serialise_form_key(session: Session, key: str) -> None:
    """Make two sendings of one form page (a booking form, a payout table: ``key`` is the
    random key it was shown with) wait for each other until the transaction ends
    (PostgreSQL); on SQLite the write lock every such transaction takes first does it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY_LOCK, {"kind": FORM_KEY_LOCK, "value": key})


def check(
    session: Session, email: str, held_from: str | None, now: datetime, caps: HoldCaps
) -> None:
    """Raise ``TooManyOpenBookings`` when this email or address is at its cap (one query,
    after ``serialise``: see the module doc)."""
    serialise(session, email, held_from)
    params = _params(email, held_from, now, caps)
    check_counts(session.execute(_OPEN_COUNTS, params).one(), params)
