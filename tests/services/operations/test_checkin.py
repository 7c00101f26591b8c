"""Check-in, no-shows, cash, stops visited, and replaying offline actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.sql_log import statements_run
from tourism.database import utcnow, write_transactions
from tourism.errors import NotFound
from tourism.models import BookingStatus, Payment, PaymentStatus, Role, StopVisit
from tourism.services.ledger import releases
from tourism.services.operations import board, guide_calendar, manifest
from tourism.services.operations import checkin as svc


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.fixture
def trip(make):
    """A departure starting now, its guide, a staff member, two stops, two parties."""
    association = make.association()
    experience = make.experience(association, prices={"adult": 4500, "child": 2500})
    family = make.family(association)
    stops = [make.stop(experience, family=family), make.stop(experience)]
    now = utcnow().replace(microsecond=0)
    departure = make.departure(experience, starts_at=now)
    guide = make.guide(association)
    make.assign(departure, guide)
    return dict(
        association=association,
        departure=departure,
        stops=stops,
        guide=guide,
        staff=make.user(password="", memberships=[(association, Role.STAFF)]),
        ana=make.booking(departure, {"adult": 2, "child": 1}, contact_name="Ana"),  # 11500
        ben=make.booking(departure, {"adult": 1}, contact_name="Ben"),  # 4500
        now=now,
    )


def cash_payments(session) -> int:
    return session.scalar(select(func.count(Payment.id)).where(Payment.provider == "cash"))


def test_check_in_is_idempotent_and_keeps_the_first_time(session, trip):
    ana, guide, now = trip["ana"], trip["guide"], trip["now"]
    assert svc.check_in(session, ana, guide, now) is True
    assert svc.check_in(session, ana, guide, now + timedelta(minutes=5)) is False
    assert ana.checked_in_at == now
    assert svc.undo_check_in(session, ana, guide, now) is True
    assert svc.undo_check_in(session, ana, guide, now) is False
    assert ana.checked_in_at is None


@pytest.mark.parametrize("status", [BookingStatus.HELD, BookingStatus.CANCELLED])
def test_only_confirmed_bookings_check_in(make, session, trip, status):
    booking = make.booking(trip["departure"], status=status)
    with pytest.raises(svc.NotConfirmed) as caught:
        svc.check_in(session, booking, trip["guide"], trip["now"])
    assert caught.value.status_code == 409
    assert booking.checked_in_at is None


def test_only_its_guides_and_its_staff_may_check_in(make, session, trip):
    ana, now = trip["ana"], trip["now"]
    for stranger in (
        make.guide(trip["association"]),  # same association, not on this departure
        make.guide(make.association()),
        make.user(password="", memberships=[(make.association(), Role.STAFF)]),
    ):
        with pytest.raises(NotFound):
            svc.check_in(session, ana, stranger, now)
    assert svc.check_in(session, ana, trip["staff"], now) is True


def test_check_in_opens_two_hours_before(session, trip):
    with pytest.raises(svc.TooEarly):
        svc.check_in(session, trip["ana"], trip["guide"], trip["now"] - timedelta(hours=3))
    assert svc.check_in(session, trip["ana"], trip["guide"], trip["now"] - timedelta(hours=1))


def test_no_show_is_idempotent_refused_once_checked_in_and_cleared_by_check_in(session, trip):
    ana, ben, guide, now = trip["ana"], trip["ben"], trip["guide"], trip["now"]
    assert svc.mark_no_show(session, ben, guide, now) is True
    assert svc.mark_no_show(session, ben, guide, now) is False
    svc.check_in(session, ana, guide, now)
    with pytest.raises(svc.AlreadyCheckedIn):
        svc.mark_no_show(session, ana, guide, now)
    assert svc.check_in(session, ben, guide, now) is True  # late, but they came
    assert ben.no_show_at is None and ben.checked_in_at == now


def test_cash_is_recorded_once_per_client_ref(session, trip):
    ana, guide, now = trip["ana"], trip["guide"], trip["now"]
    payment, new = svc.record_cash(session, ana, 5000, guide, now, client_ref="phone-1")
    assert new is True
    assert (payment.provider, payment.status, payment.amount_cents) == (
        "cash",
        PaymentStatus.SUCCEEDED,
        5000,
    )
    assert payment.collected_by_id == guide.id and payment.succeeded_at == now
    again, new = svc.record_cash(session, ana, 5000, guide, now, client_ref="phone-1")
    assert again.id == payment.id and new is False
    assert cash_payments(session) == 1
    with pytest.raises(svc.InvalidAction):  # an id already used for another booking
        svc.record_cash(session, trip["ben"], 100, guide, now, client_ref="phone-1")


def test_cash_above_what_is_due_is_refused(session, trip):
    ana, guide, now = trip["ana"], trip["guide"], trip["now"]
    ana.payments.append(
        Payment(provider="stripe", amount_cents=1500, status=PaymentStatus.SUCCEEDED)
    )
    session.flush()
    with pytest.raises(svc.CashAboveDue) as caught:
        svc.record_cash(session, ana, 10001, guide, now)
    assert caught.value.status_code == 409
    assert "$100,00" in str(caught.value)  # Spanish, the default locale
    svc.record_cash(session, ana, 6000, guide, now)
    with pytest.raises(svc.CashAboveDue):
        svc.record_cash(session, ana, 4001, guide, now)
    svc.record_cash(session, ana, 4000, guide, now)
    with pytest.raises(svc.CashAboveDue):
        svc.record_cash(session, ana, 1, guide, now)
    assert cash_payments(session) == 2


@pytest.mark.parametrize("amount", [0, -100, 12.5, "100", True])
def test_cash_must_be_a_positive_number_of_cents(session, trip, amount):
    with pytest.raises(svc.InvalidCash):
        svc.record_cash(session, trip["ana"], amount, trip["guide"], trip["now"])


def test_no_cash_from_a_party_that_did_not_come(session, trip):
    svc.mark_no_show(session, trip["ben"], trip["guide"], trip["now"])
    with pytest.raises(svc.MarkedNoShow):
        svc.record_cash(session, trip["ben"], 100, trip["guide"], trip["now"])


def test_stop_visited_is_confirmed_once(make, session, trip):
    departure, stop, guide, now = trip["departure"], trip["stops"][0], trip["guide"], trip["now"]
    visit, new = svc.confirm_stop_visited(session, departure, stop, guide, now)
    assert new is True and visit.confirmed_by_id == guide.id
    again, new = svc.confirm_stop_visited(session, departure, stop, trip["staff"], now)
    assert again.id == visit.id and new is False
    assert session.scalar(select(func.count(StopVisit.id))) == 1
    foreign_stop = make.stop(make.experience(trip["association"]))
    with pytest.raises(svc.StopNotOnRoute):
        svc.confirm_stop_visited(session, departure, foreign_stop, guide, now)


def batch(trip, **extra) -> list[dict]:
    at = trip["now"].isoformat()
    d = trip["departure"].id
    ana, ben = trip["ana"].reference, trip["ben"].reference
    return [
        {"id": "a1", "type": "check_in", "departure_id": d, "booking_reference": ana, "at": at},
        {
            "id": "a2",
            "type": "cash",
            "departure_id": d,
            "booking_reference": ana.lower(),
            "amount_cents": 11500,
            "at": at,
        },
        {"id": "a3", "type": "no_show", "departure_id": d, "booking_reference": ben, "at": at},
        {
            "id": "a4",
            "type": "stop_visited",
            "departure_id": d,
            "stop_id": trip["stops"][1].id,
            "at": at,
        },
    ]


def test_an_offline_batch_applied_twice_changes_nothing_the_second_time(session, trip):
    actions = batch(trip)
    later = trip["now"] + timedelta(hours=3)
    first = svc.apply_offline_actions(session, trip["guide"], actions, later)
    assert [(r["id"], r["ok"], r["status"]) for r in first] == [
        ("a1", True, "applied"),
        ("a2", True, "applied"),
        ("a3", True, "applied"),
        ("a4", True, "applied"),
    ]
    assert trip["ana"].checked_in_at == trip["now"]  # when it happened, not when it synced
    assert trip["ben"].no_show_at == trip["now"]
    state = (cash_payments(session), session.scalar(select(func.count(StopVisit.id))))
    second = svc.apply_offline_actions(session, trip["guide"], actions, later)
    assert [r["status"] for r in second] == ["unchanged"] * 4
    assert (cash_payments(session), session.scalar(select(func.count(StopVisit.id)))) == state
    assert state == (1, 1)


def test_bad_actions_are_reported_one_by_one(make, session, trip):
    good_check_in, _, _, good_stop = batch(trip)
    at = trip["now"].isoformat()
    d = trip["departure"].id
    elsewhere = make.departure(make.experience(make.association()), starts_at=trip["now"])
    actions = [
        good_check_in,
        {
            "id": "b1",
            "type": "check_in",
            "departure_id": d,
            "booking_reference": "XXX-2222",
            "at": at,
        },
        {
            "id": "b2",
            "type": "cash",
            "departure_id": d,
            "booking_reference": trip["ben"].reference,
            "amount_cents": 999999,
            "at": at,
        },
        {"id": "b3", "type": "dance", "departure_id": d, "at": at},
        "not an action",
        {"id": "b5", "type": "check_in", "departure_id": d, "booking_reference": "x", "at": "soon"},
        {
            "id": "b6",
            "type": "check_in",
            "departure_id": elsewhere.id,
            "booking_reference": "x",
            "at": at,
        },
        {"id": "b7", "type": "stop_visited", "departure_id": d, "stop_id": "1", "at": at},
        good_stop,
    ]
    results = svc.apply_offline_actions(
        session, trip["guide"], actions, trip["now"] + timedelta(hours=1)
    )
    assert [r["ok"] for r in results] == [True] + [False] * 7 + [True]
    assert [r["id"] for r in results] == ["a1", "b1", "b2", "b3", None, "b5", "b6", "b7", "a4"]
    assert "XXX-2222" in results[1]["message"]
    assert all(r["message"] for r in results if not r["ok"])
    assert trip["ana"].checked_in_at is not None
    assert cash_payments(session) == 0
    assert session.scalar(select(func.count(StopVisit.id))) == 1


def test_no_show_recorded_offline_before_a_later_check_in_is_superseded(session, trip):
    ben, guide, now = trip["ben"], trip["guide"], trip["now"]
    svc.check_in(session, ben, guide, now + timedelta(minutes=20))
    action = {
        "id": "n1",
        "type": "no_show",
        "departure_id": trip["departure"].id,
        "booking_reference": ben.reference,
        "at": (now + timedelta(minutes=10)).isoformat(),
    }
    [result] = svc.apply_offline_actions(session, guide, [action], now + timedelta(hours=1))
    assert result == {"id": "n1", "ok": True, "status": "superseded"}
    assert ben.no_show_at is None


def test_times_from_the_future_are_refused(session, trip):
    action = batch(trip)[0] | {"at": (trip["now"] + timedelta(hours=1)).isoformat()}
    [result] = svc.apply_offline_actions(session, trip["guide"], [action], trip["now"])
    assert result["ok"] is False
    assert trip["ana"].checked_in_at is None


def test_manifest_lists_confirmed_parties_with_money_and_stops(make, session, trip):
    make.booking(trip["departure"], status=BookingStatus.CANCELLED, contact_name="Zoe")
    svc.record_cash(session, trip["ana"], 1500, trip["guide"], trip["now"])
    svc.confirm_stop_visited(
        session, trip["departure"], trip["stops"][0], trip["guide"], trip["now"]
    )
    data = manifest.manifest(session, trip["departure"], "es")
    assert [row.booking.contact_name for row in data.rows] == ["Ana", "Ben"]
    ana = data.rows[0]
    assert ana.tickets == [("adult", 2), ("child", 1)]
    assert (ana.cash_collected_cents, ana.outstanding_cents) == (1500, 10000)
    assert data.participants == 4 and data.outstanding_cents == 10000 + 4500
    assert [s.visited_at is not None for s in data.stops] == [True, False]
    offline = data.as_data()
    assert offline["bookings"][0]["reference"] == trip["ana"].reference
    assert "contact_phone" not in str(offline)


def test_a_no_show_owes_nothing_on_the_day(session, trip):
    """The cash to collect counts the parties that may still come: Ben, marked as not come,
    still owes his $45 on paper, but nobody will collect it."""
    before = manifest.manifest(session, trip["departure"], "es")
    assert before.outstanding_cents == 11500 + 4500
    svc.mark_no_show(session, trip["ben"], trip["guide"], trip["now"])
    after = manifest.manifest(session, trip["departure"], "es")
    assert after.outstanding_cents == 11500
    ben = next(row for row in after.rows if row.booking.contact_name == "Ben")
    assert ben.outstanding_cents == 4500  # the booking's own balance is unchanged
    # The guide's schedule and the staff's board agree.
    [item] = guide_calendar.my_schedule(session, trip["guide"], trip["now"] - timedelta(minutes=1))
    assert item.cash_due_cents == 11500
    row = board.departure_row(session, trip["departure"], trip["now"])
    assert row.due_on_arrival_cents == 11500


@pytest.mark.parametrize(
    "typed",
    ["{ref}", "{lower}", "{bare}", "{bare_lower}", " {code} {body} ", "{code}–{body}", "{body}"],
)
def test_a_reference_is_found_however_it_is_typed(session, trip, typed):
    reference = trip["ana"].reference
    code, body = reference.split("-")
    text = typed.format(
        ref=reference,
        lower=reference.lower(),
        bare=code + body,
        bare_lower=(code + body).lower(),
        code=code.lower(),
        body=body.lower(),
    )
    assert svc.booking_on(session, trip["departure"], text).id == trip["ana"].id


def test_an_unknown_reference_is_said_back_as_typed(session, trip):
    with pytest.raises(svc.UnknownReference) as caught:
        svc.booking_on(session, trip["departure"], "  kal4n4y7t ")
    assert "kal4n4y7t" in str(caught.value)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"])
def test_a_moment_that_cannot_be_moved_to_utc_is_refused_not_a_crash(session, trip, at):
    action = {
        "id": "o1",
        "type": "check_in",
        "departure_id": trip["departure"].id,
        "booking_reference": trip["ana"].reference,
        "at": at,
    }
    [result] = svc.apply_offline_actions(
        session, trip["guide"], [action], trip["now"] + timedelta(hours=1)
    )
    assert result["ok"] is False and result["message"]
    assert trip["ana"].checked_in_at is None


def test_cash_costs_the_same_whatever_the_departures_payments(session, trip):
    """Each cash entry released every payment of the departure again, and read each of the
    booking's payments' refunds one query at a time: 200 entries of one cent took 155 s and
    held the database's write lock throughout. Only the new payment's shares can change."""
    ana, guide, now = trip["ana"], trip["guide"], trip["now"]
    svc.confirm_stop_visited(session, trip["departure"], trip["stops"][0], guide, now)
    svc.record_cash(session, ana, 1, guide, now, client_ref="first")  # opens the accounts

    def statements_for_one_entry(ref: str) -> int:
        with statements_run(session) as run:
            svc.record_cash(session, ana, 1, guide, now, client_ref=ref)
        return len(run)

    second = statements_for_one_entry("second")
    for n in range(30):
        svc.record_cash(session, ana, 1, guide, now, client_ref=f"more-{n}")
    assert statements_for_one_entry("last") == second
    # What it released is all a full release would: nothing is left for one to write.
    with statements_run(session) as run:
        releases.release_departure(session, trip["departure"], now)
    assert not [s for s in run if s.lstrip().upper().startswith("INSERT")]


def test_an_action_sent_again_after_it_was_undone_is_not_applied_again(session, trip):
    """The reply to a sync was lost to bad signal; meanwhile the guide undid the no-show on
    the manifest; then the phone sends its queue again. The undo stands."""
    ben, guide, now = trip["ben"], trip["guide"], trip["now"]
    action = {
        "id": "d1",
        "type": "no_show",
        "departure_id": trip["departure"].id,
        "booking_reference": ben.reference,
        "at": now.isoformat(),
    }
    later = now + timedelta(minutes=5)
    [first] = svc.apply_offline_actions(session, guide, [action], later)
    assert first["status"] == "applied" and ben.no_show_at is not None
    assert svc.undo_no_show(session, ben, guide, later) is True
    [again] = svc.apply_offline_actions(session, guide, [action], later)
    assert again == {"id": "d1", "ok": True, "status": "unchanged"}
    assert ben.no_show_at is None
    # Another guide's action of the same id is its own.
    other = trip["staff"]
    [theirs] = svc.apply_offline_actions(session, other, [action | {"id": "d1"}], later)
    assert theirs["status"] == "applied"


def test_a_batch_whose_later_fact_won_is_answered_the_same_when_sent_again(session, trip):
    """Not come (a minute ago), then checked in (five minutes ago, recorded later): sent
    twice, the second answer must not call the first action an error."""
    ana, guide, now = trip["ana"], trip["guide"], trip["now"]
    d, ref = trip["departure"].id, ana.reference
    actions = [
        {
            "id": "c1",
            "type": "no_show",
            "departure_id": d,
            "booking_reference": ref,
            "at": (now - timedelta(minutes=1)).isoformat(),
        },
        {
            "id": "c2",
            "type": "check_in",
            "departure_id": d,
            "booking_reference": ref,
            "at": (now - timedelta(minutes=5)).isoformat(),
        },
    ]
    first = svc.apply_offline_actions(session, guide, actions, now)
    assert all(r["ok"] for r in first), first
    again = svc.apply_offline_actions(session, guide, actions, now)
    assert [(r["id"], r["ok"], r["status"]) for r in again] == [
        ("c1", True, "unchanged"),
        ("c2", True, "unchanged"),
    ]
