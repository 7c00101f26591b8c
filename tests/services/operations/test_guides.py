"""Guides: assignments without overlaps, one lead, time off, my schedule, the iCal feed."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tourism.database import utcnow, write_transactions
from tourism.errors import NotFound
from tourism.models import (
    BookingStatus,
    DepartureStatus,
    GuideRole,
    GuideTimeOff,
    Membership,
    Payment,
    PaymentStatus,
    Role,
)
from tourism.services.operations import guide_calendar
from tourism.services.operations import guides as svc

ZONE = ZoneInfo("America/Guayaquil")


@pytest.fixture(autouse=True)
def write_mode():
    """Service calls here run as a writing request would: SQLite's write lock taken up front."""
    with write_transactions():
        yield


@pytest.fixture
def world(make):
    """One association with an experience, a guide, a staff member; a start time on the hour."""
    association = make.association()
    experience = make.experience(association, duration_minutes=240)
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    return dict(
        association=association,
        experience=experience,
        other_experience=make.experience(association),
        guide=make.guide(association),
        staff=make.user(password="", memberships=[(association, Role.STAFF)]),
        start=start,
    )


def departure_at(make, experience, starts_at, **kw):
    return make.departure(experience, starts_at=starts_at, **kw)


def test_assign_a_lead_and_change_the_role(make, session, world):
    departure = departure_at(make, world["experience"], world["start"])
    now = utcnow()
    first = svc.assign_guide(session, departure, world["guide"], "lead", world["staff"], now)
    assert first.role == GuideRole.LEAD
    again = svc.assign_guide(session, departure, world["guide"], "assistant", world["staff"], now)
    assert again.id == first.id and again.role == GuideRole.ASSISTANT


def test_overlapping_departures_of_one_guide_are_refused(make, session, world):
    first = departure_at(make, world["experience"], world["start"])
    overlapping = departure_at(make, world["other_experience"], world["start"] + timedelta(hours=2))
    svc.assign_guide(session, first, world["guide"], "lead", world["staff"], utcnow())
    with pytest.raises(svc.GuideBusy) as caught:
        svc.assign_guide(session, overlapping, world["guide"], "lead", world["staff"], utcnow())
    assert caught.value.status_code == 409
    assert world["guide"].name in str(caught.value)


def test_adjacent_departures_are_allowed(make, session, world):
    middle = departure_at(make, world["experience"], world["start"])
    before = departure_at(make, world["other_experience"], world["start"] - timedelta(hours=4))
    after = departure_at(make, world["other_experience"], middle.ends_at)
    assert before.ends_at == middle.starts_at
    for departure in (middle, before, after):
        svc.assign_guide(session, departure, world["guide"], "lead", world["staff"], utcnow())
        assert svc.assignment_of(session, departure, world["guide"]) is not None


def test_cancelled_departures_do_not_block(make, session, world):
    cancelled = departure_at(
        make, world["experience"], world["start"], status=DepartureStatus.CANCELLED
    )
    make.assign(cancelled, world["guide"])
    same_time = departure_at(make, world["other_experience"], world["start"])
    svc.assign_guide(session, same_time, world["guide"], "lead", world["staff"], utcnow())
    with pytest.raises(svc.DepartureUnavailable):
        svc.assign_guide(session, cancelled, world["staff"], "assistant", world["staff"], utcnow())


def test_overlap_counts_across_associations(make, session, world):
    """One person cannot guide for two associations at once."""
    other = make.association()
    make._add(Membership(user=world["guide"], association=other, role=Role.GUIDE))
    elsewhere = departure_at(make, make.experience(other), world["start"] + timedelta(hours=1))
    make.assign(elsewhere, world["guide"])
    departure = departure_at(make, world["experience"], world["start"])
    with pytest.raises(svc.GuideBusy):
        svc.assign_guide(session, departure, world["guide"], "lead", world["staff"], utcnow())


def test_time_off_blocks_an_assignment_but_adjacent_time_off_does_not(make, session, world):
    departure = departure_at(make, world["experience"], world["start"])
    svc.add_time_off(
        session,
        world["guide"],
        world["association"],
        world["start"] - timedelta(days=1),
        world["start"],
        "",
    )
    svc.add_time_off(
        session,
        world["guide"],
        world["association"],
        departure.ends_at,
        departure.ends_at + timedelta(days=1),
        "",
    )
    svc.assign_guide(session, departure, world["guide"], "lead", world["staff"], utcnow())
    later = departure_at(make, world["other_experience"], world["start"] + timedelta(days=2))
    svc.add_time_off(
        session,
        world["guide"],
        world["association"],
        later.starts_at + timedelta(hours=1),
        later.starts_at + timedelta(hours=2),
        "Médico",
    )
    with pytest.raises(svc.GuideOnTimeOff) as caught:
        svc.assign_guide(session, later, world["guide"], "lead", world["staff"], utcnow())
    assert caught.value.status_code == 409


