"""Management pages for running departures: schedules with a preview, generating departures,
editing or cancelling one departure, and the day/week operations board.

The views join the ``manage`` blueprint.
"""

from __future__ import annotations

from datetime import timedelta

from flask import flash, request
from flask_babel import gettext as _
from flask_babel import ngettext

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.assignments import BulkAssignForm, NewScheduleForm
from ...forms.manage import (
    CancelDepartureForm,
    DepartureForm,
    OperationsForm,
    WindowForm,
)
from ...models import Association, Departure, Experience
from ...services.access import tenancy
from ...services.booking import availability
from ...services.operations import assignments, guides
from ...services.operations import board as operations_board
from ...services.operations import schedules as schedules_admin
from ...services.operations.assignments import Outcome
from ...services.payments.stripe_gateway import GatewayError, current_gateway
from ...timefmt import display_zone, fmt_datetime, local, local_to_utc, local_today
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped

#: The window a new schedule previews and fills by default.
DEFAULT_WINDOW_DAYS = 60


def _window_defaults() -> dict:
    today = local_today()
    return {"window_from": today, "window_until": today + timedelta(days=DEFAULT_WINDOW_DAYS)}


def schedules_page(experience, window_form=None, assign_form=None, status=200, error=None):
    """An experience's schedules (with their default guides) and coming departures (with
    theirs), with the forms to create departures and to assign a guide to many."""
    schedule_list = schedules_admin.list_schedules(db.session, experience)
    departures = schedules_admin.upcoming_departures(db.session, experience, utcnow())
    team = guides.guides_of(db.session, experience.association_id)
    if assign_form is None:
        today = local_today()
        assign_form = BulkAssignForm(
            formdata=None,
            data={"first_day": today, "last_day": today + timedelta(days=DEFAULT_WINDOW_DAYS)},
        )
        assign_form.offer(team, [item.departure.id for item in departures])
    return page(
        "manage/schedules.html",
        status,
        error,
        experience=experience,
        association=experience.association,
        schedules=schedule_list,
        default_guides=assignments.default_guides_by_schedule(db.session, schedule_list),
        departures=departures,
        window_form=window_form or WindowForm(formdata=None, data=_window_defaults()),
        assign_form=assign_form,
        has_guides=bool(team),
    )


@bp.get(f"/experiences/<{ID}:experience_id>/schedules")
@managers_only
def schedules(experience_id: int):
    return schedules_page(scoped(Experience, experience_id))


@bp.post(f"/experiences/<{ID}:experience_id>/departures/generate")
@managers_only
def generate_departures(experience_id: int):
    experience = scoped(Experience, experience_id)
    form = WindowForm()
    if not form.validate():
        return schedules_page(experience, form, status=400)
    try:
        with unit_of_work():
            created = schedules_admin.generate_for_experience(
                db.session,
                experience,
                form.window_from.data,
                form.window_until.data,
                display_zone(),
            )
    except DomainError as error:
        return schedules_page(experience, form, status=error.status_code, error=error)
    message = ngettext(
        "%(num)s departure was created.", "%(num)s departures were created.", len(created)
    )
    return done(message, "manage.schedules", experience_id=experience.id)


@bp.route(f"/experiences/<{ID}:experience_id>/schedules/new", methods=["GET", "POST"])
@managers_only
def new_schedule(experience_id: int):
    """Fill in a weekly schedule, preview the departures it makes, then save."""
    experience = scoped(Experience, experience_id)
    context = {"experience": experience, "association": experience.association, "preview": None}
    team = guides.guides_of(db.session, experience.association_id)
    if request.method == "GET":
        defaults = _window_defaults() | {
            "valid_from": local_today(),
            "duration_minutes": experience.duration_minutes,
            "capacity": 12,
        }
        form = NewScheduleForm(formdata=None, data=defaults)
        form.offer_guides(team)
        return page("manage/schedule_form.html", form=form, **context)
    form = NewScheduleForm()
    form.offer_guides(team)
    context["form"] = form
    if not form.validate():
        return page("manage/schedule_form.html", 400, **context)
    window = (form.window_from.data, form.window_until.data, display_zone())
    try:
        with unit_of_work():
            if not form.save.data:
                context["preview"] = schedules_admin.preview_schedule(
                    db.session, experience, form.to_input(), *window
                )
                return page("manage/schedule_form.html", **context)
            _schedule, created, results = schedules_admin.create_schedule(
                db.session, experience, form.to_input(), *window, now=utcnow()
            )
            skipped = [_skipped_line(r) for r in results if r.outcome == Outcome.SKIPPED]
    except DomainError as error:
        return page("manage/schedule_form.html", error.status_code, error, **context)
    message = ngettext(
        "The schedule was saved and %(num)s departure was created.",
        "The schedule was saved and %(num)s departures were created.",
        len(created),
    )
    for line in skipped:
        flash(line)
    return done(message, "manage.schedules", experience_id=experience.id)


