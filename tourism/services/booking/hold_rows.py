"""The rows a hold writes, as Core statements built once, and the booking object handed back
without reading those rows again.

``lifecycle.hold_seats`` keeps the rules (checks, caps, where the lock goes); this module keeps
the cost of its writes down. A hold is the site's busiest write, and the unit of work's
bookkeeping, the identity map and a round trip per step cost more than the statements
themselves (docs/PERFORMANCE.md):

- the booking is one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` that also picks the split
  rule in force (a subquery) and refuses a reference already taken (a new one is drawn, as
  rarely as one in hundreds of millions), instead of a lookup, a rule read and a flush;
- its lines are one more ``INSERT``;
- a booking with extras or homestay nights is the exception: ``orm_booking`` builds it for the
  ORM's flush, with its extras and nights (``addons.add_to_booking``), and the hold claims
  their stock and beds under the locks as before (``addons.claim``);
- under the departure's lock, a booking confirmed at once (nothing to pay online) claims its
  seats with one conditional ``UPDATE``: the confirmed-seat counter moves only if the seats,
  live holds included, still fit. A hold (to be paid) is counted with one ``SELECT``.

The lock is its own statement, before the count: on PostgreSQL, a statement that waited for a
row lock still reads the other tables as they were when it started, so a count in the same
statement as the wait could miss a hold committed meanwhile. The next statement sees it.

These writes bypass the ORM's flush, so the flush hook that keeps ``seats_confirmed``
(``models/seat_counter.py``) does not see them: ``claim_seats`` moves the counter itself, in
the same conditional ``UPDATE`` that checks the seats. Later changes to the booking object
(a cancellation) go through the flush and the hook as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Booking, BookingLine, BookingStatus, Departure
from ..ledger import split_rules
from . import addons as addon_service
from . import availability
from .pricing import online_due
from .references import new_manage_token, new_reference, new_reference_candidate

BOOKINGS, LINES, DEPARTURES = Booking.__table__, BookingLine.__table__, Departure.__table__

#: Every column a new booking is written with (the others are NULL or their default).
_BOOKING_VALUES = (
    "departure_id",
    "reference",
    "manage_token",
    "held_from",
    "status",
    "hold_expires_at",
    "payment_method",
    "online_due_cents",
    "contact_name",
    "contact_email",
    "contact_phone",
    "country",
    "language",
    "special_needs",
    "special_needs_consent_at",
    "message_opt_in_at",
    "message_phone",
    "message_channel",
    "total_cents",
    "currency",
    "created_at",
    "confirmed_at",
)


def _insert_booking(insert):
    return (
        insert(BOOKINGS)
        .values(
            {name: bindparam(name) for name in _BOOKING_VALUES}
            | {"split_rule_id": split_rules.rule_id_in_force_subquery()}
        )
        # A reference or manage token taken already: no row, no error that would spoil the
        # caller's transaction; the caller draws again.
        .on_conflict_do_nothing()
        .returning(BOOKINGS.c.id, BOOKINGS.c.split_rule_id)
    )


_INSERT_BOOKING = {
    "postgresql": _insert_booking(postgresql_insert),
    "sqlite": _insert_booking(sqlite_insert),
}
_INSERT_LINES = LINES.insert().returning(LINES.c.id, sort_by_parameter_order=True)
_DELETE_LINES = delete(LINES).where(LINES.c.booking_id == bindparam("booking_id"))
_DELETE_BOOKING = delete(BOOKINGS).where(BOOKINGS.c.id == bindparam("booking_id"))

#: Tickets of the live holds on one departure (expired holds free their seats at once).
_LIVE_HOLDS = func.coalesce(
    select(func.sum(LINES.c.quantity))
    .join(BOOKINGS, LINES.c.booking_id == BOOKINGS.c.id)
    .where(
        BOOKINGS.c.departure_id == bindparam("departure_id"),
        BOOKINGS.c.status == BookingStatus.HELD,
        BOOKINGS.c.hold_expires_at > bindparam("now"),
    )
    .scalar_subquery(),
    0,
)
#: Check a confirmed booking's seats in the ``UPDATE`` that claims them. Only the negative
#: controls in the tests turn it off (with the departure's lock), to show that the seats
#: then go twice: the hold counts, then moves the counter.
CHECK_IN_UPDATE = True

#: A confirmed booking's seats, claimed only if they fit: no row back means they did not.
_CLAIM_CONFIRMED = (
    update(DEPARTURES)
    .where(
        DEPARTURES.c.id == bindparam("departure_id"),
        DEPARTURES.c.seats_confirmed + bindparam("tickets") + _LIVE_HOLDS <= DEPARTURES.c.capacity,
    )
    .values(seats_confirmed=DEPARTURES.c.seats_confirmed + bindparam("tickets"))
    .returning(DEPARTURES.c.id)
)
_MOVE_COUNTER = (
    update(DEPARTURES)
    .where(DEPARTURES.c.id == bindparam("departure_id"))
    .values(seats_confirmed=DEPARTURES.c.seats_confirmed + bindparam("tickets"))
)


def ticket_lines(quantities: dict[int, int], categories: dict) -> list[dict]:
    """A booking's lines (``insert_booking``'s ``lines``): the tickets wanted per price
    category id, in the order the experience lists its tickets, at today's prices."""
    wanted = sorted(quantities.items(), key=lambda item: categories[item[0]].position)
    return [
        {
            "price_category_id": pc_id,
            "quantity": qty,
            "unit_price_cents": categories[pc_id].price_cents,
        }
        for pc_id, qty in wanted
    ]


