"""Guide pages about a guide's own time: my schedule, my time off, and subscribing to my
schedule from a calendar app (a secret feed address, which can be replaced).

The views join the ``guide`` blueprint."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...database import utcnow
from ...errors import DomainError, NotFound
from ...extensions import db
from ...forms.guide import ROLE_LABELS, TimeOffForm
from ...i18n import current_locale
from ...models import Association, Membership, Role
from ...services.messages.links import absolute_url
from ...services.operations import guide_calendar, guides
from ...timefmt import fmt_datetime
from ...unit_of_work import unit_of_work
from ..access import guides_only
from ..limits import token_lookup
from .blueprint import bp


@bp.get("/")
@guides_only
def schedule():
    """The departures I guide in the next 30 days."""
    items = guide_calendar.my_schedule(db.session, current_user, utcnow(), current_locale())
    return render_template("guide/schedule.html", items=items, role_labels=ROLE_LABELS)


def _time_off_page(form: TimeOffForm, status: int = 200, error: str | None = None):
    periods = guides.time_off_of(db.session, current_user, utcnow())
    names = {m.association_id: m.association.name for m in guides.guide_memberships(current_user)}
    return (
        render_template(
            "guide/time_off.html", form=form, periods=periods, names=names, error=error
        ),
        status,
    )


@bp.route("/time-off", methods=["GET", "POST"])
@guides_only
def time_off():
    """My time off: the list, and a form to add whole days."""
    memberships = guides.guide_memberships(current_user)
    if not memberships:
        raise NotFound()
    form = TimeOffForm()
    form.association_id.choices = [(m.association_id, m.association.name) for m in memberships]
    if not form.is_submitted():
        form.association_id.data = memberships[0].association_id
        return _time_off_page(form)
    if not form.validate():
        return _time_off_page(form, status=400)
    starts_at, ends_at = form.period()
    association = db.session.get(Association, form.association_id.data)
    try:
        with unit_of_work():
            _period, conflicts = guides.add_time_off(
                db.session,
                current_user,
                association,
                starts_at,
                ends_at,
                form.note.data,
                now=utcnow(),
            )
            # Read what the messages need before the commit expires the objects.
            notes = [
                _(
                    "You are assigned to %(title)s on %(when)s: tell the staff so they can find "
                    "another guide.",
                    title=_title(departure),
                    when=fmt_datetime(departure.starts_at, "short"),
                )
                for departure in conflicts
            ]
    except DomainError as error:
        return _time_off_page(form, status=error.status_code, error=str(error))
    flash(_("Your time off is saved."))
    for note in notes:
        flash(note)
    return redirect(url_for(".time_off"), code=303)


def _title(departure) -> str:
    text = departure.experience.text(current_locale())
    return text.title if text else departure.experience.slug


@bp.post("/time-off/<int(max=2147483647):time_off_id>/remove")
@guides_only
def remove_time_off(time_off_id: int):
    with unit_of_work():
        guides.remove_time_off(db.session, current_user, time_off_id)
    flash(_("The time off was removed."))
    return redirect(url_for(".time_off"), code=303)


@bp.get("/calendar")
@guides_only
def calendar():
    """How to subscribe to my schedule from a calendar app, with the secret address."""
    memberships = guides.guide_memberships(current_user)
    feeds = [
        (m, absolute_url("guide.feed", token=m.ical_token) if m.ical_token else None)
        for m in memberships
    ]
    return render_template("guide/calendar.html", feeds=feeds)


@bp.post("/calendar/<int(max=2147483647):membership_id>/token")
@guides_only
def rotate_calendar(membership_id: int):
    """Create the secret feed address, or replace it so the old one stops working."""
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != current_user.id or membership.role != Role.GUIDE:
        raise NotFound()
    had_one = membership.ical_token is not None
    with unit_of_work():
        guide_calendar.rotate_ical_token(membership)
    if had_one:
        flash(_("The old calendar address no longer works. Subscribe again with the new one."))
    else:
        flash(_("Your calendar address is ready."))
    return redirect(url_for(".calendar"), code=303)


@bp.get("/calendar/<token>.ics")
@token_lookup
def feed(token: str):
    """The iCalendar feed itself: no sign-in (calendar apps cannot), only the secret token."""
    membership = guide_calendar.membership_for_token(db.session, token)
    body = guide_calendar.ical_feed(
        db.session,
        membership,
        utcnow(),
        link=lambda d: absolute_url("guide.manifest", departure_id=d.id),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="chakra-routes.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
