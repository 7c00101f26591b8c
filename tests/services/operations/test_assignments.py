"""Guides for many departures at once: one guide over a date range or a selection, with one
result per departure (assigned / already / skipped and why), and a schedule's default guides
given to the departures it generates, respecting other departures and time off. Each batch is
one unit of work: all of it is kept, or none."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tourism.database import utcnow, write_transactions
from tourism.errors import NotFound
from tourism.models import DepartureGuide, DepartureStatus, GuideRole, Role, ScheduleGuide
from tourism.services.operations import assignments as svc
from tourism.services.operations import guides, recurrence
from tourism.timefmt import local
from tourism.unit_of_work import unit_of_work

ZONE = ZoneInfo("America/Guayaquil")
Outcome = svc.Outcome


@pytest.fixture(autouse=True)
def write_mode(app):
    """Service calls here run as a writing request would: SQLite's write lock taken up front;
    the reasons are read in English."""
    with write_transactions(), force_locale("en"):
        yield


@pytest.fixture
def route(make):
    """A three-a-week route with 60 days of departures, its association's staff and guides."""
    association = make.association()
    experience = make.experience(association, duration_minutes=240)
    schedule = make.schedule(experience, weekdays="TU,TH,SA")
    today = local(utcnow()).date()
    departures = recurrence.generate_departures(
        make.session, schedule, today + timedelta(days=1), today + timedelta(days=60), ZONE
    )
    return dict(
        association=association,
        experience=experience,
        schedule=schedule,
        departures=departures,
        today=today,
        guide=make.guide(association, name="Rosa Grefa"),
        other_guide=make.guide(association, name="Luis Tanguila"),
        staff=make.user(password="", memberships=[(association, Role.STAFF)]),
    )


def assign_range(session, route, first, last, user=None, role="lead", **kw):
    return svc.assign_guide_to_departures(
        session,
        route["experience"],
        svc.Selection(first_day=first, last_day=last),
        user or route["guide"],
        role,
        kw.get("acting", route["staff"]),
        utcnow(),
        ZONE,
    )


def assignments_of(session, user) -> int:
    return session.scalar(
        select(func.count(DepartureGuide.id)).where(DepartureGuide.user_id == user.id)
    )


def test_sixty_days_of_a_three_a_week_route_in_one_go(session, route):
    departures = route["departures"]
    assert 24 <= len(departures) <= 27
    results = assign_range(
        session, route, route["today"] + timedelta(days=1), route["today"] + timedelta(days=60)
    )
    assert [r.departure.id for r in results] == [d.id for d in departures]
    assert {r.outcome for r in results} == {Outcome.ASSIGNED}
    assert assignments_of(session, route["guide"]) == len(departures)
    # Again: every line says it was already so, and nothing changes.
    again = assign_range(
        session, route, route["today"] + timedelta(days=1), route["today"] + timedelta(days=60)
    )
    assert {r.outcome for r in again} == {Outcome.ALREADY}
    assert assignments_of(session, route["guide"]) == len(departures)


def test_each_conflict_is_reported_on_its_departure_and_the_rest_assigned(make, session, route):
    first, second, third, fourth, fifth, *rest = route["departures"]
    guide = route["guide"]
    # Busy: another route of the same association at the time of the first departure.
    elsewhere = make.departure(
        make.experience(route["association"]), starts_at=first.starts_at + timedelta(hours=1)
    )
    make.assign(elsewhere, guide)
    # Time off over the second.
    guides.add_time_off(
        session,
        guide,
        route["association"],
        second.starts_at - timedelta(hours=1),
        second.ends_at,
        "",
    )
    # The third already has another lead; the fourth is cancelled; the fifth has Rosa already.
    make.assign(third, route["other_guide"], "lead")
    fourth.status = DepartureStatus.CANCELLED
    make.assign(fifth, guide, "lead")
    session.flush()

    results = assign_range(session, route, route["today"], route["today"] + timedelta(days=60))
    by_departure = {r.departure.id: r for r in results}
    assert len(results) == len(route["departures"])
    assert by_departure[first.id].outcome == Outcome.SKIPPED
    assert "Rosa Grefa already guides another departure" in by_departure[first.id].reason
    assert by_departure[second.id].outcome == Outcome.SKIPPED
    assert "Rosa Grefa has time off" in by_departure[second.id].reason
    assert by_departure[third.id].outcome == Outcome.SKIPPED
    assert "already has a lead guide: Luis Tanguila" in by_departure[third.id].reason
    assert by_departure[fourth.id].outcome == Outcome.SKIPPED
    assert "cancelled" in by_departure[fourth.id].reason
    assert by_departure[fifth.id].outcome == Outcome.ALREADY
    assert {by_departure[d.id].outcome for d in rest} == {Outcome.ASSIGNED}
    assert guides.assignment_of(session, first, guide) is None
    assert guides.assignment_of(session, second, guide) is None
    # As an assistant, the departure with a lead takes her too.
    [third_again] = svc.assign_guide_to_departures(
        session,
        route["experience"],
        svc.Selection(departure_ids=(third.id,)),
        guide,
        "assistant",
        route["staff"],
        utcnow(),
        ZONE,
    )
    assert third_again.outcome == Outcome.ASSIGNED