def test_one_lead_per_departure(make, session, world):
    departure = departure_at(make, world["experience"], world["start"])
    second = make.guide(world["association"])
    now = utcnow()
    svc.assign_guide(session, departure, world["guide"], "lead", world["staff"], now)
    with pytest.raises(svc.LeadTaken):
        svc.assign_guide(session, departure, second, "lead", world["staff"], now)
    svc.assign_guide(session, departure, second, "assistant", world["staff"], now)
    with pytest.raises(svc.LeadTaken):
        svc.assign_guide(session, departure, second, "lead", world["staff"], now)
    svc.unassign_guide(session, departure, world["guide"], world["staff"], now)
    assert svc.assign_guide(session, departure, second, "lead", world["staff"], now).role == "lead"
    with pytest.raises(NotFound):
        svc.unassign_guide(session, departure, world["guide"], world["staff"], now)


def test_only_guides_of_the_association_and_only_by_its_managers(make, session, world):
    departure = departure_at(make, world["experience"], world["start"])
    outsider = make.guide(make.association())
    with pytest.raises(svc.NotAGuide):
        svc.assign_guide(session, departure, outsider, "lead", world["staff"], utcnow())
    with pytest.raises(svc.NotAGuide):  # staff, but not a guide
        svc.assign_guide(session, departure, world["staff"], "lead", world["staff"], utcnow())
    with pytest.raises(NotFound):  # a guide cannot assign
        svc.assign_guide(session, departure, world["guide"], "lead", world["guide"], utcnow())
    foreign_staff = make.user(password="", memberships=[(make.association(), Role.STAFF)])
    with pytest.raises(NotFound):
        svc.assign_guide(session, departure, world["guide"], "lead", foreign_staff, utcnow())
    with pytest.raises(svc.InvalidRequest):
        svc.assign_guide(session, departure, world["guide"], "boss", world["staff"], utcnow())


def test_time_off_is_kept_and_lists_departures_to_reassign(make, session, world):
    assigned = departure_at(make, world["experience"], world["start"])
    make.assign(assigned, world["guide"])
    cancelled = departure_at(
        make, world["other_experience"], world["start"], status=DepartureStatus.CANCELLED
    )
    make.assign(cancelled, world["guide"])
    time_off, conflicts = svc.add_time_off(
        session,
        world["guide"],
        world["association"],
        world["start"] - timedelta(hours=12),
        world["start"] + timedelta(hours=12),
        "  Family celebration ",
        now=utcnow(),
    )
    assert time_off.id and time_off.note == "Family celebration"
    assert conflicts == [assigned]
    assert [(a.user_id, [t.id for t in offs]) for a, offs in svc.assigned_guides(session, assigned)]
    assert svc.assigned_guides(session, assigned)[0][1] == [time_off]


@pytest.mark.parametrize(
    "start_offset, end_offset",
    [(timedelta(hours=2), timedelta(hours=2)), (timedelta(hours=3), timedelta(hours=1))],
)
def test_time_off_must_end_after_it_starts(session, world, start_offset, end_offset):
    with pytest.raises(svc.InvalidTimeOff):
        svc.add_time_off(
            session,
            world["guide"],
            world["association"],
            world["start"] + start_offset,
            world["start"] + end_offset,
            "",
        )


def test_time_off_only_for_own_association_and_removed_only_by_its_guide(make, session, world):
    with pytest.raises(NotFound):
        svc.add_time_off(
            session,
            world["guide"],
            make.association(),
            world["start"],
            world["start"] + timedelta(days=1),
            "",
        )
    time_off, _ = svc.add_time_off(
        session,
        world["guide"],
        world["association"],
        world["start"],
        world["start"] + timedelta(days=1),
        "",
    )
    with pytest.raises(NotFound):
        svc.remove_time_off(session, world["staff"], time_off.id)
    svc.remove_time_off(session, world["guide"], time_off.id)
    assert session.get(GuideTimeOff, time_off.id) is None