def request_values(contact, request, currency: str, now: datetime) -> dict:
    """The columns a new booking takes from the hold's request and its checked contact
    (``lifecycle.HoldRequest``, ``contact_details.ContactDetails``): all but its status, money
    and dates, which the hold sets."""
    return {
        "held_from": request.held_from,
        "payment_method": request.payment_method,
        "contact_name": contact.name,
        "contact_email": contact.email,
        "contact_phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "special_needs": contact.special_needs,
        "special_needs_consent_at": now if contact.special_needs else None,
        "message_opt_in_at": now if contact.message_phone else None,
        "message_phone": contact.message_phone,
        "message_channel": contact.message_channel if contact.message_phone else None,
        "currency": currency,
        "created_at": now,
    }


@dataclass(frozen=True)
class NewBooking:
    """A booking ``insert_booking`` just wrote, as the values it was written with: what the
    hold and the page after it read (its id, link and status; the outbox its contact), with
    no ORM object built. ``persistent`` builds that object for callers that use it."""

    id: int
    split_rule_id: int | None
    #: The booking's columns as written (``_BOOKING_VALUES``).
    values: dict
    #: Its lines' columns as written, and their ids.
    line_rows: list[dict]
    line_ids: list[int]

    @property
    def reference(self) -> str:
        return self.values["reference"]

    @property
    def manage_token(self) -> str:
        return self.values["manage_token"]

    @property
    def status(self) -> BookingStatus:
        return self.values["status"]

    @property
    def hold_expires_at(self) -> datetime | None:
        return self.values["hold_expires_at"]

    @property
    def contact_email(self) -> str:
        return self.values["contact_email"]

    @property
    def language(self) -> str:
        return self.values["language"]

    @property
    def message_opt_in_at(self) -> datetime | None:
        return self.values["message_opt_in_at"]

    @property
    def message_phone(self) -> str | None:
        return self.values["message_phone"]

    def persistent(self, session: Session) -> Booking:
        """The booking and its lines as the session would have loaded them: in its identity
        map, every column known, nothing pending (no flush writes them again). Built once;
        asked again, the same object. Its departure is loaded when first read (from the
        identity map when the session has it)."""
        known = session.identity_map.get(session.identity_key(Booking, (self.id,)))
        if known is not None:
            return known
        booking = Booking(
            id=self.id,
            split_rule_id=self.split_rule_id,
            cancelled_at=None,
            checked_in_at=None,
            no_show_at=None,
            cancel_reason="",
            **{name: self.values[name] for name in _BOOKING_VALUES},
        )
        make_transient_to_detached(booking)
        session.add(booking)
        lines = []
        for line_id, line_row in zip(self.line_ids, self.line_rows, strict=True):
            line = BookingLine(id=line_id, **line_row)
            make_transient_to_detached(line)
            session.add(line)
            set_committed_value(line, "booking", booking)
            lines.append(line)
        set_committed_value(booking, "lines", lines)
        # A new booking has no payments and no reseller record: nothing to read for them.
        set_committed_value(booking, "payments", [])
        set_committed_value(booking, "channel", None)
        # Nor extras or homestay nights: a booking with some is written by ``orm_booking``.
        set_committed_value(booking, "extras", [])
        set_committed_value(booking, "nights", [])
        return booking