def test_overlapping_departures_in_one_selection_take_the_guide_once(make, session, route):
    first = route["departures"][0]
    same_time = make.departure(make.experience(route["association"]), starts_at=first.starts_at)
    results = svc.assign_guide_to_departures(
        session,
        route["experience"],
        svc.Selection(departure_ids=(first.id,)),
        route["guide"],
        "lead",
        route["staff"],
        utcnow(),
        ZONE,
    )
    assert [r.outcome for r in results] == [Outcome.ASSIGNED]
    [other] = svc.assign_guide_to_departures(
        session,
        same_time.experience,
        svc.Selection(departure_ids=(same_time.id,)),
        route["guide"],
        "lead",
        route["staff"],
        utcnow(),
        ZONE,
    )
    assert other.outcome == Outcome.SKIPPED


def test_a_selection_of_departures_and_departures_already_started(make, session, route):
    chosen = route["departures"][2:5]
    started = make.departure(
        route["experience"], starts_at=utcnow().replace(microsecond=0) - timedelta(hours=1)
    )
    results = svc.assign_guide_to_departures(
        session,
        route["experience"],
        svc.Selection(departure_ids=(started.id, *(d.id for d in chosen))),
        route["guide"],
        "assistant",
        route["staff"],
        utcnow(),
        ZONE,
    )
    assert [r.departure.id for r in results] == [started.id, *(d.id for d in chosen)]
    assert results[0].outcome == Outcome.SKIPPED and "already started" in results[0].reason
    assert all(r.outcome == Outcome.ASSIGNED for r in results[1:])
    roles = session.scalars(
        select(DepartureGuide.role).where(DepartureGuide.user_id == route["guide"].id)
    ).all()
    assert roles == [GuideRole.ASSISTANT] * 3


def test_refusals_change_nothing(make, session, route):
    departure = route["departures"][0]
    whole = svc.Selection(departure_ids=(departure.id,))
    args = (route["experience"], whole)
    # Someone who is not a guide of the association.
    outsider = make.guide(make.association())
    with pytest.raises(guides.NotAGuide):
        svc.assign_guide_to_departures(
            session, *args, outsider, "lead", route["staff"], utcnow(), ZONE
        )
    # Staff of another association: the experience does not exist for them.
    stranger = make.user(password="", memberships=[(make.association(), Role.STAFF)])
    with pytest.raises(NotFound):
        svc.assign_guide_to_departures(
            session, *args, route["guide"], "lead", stranger, utcnow(), ZONE
        )
    # A departure of another experience in the selection.
    foreign = make.departure(make.experience(route["association"]))
    with pytest.raises(NotFound):
        svc.assign_guide_to_departures(
            session,
            route["experience"],
            svc.Selection(departure_ids=(departure.id, foreign.id)),
            route["guide"],
            "lead",
            route["staff"],
            utcnow(),
            ZONE,
        )
    # Nothing chosen, a range the wrong way round, a range too long, a role that is none.
    for selection in (
        svc.Selection(),
        svc.Selection(first_day=route["today"], last_day=route["today"] - timedelta(days=1)),
        svc.Selection(first_day=route["today"], last_day=route["today"] + timedelta(days=400)),
    ):
        with pytest.raises(svc.InvalidRequest):
            svc.assign_guide_to_departures(
                session,
                route["experience"],
                selection,
                route["guide"],
                "lead",
                route["staff"],
                utcnow(),
                ZONE,
            )
    with pytest.raises(svc.InvalidRequest):
        svc.assign_guide_to_departures(
            session, *args, route["guide"], "boss", route["staff"], utcnow(), ZONE
        )
    assert assignments_of(session, route["guide"]) == 0


def test_a_batch_is_one_unit_of_work(app, make, session, route):
    """What a batch assigned is kept only with the rest of its request: an error after it
    (here, raised on purpose) leaves no assignment behind."""
    session.commit()
    first, last = route["today"], route["today"] + timedelta(days=60)
    guide_id = route["guide"].id
    with pytest.raises(RuntimeError), unit_of_work():
        results = assign_range(session, route, first, last)
        assert len(results) == len(route["departures"])
        raise RuntimeError("the request failed after the batch")
    assert (
        session.scalar(
            select(func.count(DepartureGuide.id)).where(DepartureGuide.user_id == guide_id)
        )
        == 0
    )
    with unit_of_work():
        assign_range(session, route, first, last)
    assert session.scalar(
        select(func.count(DepartureGuide.id)).where(DepartureGuide.user_id == guide_id)
    ) == len(route["departures"])