def _skipped_line(result) -> str:
    return _(
        "%(name)s was not given the departure of %(when)s: %(reason)s",
        name=result.guide.name,
        when=fmt_datetime(result.departure.starts_at, "short"),
        reason=result.reason,
    )


@bp.route(f"/departures/<{ID}:departure_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_departure(departure_id: int):
    departure = scoped(Departure, departure_id)
    now = utcnow()
    taken = availability.seats_taken(db.session, [departure.id], now)[departure.id]
    context = {"departure": departure, "experience": departure.experience, "taken": taken}
    if request.method == "GET":
        starts = local(departure.starts_at)
        data = {"capacity": departure.capacity, "day": starts.date(), "start_time": starts.time()}
        form = DepartureForm(formdata=None, data=data)
        return page("manage/departure_form.html", form=form, **context)
    form = DepartureForm()
    context["form"] = form
    if not form.validate():
        return page("manage/departure_form.html", 400, **context)
    starts_at = local_to_utc(form.day.data, form.start_time.data.replace(tzinfo=None))
    try:
        with unit_of_work():
            schedules_admin.update_departure(
                db.session, departure, form.capacity.data, starts_at, now
            )
    except DomainError as error:
        return page("manage/departure_form.html", error.status_code, error, **context)
    return done(
        _("The departure was updated."), "manage.schedules", experience_id=departure.experience_id
    )


@bp.route(f"/departures/<{ID}:departure_id>/cancel", methods=["GET", "POST"])
@managers_only
def cancel_departure(departure_id: int):
    """Confirm, then cancel: every booking is refunded in full and told by email."""
    departure = scoped(Departure, departure_id)
    experience_id = departure.experience_id
    row = operations_board.departure_row(db.session, departure, utcnow())
    context = {"departure": departure, "experience": departure.experience, "row": row}
    form = CancelDepartureForm()
    context["form"] = form
    if request.method == "GET":
        return page("manage/departure_cancel.html", **context)
    if not form.validate():
        return page("manage/departure_cancel.html", 400, **context)
    try:
        with unit_of_work():
            affected = schedules_admin.cancel_departure(
                db.session, departure, form.reason.data, current_gateway(), utcnow()
            )
    except GatewayError:
        error = _("The card refunds could not be made right now. Nothing was cancelled; try again.")
        return page("manage/departure_cancel.html", 503, error, **context)
    except DomainError as error:
        return page("manage/departure_cancel.html", error.status_code, error, **context)
    message = ngettext(
        "The departure was cancelled; %(num)s booking was refunded and told.",
        "The departure was cancelled; %(num)s bookings were refunded and told.",
        len(affected),
    )
    return done(message, "manage.schedules", experience_id=experience_id)


@bp.get("/operations")
@managers_only
def operations():
    """Departures of a day or a week: seats, guides, and cash to collect."""
    form = OperationsForm(request.args)
    user = acting_user()
    associations = tenancy.managed_associations(db.session, user)
    context = {"form": form, "associations": associations, "board": None, "window": None}
    if not form.validate():
        return page("manage/operations.html", 400, **context)
    association = None
    if form.association.data is not None:
        association = scoped(Association, form.association.data)
    window = operations_board.window(form.chosen_day(), form.view.data or "day", display_zone())
    context["window"] = window
    context["association"] = association
    context["board"] = operations_board.operations_board(
        db.session, user, window.start, window.end, utcnow(), association=association
    )
    return page("manage/operations.html", **context)