def insert_booking(
    session: Session, departure, values: dict, now: datetime, lines: list[dict]
) -> NewBooking:
    """Insert a booking on ``departure`` (a ``bookable.BookableDeparture``; ``values``: the
    columns of ``_BOOKING_VALUES`` but the departure, the reference and the manage token,
    drawn here) and its ``lines`` (price_category_id, quantity, unit_price_cents); return
    what was written (``NewBooking``), no ORM object."""
    insert = _INSERT_BOOKING[session.get_bind().dialect.name]
    experience = departure.experience
    while True:
        row = {
            **values,
            "departure_id": departure.id,
            "reference": new_reference_candidate(experience.association_code),
            "manage_token": new_manage_token(),
            "experience_id": experience.id,
            "at": now,
        }
        inserted = session.execute(insert, row).first()
        if inserted is not None:
            break
    booking_id, split_rule_id = inserted
    line_rows = [{**line, "booking_id": booking_id} for line in lines]
    line_ids = session.execute(_INSERT_LINES, line_rows).scalars().all()
    return NewBooking(booking_id, split_rule_id, row, line_rows, list(line_ids))


def orm_booking(
    session: Session,
    departure: Departure,
    values: dict,
    lines: list[dict],
    addons: addon_service.AddonRequest,
    now: datetime,
) -> Booking:
    """A new held booking with extras or homestay nights, as an ORM object not yet added to
    the session: its lines, its extras and nights (``addon_service.add_to_booking``), its
    total with theirs and what is due online. The hold takes this path when the visitor
    asked for extras or nights: their rows, and their claims on stock and beds, are the
    ORM's, and the flush keeps the confirmed-seat counter as for any booking. ``values``:
    the contact and request columns (as for ``insert_booking``, without the status, the
    money and the dates the hold sets)."""
    experience = departure.experience
    booking = Booking(
        departure=departure,
        reference=new_reference(session, experience.association.code),
        manage_token=new_manage_token(),
        status=BookingStatus.HELD,
        total_cents=0,
        **values,
    )
    # The booking's money is shared by the rule in force now, whatever is approved later.
    booking.split_rule_id = split_rules.rule_id_in_force(session, experience.id, now)
    for line in lines:
        booking.lines.append(BookingLine(**line))
    booking.total_cents = sum(line.amount_cents for line in booking.lines)
    booking.total_cents += addon_service.add_to_booking(session, booking, departure, addons)
    booking.online_due_cents = online_due(
        booking.total_cents, booking.payment_method, experience.deposit_percent
    )
    return booking


def claim_seats(
    session: Session,
    departure_id: int,
    capacity: int,
    tickets: int,
    now: datetime,
    confirmed: bool,
) -> int | None:
    """With the departure locked (``capacity`` read under the lock): claim ``tickets`` seats
    for the booking just inserted.

    A confirmed booking moves the departure's confirmed-seat counter, only if its seats fit
    beside the others and the live holds (one ``UPDATE``). A held booking is counted among
    the live holds already (``availability.seats_taken_on``); it fits if the seats taken,
    its own included, are within capacity. Returns None
    when the seats are claimed, else the seats that were left for it."""
    params = {"departure_id": departure_id, "now": now}
    if confirmed and CHECK_IN_UPDATE:
        claimed = session.execute(_CLAIM_CONFIRMED, {**params, "tickets": tickets}).first()
        if claimed is not None:
            _forget_loaded_counter(session, departure_id)
            return None
        return capacity - availability.seats_taken_on(session, departure_id, now)
    taken = availability.seats_taken_on(session, departure_id, now)
    if confirmed:  # only with CHECK_IN_UPDATE off: count, then move the counter
        if taken + tickets > capacity:
            return capacity - taken
        session.execute(_MOVE_COUNTER, {**params, "tickets": tickets})
        _forget_loaded_counter(session, departure_id)
        return None
    left = capacity - (taken - tickets)
    return None if tickets <= left else left


def _forget_loaded_counter(session: Session, departure_id: int) -> None:
    """A departure object the session holds has an out-of-date counter now: reload it
    when it is read (as the flush hook does)."""
    loaded = session.identity_map.get(session.identity_key(Departure, (departure_id,)))
    if loaded is not None:
        session.expire(loaded, ["seats_confirmed"])


def remove_booking(session: Session, booking: NewBooking) -> None:
    """Delete a booking that could not have its seats, with its lines: nothing is left even
    for a caller that commits after catching the error. Its seats were never counted."""
    params = {"booking_id": booking.id}
    session.execute(_DELETE_LINES, params)
    session.execute(_DELETE_BOOKING, params)