# Default guides of a schedule ---------------------------------------------------------------


def test_generated_departures_get_the_default_guides_where_they_are_free(make, session, route):
    schedule = make.schedule(
        route["experience"], weekdays="MO", start_time=route["schedule"].start_time
    )
    lead, assistant = route["guide"], route["other_guide"]
    svc.set_default_guides(
        session, schedule, [(lead, GuideRole.LEAD), (assistant, "assistant")], utcnow()
    )
    today = route["today"]
    mondays = recurrence.occurrences(
        schedule, today + timedelta(days=1), today + timedelta(days=21), ZONE
    )
    assert len(mondays) == 3
    # The lead is away over the first Monday; the assistant guides elsewhere on the second.
    guides.add_time_off(
        session,
        lead,
        route["association"],
        mondays[0] - timedelta(hours=2),
        mondays[0] + timedelta(hours=6),
        "",
    )
    elsewhere = make.departure(make.experience(route["association"]), starts_at=mondays[1])
    make.assign(elsewhere, assistant)
    session.flush()

    created, results = recurrence.generate_with_guides(
        session, schedule, today + timedelta(days=1), today + timedelta(days=21), ZONE, utcnow()
    )
    assert [d.starts_at for d in created] == mondays
    lines = {(r.departure.starts_at, r.guide.id): r for r in results}
    assert len(lines) == 6
    assert lines[(mondays[0], lead.id)].outcome == Outcome.SKIPPED
    assert "time off" in lines[(mondays[0], lead.id)].reason
    assert lines[(mondays[1], assistant.id)].outcome == Outcome.SKIPPED
    assert "already guides another departure" in lines[(mondays[1], assistant.id)].reason
    kept = {k for k, r in lines.items() if r.outcome == Outcome.ASSIGNED}
    assert len(kept) == 4
    for starts_at, user_id in kept:
        departure = next(d for d in created if d.starts_at == starts_at)
        assignment = session.scalar(
            select(DepartureGuide).where(
                DepartureGuide.departure_id == departure.id, DepartureGuide.user_id == user_id
            )
        )
        assert assignment.role == (GuideRole.LEAD if user_id == lead.id else GuideRole.ASSISTANT)
    # The daily command (generate_departures) gives them too, to what it creates.
    later = recurrence.generate_departures(
        session, schedule, today + timedelta(days=22), today + timedelta(days=28), ZONE
    )
    assert len(later) == 1
    assert guides.assignment_of(session, later[0], lead).role == GuideRole.LEAD


def test_default_guides_are_checked_and_replace_the_previous_ones(make, session, route):
    schedule, lead, other = route["schedule"], route["guide"], route["other_guide"]
    with pytest.raises(svc.InvalidDefaultGuides):
        svc.set_default_guides(session, schedule, [(lead, "lead"), (other, "lead")], utcnow())
    with pytest.raises(svc.InvalidDefaultGuides):
        svc.set_default_guides(session, schedule, [(lead, "lead"), (lead, "assistant")], utcnow())
    with pytest.raises(guides.NotAGuide):
        svc.set_default_guides(
            session, schedule, [(make.guide(make.association()), "lead")], utcnow()
        )
    svc.set_default_guides(session, schedule, [(lead, "lead")], utcnow())
    svc.set_default_guides(session, schedule, [(other, "lead")], utcnow())
    rows = session.scalars(select(ScheduleGuide).where(ScheduleGuide.schedule_id == schedule.id))
    assert [(row.user_id, row.role) for row in rows] == [(other.id, GuideRole.LEAD)]


def test_changing_default_guides_gives_them_to_the_coming_departures(make, session, route):
    results = svc.change_default_guides(
        session,
        route["schedule"],
        [(route["guide"], "lead")],
        route["staff"],
        utcnow(),
    )
    assert len(results) == len(route["departures"])
    assert {r.outcome for r in results} == {Outcome.ASSIGNED}
    nothing = svc.change_default_guides(
        session,
        route["schedule"],
        [(route["other_guide"], "assistant")],
        route["staff"],
        utcnow(),
        give_to_coming=False,
    )
    assert nothing == []
    assert assignments_of(session, route["other_guide"]) == 0
    stranger = make.user(password="", memberships=[(make.association(), Role.ADMIN)])
    with pytest.raises(NotFound):
        svc.change_default_guides(session, route["schedule"], [], stranger, utcnow())