def test_my_schedule_counts_people_languages_and_cash(make, session, world):
    now = utcnow()
    departure = departure_at(make, world["experience"], now + timedelta(days=2))
    make.assign(departure, world["guide"])
    make.booking(departure, {"adult": 2, "child": 1}, language="es")  # 11500 due
    paid = make.booking(departure, {"adult": 1}, language="en")
    paid.payments.append(
        Payment(provider="stripe", amount_cents=1500, status=PaymentStatus.SUCCEEDED)
    )
    make.booking(departure, {"adult": 5}, status=BookingStatus.CANCELLED, language="qu")
    make.booking(departure, {"adult": 4}, status=BookingStatus.HELD, language="qu")
    # Not in the schedule: too far ahead, already over, someone else's.
    make.assign(departure_at(make, world["experience"], now + timedelta(days=31)), world["guide"])
    make.assign(departure_at(make, world["experience"], now - timedelta(days=1)), world["guide"])
    departure_at(make, world["other_experience"], now + timedelta(days=1))
    session.flush()

    [item] = guide_calendar.my_schedule(session, world["guide"], now, "en")
    assert item.departure == departure
    assert item.participants == 4 and item.bookings == 2
    assert item.languages == ["en", "es"]
    assert item.cash_due_cents == 11500 + 4500 - 1500
    assert item.meeting_point == "Tena square"
    assert item.title.startswith("Test route")


def test_ical_feed_in_local_time_with_stable_uids_and_cancellations(make, session, world):
    now = utcnow()
    guide = world["guide"]
    guide.locale = "en"
    membership = guide.memberships[0]
    starts_at = now.replace(microsecond=0) + timedelta(days=4)
    upcoming = departure_at(make, world["experience"], starts_at)
    make.booking(upcoming, {"adult": 2, "child": 1})
    cancelled = departure_at(
        make,
        world["other_experience"],
        starts_at + timedelta(days=1),
        status=DepartureStatus.CANCELLED,
    )
    recent = departure_at(make, world["experience"], now - timedelta(days=10))
    old = departure_at(make, world["experience"], now - timedelta(days=40))
    unassigned = departure_at(make, world["experience"], starts_at + timedelta(days=2))
    for departure in (upcoming, cancelled, recent, old):
        make.assign(departure, guide)

    feed = guide_calendar.ical_feed(session, membership, now)
    events = {str(e["uid"]): e for e in Calendar.from_ical(feed).walk("VEVENT")}
    assert set(events) == {f"departure-{d.id}@chakraroutes" for d in (upcoming, cancelled, recent)}
    assert f"departure-{unassigned.id}@chakraroutes" not in events

    event = events[f"departure-{upcoming.id}@chakraroutes"]
    assert event["dtstart"].params["TZID"] == "America/Guayaquil"
    assert event["dtstart"].dt == starts_at.astimezone(ZONE)
    assert event["dtstart"].dt.replace(tzinfo=None) == (starts_at - timedelta(hours=5)).replace(
        tzinfo=None
    )
    assert event["dtend"].dt == upcoming.ends_at
    assert str(event["summary"]).endswith("(3 people)")
    assert str(event["location"]) == "Tena square"
    assert str(event["status"]) == "CONFIRMED"
    assert str(events[f"departure-{cancelled.id}@chakraroutes"]["status"]) == "CANCELLED"
    assert "VTIMEZONE" in feed.decode()

    again = guide_calendar.ical_feed(session, membership, now + timedelta(minutes=5))
    assert {str(e["uid"]) for e in Calendar.from_ical(again).walk("VEVENT")} == set(events)


def test_feed_shows_only_the_membership_association(make, session, world):
    other = make.association()
    make._add(Membership(user=world["guide"], association=other, role=Role.GUIDE))
    elsewhere = departure_at(make, make.experience(other), world["start"] + timedelta(days=2))
    make.assign(elsewhere, world["guide"])
    home = departure_at(make, world["experience"], world["start"])
    make.assign(home, world["guide"])
    membership = next(m for m in world["guide"].memberships if m.association_id != other.id)
    feed = Calendar.from_ical(guide_calendar.ical_feed(session, membership, utcnow()))
    assert [str(e["uid"]) for e in feed.walk("VEVENT")] == [f"departure-{home.id}@chakraroutes"]


def test_feed_tokens_rotate_and_only_open_active_guides(make, session, world):
    membership = world["guide"].memberships[0]
    first = guide_calendar.rotate_ical_token(membership)
    session.flush()
    assert guide_calendar.membership_for_token(session, first) == membership
    second = guide_calendar.rotate_ical_token(membership)
    session.flush()
    assert second != first
    with pytest.raises(NotFound):
        guide_calendar.membership_for_token(session, first)
    staff_membership = world["staff"].memberships[0]
    staff_token = guide_calendar.rotate_ical_token(staff_membership)
    session.flush()
    for token in (staff_token, "", "x" * 65, "nope"):
        with pytest.raises(NotFound):
            guide_calendar.membership_for_token(session, token)
    world["guide"].is_active_account = False
    session.flush()
    with pytest.raises(NotFound):
        guide_calendar.membership_for_token(session, second)
