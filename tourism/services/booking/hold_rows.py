"""The rows a hold writes, as Core statements built once, handed back as the values written
(``new_bookings.NewBooking``): no row is read again, and no ORM object is built unless a
caller asks for one.

``lifecycle.hold_seats`` keeps the rules (checks, caps, where the lock goes); this module keeps
the cost of its writes down. A hold is the site's busiest write, and the unit of work's
bookkeeping, the identity map and a round trip per step cost more than the statements
themselves (docs/PERFORMANCE.md):

- the booking is one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` that also picks the split
  rule in force (a subquery) and refuses a reference already taken (a new one is drawn, as
  rarely as one in hundreds of millions), instead of a lookup, a rule read and a flush;
- its lines are one more ``INSERT``, in the same statement on PostgreSQL (the booking's
  insert is a data-modifying ``WITH`` the lines take its id from);
- a booking with extras or homestay nights is the exception: ``orm_booking`` builds it for the
  ORM's flush, with its extras and nights (``addons.add_to_booking``), and the hold claims
  their stock and beds under the locks as before (``addons.claim``);
- a booking confirmed at once (pay on arrival) queues its confirmation email in that same
  statement on PostgreSQL (``outbox_statements.with_new_booking``), unless the tourist asked
  for phone messages too (their twin is queued through the outbox as any other);
- under the departure's lock, a booking confirmed at once (nothing to pay online) claims its
  seats with one conditional ``UPDATE``: the confirmed-seat counter moves only if the seats,
  live holds included, still fit. A hold (to be paid) is counted with one ``SELECT``.

The lock is its own statement, before the count: on PostgreSQL, a statement that waited for a
row lock still reads the other tables as they were when it started, so a count in the same
statement as the wait could miss a hold committed meanwhile. The next statement sees it.

On PostgreSQL the statements of a hold run through the driver's cursor, compiled once
(``driver_statements.DriverStatement``): SQLAlchemy's per-execution work cost more than the
driver's. The departure's read (``bookable``) and its lock (``availability``) do the same.

These writes bypass the ORM's flush, so the flush hook that keeps ``seats_confirmed``
(``models/seat_counter.py``) does not see them: ``claim_seats`` moves the counter itself, in
the same conditional ``UPDATE`` that checks the seats. Later changes to the booking object
(a cancellation) go through the flush and the hook as before.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ...driver_statements import DriverStatement
from ...jobs.registry import registered
from ...models import Booking, BookingLine, BookingStatus, Departure, Job, Notification
from ..ledger import split_rules
from ..messages import outbox_statements
from ..messages.email_jobs import SEND_EMAIL
from . import addons as addon_service
from . import availability
from . import caps as hold_caps
from .new_bookings import BOOKING_VALUES, NewBooking, unless_sent_before
from .pricing import online_due
from .references import new_manage_token, new_reference, new_reference_candidate

BOOKINGS, LINES, DEPARTURES = Booking.__table__, BookingLine.__table__, Departure.__table__


def _insert_booking(insert, *returned):
    return (
        insert(BOOKINGS)
        .values(
            {name: bindparam(name) for name in BOOKING_VALUES}
            | {"split_rule_id": split_rules.rule_id_in_force_subquery()}
            # Written here, not by the column's Python default: in a ``WITH`` beside other
            # inserts (the email's), SQLAlchemy fills no default of the booking's.
            | {"cancel_reason": literal("")}
        )
        # A reference or manage token taken already: no row, no error that would spoil the
        # caller's transaction; the caller draws again.
        .on_conflict_do_nothing()
        .returning(BOOKINGS.c.id, BOOKINGS.c.split_rule_id, *returned)
    )


_INSERT_BOOKING = {
    "postgresql": _insert_booking(postgresql_insert),
    "sqlite": _insert_booking(sqlite_insert),
}
_INSERT_LINES = LINES.insert().returning(LINES.c.id, sort_by_parameter_order=True)
_DELETE_LINES = delete(LINES).where(LINES.c.booking_id == bindparam("booking_id"))
_DELETE_EMAIL = delete(Notification.__table__).where(
    Notification.__table__.c.booking_id == bindparam("booking_id")
)
_DELETE_EMAIL_JOB = delete(Job.__table__).where(Job.__table__.c.id == bindparam("job_id"))
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
_CLAIM_CONFIRMED = DriverStatement(
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
        "submission_key": request.submission_key,
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


def insert_booking(
    session: Session,
    departure,
    values: dict,
    now: datetime,
    lines: list[dict],
    locks: dict | None = None,
    confirmed_email: bool = False,
) -> NewBooking:
    """Insert a booking on ``departure`` (a ``bookable.BookableDeparture``; ``values``: the
    columns of ``BOOKING_VALUES`` but the departure, the reference and the manage token,
    drawn here) and its ``lines`` (price_category_id, quantity, unit_price_cents); return
    what was written (``NewBooking``), no ORM object. On PostgreSQL the booking and its
    lines are one statement (``_insert_with_lines``), which also takes the caps' advisory
    locks when given ``locks`` (``caps.lock_params``): before the count, which comes with
    the departure's lock in a later statement (``availability.lock_departure_state``).
    ``confirmed_email``: on PostgreSQL the same statement queues the booking's confirmation
    email and its job (``NewBooking.email_queued``); elsewhere the caller queues it."""
    dialect = session.get_bind().dialect.name
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
        if dialect == "postgresql":
            written = _insert_on_postgresql(session, row, lines, locks, confirmed_email)
        else:
            written = _insert_in_two(session, row, lines)
        if written is not None:
            return written
        values = unless_sent_before(session, values)


def _insert_in_two(session: Session, row: dict, lines: list[dict]) -> NewBooking | None:
    inserted = session.execute(_INSERT_BOOKING["sqlite"], row).first()
    if inserted is None:
        return None  # a unique value was taken: draw again, or the form was sent before
    booking_id, split_rule_id = inserted
    line_rows = [{**line, "booking_id": booking_id} for line in lines]
    line_ids = session.execute(_INSERT_LINES, line_rows).scalars().all()
    return NewBooking(booking_id, split_rule_id, row, line_rows, list(line_ids))


#: ``_insert_with_lines`` per number of lines, of the caps' locks and with or without the
#: confirmation email, each built once.
_INSERT_WITH_LINES: dict[tuple[int, int, bool], DriverStatement] = {}


def _insert_with_lines(count: int, locks: int, email: bool):
    """The booking (a data-modifying ``WITH``) and its ``count`` lines in one statement: the
    lines' ``INSERT … SELECT`` takes the booking's id from it, and finds no row when the
    booking's insert found a conflict (nothing inserted, no row back). Each line comes back
    with its price category (a booking has one line per category) and the booking's split
    rule. The top statement inserts lines (a watched table): the response cache moves on.
    ``locks`` (0, 1 or 2): the caps' advisory locks, a one-row ``WITH`` the lines' source
    reads (``caps.lock_columns``), taken when the booking was inserted. ``email``: the
    booking's confirmation email and its job, two more ``WITH``s whose ids come back with
    each line."""
    returned = (BOOKINGS.c.contact_email, BOOKINGS.c.language) if email else ()
    new_booking = _insert_booking(postgresql_insert, *returned).cte("new_booking")
    wanted = [
        select(
            bindparam(f"price_category_id_{n}", type_=Integer).label("price_category_id"),
            bindparam(f"quantity_{n}", type_=Integer).label("quantity"),
            bindparam(f"unit_price_cents_{n}", type_=Integer).label("unit_price_cents"),
        )
        for n in range(count)
    ]
    rows = (wanted[0] if count == 1 else union_all(*wanted)).subquery("wanted")
    source = select(
        new_booking.c.id, rows.c.price_category_id, rows.c.quantity, rows.c.unit_price_cents
    ).join_from(new_booking, rows, true())
    if locks:
        taken = select(*hold_caps.lock_columns(with_address=locks == 2)).cte("caps_locks")
        source = source.join(taken, true())
    columns = ["booking_id", "price_category_id", "quantity", "unit_price_cents"]
    returned = [
        LINES.c.id,
        LINES.c.booking_id,
        LINES.c.price_category_id,
        select(new_booking.c.split_rule_id).scalar_subquery().label("split_rule_id"),
    ]
    if email:
        queued, enqueued = outbox_statements.with_new_booking(new_booking, "confirmed")
        returned += [
            select(queued.c.id).scalar_subquery().label("notification_id"),
            select(enqueued.c.id).scalar_subquery().label("job_id"),
        ]
    return LINES.insert().from_select(columns, source).returning(*returned)


def _insert_on_postgresql(
    session: Session, row: dict, lines: list[dict], locks: dict | None, email: bool
) -> NewBooking | None:
    shape = (len(lines), 0 if not locks else 2 if "address" in locks else 1, email)
    statement = _INSERT_WITH_LINES.get(shape)
    if statement is None:
        statement = _INSERT_WITH_LINES[shape] = DriverStatement(_insert_with_lines(*shape))
    params = row | (locks or {})
    if email:
        attempts = registered(SEND_EMAIL).max_attempts
        params |= outbox_statements.job_params(SEND_EMAIL, attempts)
    for n, line in enumerate(lines):
        for name, value in line.items():
            params[f"{name}_{n}"] = value
    written = statement.run(session, params)
    if not written:
        return None  # a unique value was taken: draw again, or the form was sent before
    booking_id, split_rule_id = written[0].booking_id, written[0].split_rule_id
    line_ids = {line.price_category_id: line.id for line in written}
    line_rows = [{**line, "booking_id": booking_id} for line in lines]
    ids = [line_ids[line["price_category_id"]] for line in lines]
    job_id = written[0].job_id if email else None
    return NewBooking(booking_id, split_rule_id, row, line_rows, ids, email, job_id)


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
        claimed = _CLAIM_CONFIRMED.first(session, {**params, "tickets": tickets})
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
    identity_map = session.identity_map
    if not identity_map:  # nothing loaded (a hold's usual case): nothing to forget
        return
    loaded = identity_map.get(session.identity_key(Departure, (departure_id,)))
    if loaded is not None:
        session.expire(loaded, ["seats_confirmed"])


def remove_booking(session: Session, booking: NewBooking) -> None:
    """Delete a booking that could not have its seats, with its lines: nothing is left even
    for a caller that commits after catching the error. Its seats were never counted."""
    params = {"booking_id": booking.id}
    if booking.email_queued:
        if booking.email_job_id is not None:
            session.execute(_DELETE_EMAIL_JOB, {"job_id": booking.email_job_id})
        session.execute(_DELETE_EMAIL, params)
    session.execute(_DELETE_LINES, params)
    session.execute(_DELETE_BOOKING, params)
