"""The management services on their own: experience rules, rosters and their aggregates,
invitations, schedules and departures, and the operations board's numbers."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest, NotFound
from tourism.extensions import db
from tourism.models import (
    BookingStatus,
    Experience,
    ExperienceStatus,
    Notification,
    Role,
    StopVisit,
)
from tourism.services.access import accounts
from tourism.services.associations import management, rosters
from tourism.services.catalog import experiences as experiences_admin
from tourism.services.operations import board as operations_board
from tourism.services.operations import schedules as schedules_admin
from tourism.timefmt import display_zone, local_to_utc, local_today


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    # Departure changes lock the row; on SQLite that needs a write transaction.
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def kallari(make):
    return make.association(name="Kallari")


def spec(**changes) -> experiences_admin.ExperienceInput:
    data = dict(
        slug="ruta-del-cacao",
        province="napo",
        duration_minutes=240,
        max_tickets_per_booking=8,
        deposit_percent=30,
        texts={"es": experiences_admin.TextInput(title="Ruta del Cacao")},
        prices=(experiences_admin.PriceInput("adult", 4500),),
        policy=((48, 100), (24, 50)),
    )
    return experiences_admin.ExperienceInput(**(data | changes))


def stop(name="Chakra", family=None, stop_id=None) -> experiences_admin.StopInput:
    return experiences_admin.StopInput(
        stop_id=stop_id,
        family_id=family.id if family else None,
        duration_minutes=None,
        texts={"es": (name, "")},
    )


def experiences() -> int:
    return db.session.scalar(select(func.count(Experience.id)))


# --- Experiences ----------------------------------------------------------------------------


def test_create_experience_is_a_draft_of_that_association(session, kallari, make):
    family = make.family(kallari)
    created = experiences_admin.create_experience(
        session, kallari, spec(stops=(stop("Grefa", family), stop("Fábrica")))
    )
    assert created.status == ExperienceStatus.DRAFT
    assert created.association_id == kallari.id
    assert [(s.position, s.family_id) for s in created.stops] == [(0, family.id), (1, None)]


def test_a_stop_hosted_by_another_associations_family_is_refused(session, kallari, make):
    theirs = make.family(make.association())
    with pytest.raises(experiences_admin.UnknownFamily):
        experiences_admin.create_experience(session, kallari, spec(stops=(stop("X", theirs),)))
    existing = make.experience(kallari)
    with pytest.raises(experiences_admin.UnknownFamily):
        experiences_admin.update_experience(
            session, existing, spec(slug=existing.slug, stops=(stop("X", theirs),))
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"prices": (experiences_admin.PriceInput("adult", 45.5),)},  # never floats
        {"prices": (experiences_admin.PriceInput("adult", 0),)},
        {"prices": (experiences_admin.PriceInput("adult", True),)},
        {"prices": (experiences_admin.PriceInput("vip", 4500),)},
        {
            "prices": (
                experiences_admin.PriceInput("adult", 1),
                experiences_admin.PriceInput("adult", 2),
            )
        },
        {"policy": ((24, 100), (48, 50))},  # later cancellation getting more back
        {"policy": ((48, 100), (48, 50))},
        {"policy": ((48, 101),)},
        {"deposit_percent": 0},
        {"payment_options": ()},
        {"payment_options": ("bitcoin",)},
        {"texts": {"en": experiences_admin.TextInput(title="Only English")}},
        {"texts": {"es": experiences_admin.TextInput(title="  ")}},
        {"slug": "--bad"},
        {"province": "guayas"},
        {"languages": ()},
        {"stops": (stop(""),)},
    ],
)
def test_invalid_experiences_are_refused(session, kallari, changes):
    with pytest.raises(InvalidRequest):
        experiences_admin.create_experience(session, kallari, spec(**changes))


def test_a_stop_with_visits_cannot_be_removed(session, kallari, make):
    experience = make.experience(kallari)
    visited = make.stop(experience)
    departure = make.departure(experience)
    session.add(StopVisit(departure_id=departure.id, stop_id=visited.id))
    session.flush()
    with pytest.raises(experiences_admin.StopInUse):
        experiences_admin.update_experience(session, experience, spec(slug=experience.slug))


def test_publishing_rules(session, kallari, make):
    no_price = make.experience(kallari, prices={}, status=ExperienceStatus.DRAFT)
    with pytest.raises(experiences_admin.CannotPublish):
        experiences_admin.publish_experience(session, no_price)
    inactive = make.experience(kallari, prices={"adult": 4500}, status=ExperienceStatus.DRAFT)
    inactive.price_categories[0].is_active = False
    with pytest.raises(experiences_admin.CannotPublish):
        experiences_admin.publish_experience(session, inactive)
    untitled = make.experience(kallari, status=ExperienceStatus.DRAFT)
    untitled.texts = [t for t in untitled.texts if t.locale != "es"]
    session.flush()
    with pytest.raises(experiences_admin.CannotPublish):
        experiences_admin.publish_experience(session, untitled)
    assert {no_price.status, inactive.status, untitled.status} == {ExperienceStatus.DRAFT}

    ready = make.experience(kallari, status=ExperienceStatus.DRAFT)
    experiences_admin.publish_experience(session, ready)
    assert ready.status == ExperienceStatus.PUBLISHED
    experiences_admin.archive_experience(session, ready)
    assert ready.status == ExperienceStatus.ARCHIVED
    experiences_admin.publish_experience(session, ready)
    assert ready.status == ExperienceStatus.PUBLISHED


def test_a_taken_slug_is_a_conflict(session, kallari, make):
    make.experience(kallari, slug="ruta-del-cacao")
    with pytest.raises(experiences_admin.SlugTaken):
        experiences_admin.create_experience(session, kallari, spec())
    assert experiences() == 1


# --- Rosters, aggregates, associations -------------------------------------------------------


def test_roster_summary_counts_only_in_aggregate(session, kallari, make):
    for gender in ("female", "female", "male", None):
        make.family(kallari, representative_gender=gender)
    make.family(kallari, representative_gender="female", is_active=False)
    make.family(make.association(), representative_gender="female")
    for young in (True, False, None):
        guide = make.user(password="", memberships=[(kallari, Role.GUIDE)])
        rosters.update_guide(session, guide.memberships[0], rosters.GuideInput(under_30=young))
    make.user(password="", memberships=[(kallari, Role.STAFF)])
    summary = rosters.roster_summary(session, kallari)
    assert summary == rosters.RosterSummary(
        families=4,
        families_represented_by_women=2,
        families_gender_known=3,
        guides=3,
        guides_under_30=1,
        guides_age_known=2,
    )


def test_family_rules(session, kallari):
    family = rosters.create_family(
        session, kallari, rosters.FamilyInput(name=" Familia Tapuy ", languages=("qu", "es"))
    )
    assert (family.name, family.languages, family.is_demo) == ("Familia Tapuy", "qu,es", False)
    with pytest.raises(InvalidRequest):
        rosters.update_family(session, family, rosters.FamilyInput(name=""))
    with pytest.raises(InvalidRequest):
        rosters.update_family(
            session, family, rosters.FamilyInput(name="X", representative_gender="unknown")
        )


def test_only_guide_memberships_are_on_the_guides_roster(session, kallari, make):
    staff = make.user(password="", memberships=[(kallari, Role.STAFF)])
    admin = make.user(password="", memberships=[(kallari, Role.ADMIN)])
    with pytest.raises(NotFound):
        rosters.guide_membership(session, staff.memberships[0].id, admin)


def test_only_platform_admins_create_associations(session, kallari, make):
    admin = make.user(password="", memberships=[(kallari, Role.ADMIN)])
    data = management.AssociationInput(name="Nueva", slug="nueva", code="NUE", province="napo")
    with pytest.raises(NotFound):
        management.create_association(session, admin, data, utcnow())
    root = make.user(password="", is_platform_admin=True)
    created = management.create_association(session, root, data, utcnow())
    assert created.code == "NUE"
    with pytest.raises(management.AssociationTaken):
        management.create_association(session, root, data, utcnow())


# --- Invitations ----------------------------------------------------------------------------


def link(token: str) -> str:
    return f"https://chakra.example/invitations/{token}"


def test_an_admin_invites_a_guide_who_can_then_join(session, kallari, make):
    admin = make.user(password="", memberships=[(kallari, Role.ADMIN)], name="Rosa")
    invitation = management.invite_member(
        session, admin, kallari, " Luis@Example.org ", "guide", utcnow(), link
    )
    assert invitation.email == "luis@example.org"
    token = invitation.url.rsplit("/", 1)[1]
    queued = session.scalars(select(Notification).where(Notification.kind == "invitation")).one()
    assert queued.recipient == "luis@example.org"
    assert token in queued.context and "Kallari" in queued.context
    user = accounts.accept_invitation(session, token, "Luis", "a long enough password", utcnow())
    assert [(m.association_id, m.role) for m in user.memberships] == [(kallari.id, Role.GUIDE)]


def test_invitation_rules(session, kallari, make):
    admin = make.user(password="", memberships=[(kallari, Role.ADMIN)])
    staff = make.user(password="", memberships=[(kallari, Role.STAFF)], email="staff@example.org")
    now = utcnow()
    with pytest.raises(NotFound):
        management.invite_member(session, staff, kallari, "x@example.org", "guide", now, link)
    with pytest.raises(management.RoleNotInvitable):
        management.invite_member(session, admin, kallari, "x@example.org", "admin", now, link)
    with pytest.raises(management.RoleNotInvitable):
        management.invite_member(session, admin, kallari, "x@example.org", "owner", now, link)
    with pytest.raises(InvalidRequest):
        management.invite_member(session, admin, kallari, "not an email", "guide", now, link)
    with pytest.raises(management.AlreadyMember):
        management.invite_member(session, admin, kallari, "STAFF@example.org", "staff", now, link)
    root = make.user(password="", is_platform_admin=True)
    assert management.invite_member(session, root, kallari, "boss@example.org", "admin", now, link)


# --- Schedules and departures -----------------------------------------------------------------


def weekly(**changes) -> schedules_admin.ScheduleInput:
    data = dict(
        weekdays=("TU", "SA"),
        start_time=time(8, 30),
        duration_minutes=180,
        capacity=12,
        valid_from=local_today(),
        valid_until=None,
    )
    return schedules_admin.ScheduleInput(**(data | changes))


def test_preview_equals_what_saving_generates(session, kallari, make):
    experience = make.experience(kallari)
    start, end = local_today(), local_today() + timedelta(days=45)
    preview = schedules_admin.preview_schedule(
        session, experience, weekly(), start, end, display_zone()
    )
    assert preview and not any(item.exists for item in preview)
    _schedule, created, _results = schedules_admin.create_schedule(
        session, experience, weekly(), start, end, display_zone()
    )
    assert [d.starts_at for d in created] == [item.starts_at for item in preview]
    again = schedules_admin.preview_schedule(
        session, experience, weekly(), start, end, display_zone()
    )
    assert all(item.exists for item in again)


@pytest.mark.parametrize(
    "changes",
    [
        {"weekdays": ()},
        {"weekdays": ("MON",)},
        {"capacity": 0},
        {"capacity": 501},
        {"duration_minutes": 5},
        {"valid_from": date(2030, 1, 2), "valid_until": date(2030, 1, 1)},
    ],
)
def test_bad_schedules_are_refused(session, kallari, make, changes):
    experience = make.experience(kallari)
    with pytest.raises(InvalidRequest):
        schedules_admin.create_schedule(
            session,
            experience,
            weekly(**changes),
            local_today(),
            local_today() + timedelta(days=7),
            display_zone(),
        )


def test_archived_experiences_get_no_new_departures(session, kallari, make):
    experience = make.experience(kallari, status=ExperienceStatus.ARCHIVED)
    with pytest.raises(schedules_admin.ExperienceArchived):
        schedules_admin.generate_for_experience(
            session, experience, local_today(), local_today() + timedelta(days=7), display_zone()
        )


def test_capacity_below_seats_taken_is_refused(session, kallari, make):
    departure = make.departure(make.experience(kallari), capacity=10)
    make.booking(departure, quantities={"adult": 3, "child": 1})
    now = utcnow()
    with pytest.raises(schedules_admin.CapacityBelowSold) as caught:
        schedules_admin.update_departure(session, departure, 3, departure.starts_at, now)
    with force_locale("en"):
        assert "4 seats" in str(caught.value)
    schedules_admin.update_departure(session, departure, 4, departure.starts_at, now)
    assert departure.capacity == 4


def test_a_cancelled_or_started_departure_cannot_change(session, kallari, make):
    experience = make.experience(kallari)
    started = make.departure(experience, starts_in=timedelta(minutes=-5))
    with pytest.raises(schedules_admin.DepartureLocked):
        schedules_admin.update_departure(session, started, 5, started.starts_at, utcnow())
    later = make.departure(experience, starts_in=timedelta(days=9))
    schedules_admin.cancel_departure(session, later, "Lluvia", None, utcnow())
    with pytest.raises(schedules_admin.DepartureLocked):
        schedules_admin.update_departure(session, later, 5, later.starts_at, utcnow())
    with pytest.raises(schedules_admin.DepartureLocked):
        schedules_admin.cancel_departure(session, later, "Otra vez", None, utcnow())


def test_cancel_departure_cancels_and_notifies_pay_on_arrival_bookings(session, kallari, make):
    departure = make.departure(make.experience(kallari))
    booking = make.booking(departure, payment_method="on_arrival")
    affected = schedules_admin.cancel_departure(session, departure, "Río crecido", None, utcnow())
    assert affected == [booking]
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == "Río crecido"
    kinds = session.scalars(
        select(Notification.kind).where(Notification.booking_id == booking.id)
    ).all()
    assert kinds == ["departure_cancelled"]


# --- Operations board -------------------------------------------------------------------------


def test_board_numbers_and_scope(session, kallari, make):
    day = local_today() + timedelta(days=2)
    experience = make.experience(kallari, prices={"adult": 4000})
    departure = make.departure(experience, capacity=8, starts_at=local_to_utc(day, time(9)))
    make.booking(departure, quantities={"adult": 3})
    make.booking(departure, quantities={"adult": 1}, status=BookingStatus.HELD)
    make.booking(departure, quantities={"adult": 2}, status=BookingStatus.REFUNDED)
    elsewhere = make.experience(make.association())
    make.departure(elsewhere, starts_at=local_to_utc(day, time(11)))
    staff = make.user(password="", memberships=[(kallari, Role.STAFF)])
    window = operations_board.window(day, "day", display_zone())
    board = operations_board.operations_board(session, staff, window.start, window.end, utcnow())
    [row] = board.rows
    assert (row.sold, row.held, row.free, row.bookings) == (3, 1, 4, 1)
    assert row.due_on_arrival_cents == board.due_on_arrival_cents == 12000
    root = make.user(password="", is_platform_admin=True)
    everything = operations_board.operations_board(
        session, root, window.start, window.end, utcnow()
    )
    assert len(everything.rows) == 2


def test_week_window_runs_monday_to_monday_in_local_time(app):
    day = local_today()
    window = operations_board.window(day, "week", display_zone())
    assert window.first_day.weekday() == 0 and window.days == 7
    assert window.start.utcoffset() == timedelta(hours=-5)
    assert (window.end - window.start) == timedelta(days=7)
