"""Guides for many departures at once: one guide for the ticked departures or a date range
(from an experience's schedules page), and the default guides of a weekly schedule.

Both answer with one line per departure: assigned, already there, or skipped and why. That
page is the answer to the form itself (not a redirect): the lines are too many for a flashed
message, and sending the form again changes nothing ("already assigned").
The views join the ``manage`` blueprint."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.assignments import BulkAssignForm, DefaultGuidesForm
from ...models import Experience, GuideRole, Schedule
from ...services.operations import assignments, guides
from ...services.operations import schedules as schedules_admin
from ...timefmt import display_zone
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, experience_title, page, scoped
from .operations import schedules_page


def association_guides(association_id: int):
    return guides.guides_of(db.session, association_id)


def _results_page(experience, results, heading: str, schedule=None):
    return page(
        "manage/assignment_results.html",
        experience=experience,
        association=experience.association,
        results=results,
        heading=heading,
        schedule=schedule,
        Outcome=assignments.Outcome,
        counts={
            outcome: sum(1 for r in results if r.outcome == outcome)
            for outcome in assignments.Outcome
        },
    )


@bp.post(f"/experiences/<{ID}:experience_id>/departures/guides")
@managers_only
def assign_departures(experience_id: int):
    """One guide for the ticked departures, or for every departure between two days."""
    experience = scoped(Experience, experience_id)
    now = utcnow()
    form = BulkAssignForm()
    coming = schedules_admin.upcoming_departures(db.session, experience, now)
    form.offer(association_guides(experience.association_id), [d.departure.id for d in coming])
    if not form.validate():
        # Said at the top too: the list of departures can be long on a phone.
        problems = " ".join(str(text) for texts in form.errors.values() for text in texts)
        return schedules_page(experience, assign_form=form, status=400, error=problems)
    guide = form.guide()
    try:
        with unit_of_work():
            results = assignments.assign_guide_to_departures(
                db.session,
                experience,
                form.selection(),
                guide,
                form.role.data,
                acting_user(),
                now,
                display_zone(),
            )
    except DomainError as error:
        return schedules_page(experience, assign_form=form, status=error.status_code, error=error)
    heading = _(
        "%(name)s on the departures of %(title)s",
        name=guide.name,
        title=experience_title(experience),
    )
    return _results_page(experience, results, heading)


@bp.route(f"/schedules/<{ID}:schedule_id>/guides", methods=["GET", "POST"])
@managers_only
def schedule_guides(schedule_id: int):
    """The default guides of a weekly schedule, optionally given to its coming departures."""
    schedule = scoped(Schedule, schedule_id)
    experience = schedule.experience
    form = DefaultGuidesForm()
    form.offer_guides(association_guides(experience.association_id))
    context = {
        "schedule": schedule,
        "experience": experience,
        "association": experience.association,
    }
    if request.method == "GET":
        current = assignments.default_guides(db.session, schedule)
        form.lead_id.data = next((str(g.user_id) for g in current if g.role == GuideRole.LEAD), "")
        form.assistant_ids.data = [str(g.user_id) for g in current if g.role != GuideRole.LEAD]
        return page("manage/schedule_guides.html", form=form, **context)
    if not form.validate():
        return page("manage/schedule_guides.html", 400, form=form, **context)
    try:
        with unit_of_work():
            results = assignments.change_default_guides(
                db.session,
                schedule,
                form.chosen_guides(),
                acting_user(),
                utcnow(),
                give_to_coming=form.give_to_coming.data,
            )
    except DomainError as error:
        return page("manage/schedule_guides.html", error.status_code, error, form=form, **context)
    heading = _("The default guides of this schedule were saved.")
    return _results_page(experience, results, heading, schedule=schedule)
