"""Running a departure: the manifest, check-in by name or reference, cash, stops, assigning
guides — also offline, through a service worker that replays what was done without signal to
``/guide/sync``."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ...database import utcnow
from ...errors import DomainError, NotFound
from ...extensions import db
from ...forms.guide import ROLE_LABELS, AssignGuideForm, CashForm, ReferenceForm
from ...i18n import current_locale
from ...models import Booking, Stop, User
from ...money import format_money
from ...services.operations import checkin, guides
from ...services.operations import manifest as manifests
from ...services.operations.guide_calendar import cash_outstanding_cents
from ...unit_of_work import unit_of_work
from ..access import guides_only
from .blueprint import BOOKING, DEPARTURE, bp, see_manifest, tel_href

# The manifest and its actions ---------------------------------------------------------------


def _render_manifest(departure_id: int, status: int = 200, error: str | None = None, **forms):
    departure = guides.departure_for(db.session, departure_id, current_user)
    data = manifests.manifest(db.session, departure, current_locale())
    manager = guides.is_manager(current_user, departure)
    assign_form = forms.get("assign_form")
    if manager and assign_form is None:
        assign_form = AssignGuideForm(guides.guide_choices(db.session, departure), formdata=None)
    page = render_template(
        "guide/manifest.html",
        manifest=data,
        departure=departure,
        assigned=guides.assigned_guides(db.session, departure),
        manager=manager,
        # Staff may still cancel a party (the cancel page checks again, under the lock).
        upcoming=departure.starts_at > utcnow(),
        assign_form=assign_form,
        cash_form=forms.get("cash_form"),
        cash_booking_id=forms.get("cash_booking_id"),
        role_labels=ROLE_LABELS,
        tel_href=tel_href,
        new_ref=lambda: uuid.uuid4().hex,
        error=error,
    )
    return page, status


@bp.get(DEPARTURE)
@guides_only
def manifest(departure_id: int):
    """Who is coming, what they paid and owe, their needs; check-in and stops."""
    return _render_manifest(departure_id)


def _booking(departure_id: int, booking_id: int) -> Booking:
    departure = guides.departure_for(db.session, departure_id, current_user)
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.departure_id != departure.id:
        raise NotFound()
    return booking


def _booking_action(departure_id: int, booking_id: int, action, message, unchanged):
    """Run ``action`` on the booking, then flash ``message(name)``, or ``unchanged(name)``
    when there was nothing to do (already done, or nothing to undo), and go back."""
    booking = _booking(departure_id, booking_id)
    name = booking.contact_name
    try:
        with unit_of_work():
            changed = action(db.session, booking, current_user, utcnow())
    except DomainError as error:
        return _render_manifest(departure_id, error.status_code, str(error))
    flash(message(name) if changed else unchanged(name))
    return see_manifest(departure_id, f"b-{booking_id}")


@bp.post(BOOKING + "/check-in")
@guides_only
def check_in(departure_id: int, booking_id: int):
    return _booking_action(
        departure_id,
        booking_id,
        checkin.check_in,
        lambda name: _("%(name)s is checked in.", name=name),
        lambda name: _("%(name)s was already checked in.", name=name),
    )


@bp.post(BOOKING + "/undo-check-in")
@guides_only
def undo_check_in(departure_id: int, booking_id: int):
    return _booking_action(
        departure_id,
        booking_id,
        checkin.undo_check_in,
        lambda name: _("Check-in of %(name)s undone.", name=name),
        lambda name: _("%(name)s was not checked in: there was nothing to undo.", name=name),
    )


@bp.post(BOOKING + "/no-show")
@guides_only
def no_show(departure_id: int, booking_id: int):
    return _booking_action(
        departure_id,
        booking_id,
        checkin.mark_no_show,
        lambda name: _("%(name)s is marked as not come.", name=name),
        lambda name: _("%(name)s was already marked as not come.", name=name),
    )


@bp.post(BOOKING + "/undo-no-show")
@guides_only
def undo_no_show(departure_id: int, booking_id: int):
    return _booking_action(
        departure_id,
        booking_id,
        checkin.undo_no_show,
        lambda name: _("%(name)s is no longer marked as not come.", name=name),
        lambda name: _(
            "%(name)s was not marked as not come: there was nothing to undo.", name=name
        ),
    )


@bp.post(BOOKING + "/cash")
@guides_only
def cash(departure_id: int, booking_id: int):
    """Record cash received from a party; the form's id makes a double send count once."""
    booking = _booking(departure_id, booking_id)
    form = CashForm()
    if not form.validate():
        return _render_manifest(departure_id, 400, cash_form=form, cash_booking_id=booking_id)
    try:
        with unit_of_work():
            payment, _new = checkin.record_cash(
                db.session,
                booking,
                form.cents(),
                current_user,
                utcnow(),
                client_ref=form.client_ref.data or None,
            )
            recorded = payment.amount_cents
    except DomainError as error:
        return _render_manifest(
            departure_id,
            error.status_code,
            str(error),
            cash_form=form,
            cash_booking_id=booking_id,
        )
    if recorded != form.cents():
        # The same form sent again with another amount (the back button keeps its id).
        flash(
            _(
                "This form was already sent: %(amount)s was recorded then, and nothing now. "
                "To record more cash, use the form on the manifest again.",
                amount=format_money(recorded, booking.currency),
            )
        )
    else:
        flash(_("Cash received is recorded."))
    return see_manifest(departure_id, f"b-{booking_id}")


@bp.post(DEPARTURE + "/stops/<int(max=2147483647):stop_id>/visited")
@guides_only
def stop_visited(departure_id: int, stop_id: int):
    departure = guides.departure_for(db.session, departure_id, current_user)
    stop = db.session.get(Stop, stop_id)
    if stop is None:
        raise NotFound()
    try:
        with unit_of_work():
            checkin.confirm_stop_visited(db.session, departure, stop, current_user, utcnow())
    except DomainError as error:
        return _render_manifest(departure_id, error.status_code, str(error))
    flash(_("The visit to this stop is confirmed."))
    return see_manifest(departure_id, "stops")


@bp.route(DEPARTURE + "/scan", methods=["GET", "POST"])
@guides_only
def scan(departure_id: int):
    """Check a party in by its booking reference, typed or read from its QR code."""
    departure = guides.departure_for(db.session, departure_id, current_user)
    form = ReferenceForm()
    status, error = 200, None
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                with unit_of_work():
                    booking = checkin.booking_on(db.session, departure, form.reference.data)
                    checkin.check_in(db.session, booking, current_user, utcnow())
                    name, people = booking.contact_name, booking.participants
                    owed = cash_outstanding_cents(booking)
                    currency = booking.currency
            except DomainError as error_:
                status, error = error_.status_code, str(error_)
            else:
                flash(
                    ngettext(
                        "%(name)s (%(num)s person) is checked in.",
                        "%(name)s (%(num)s people) is checked in.",
                        people,
                        name=name,
                    )
                )
                if owed:
                    flash(_("Collect %(amount)s in cash.", amount=format_money(owed, currency)))
                return redirect(url_for(".scan", departure_id=departure_id), code=303)
        departure = guides.departure_for(db.session, departure_id, current_user)
    data = manifests.manifest(db.session, departure, current_locale())
    page = render_template("guide/scan.html", form=form, manifest=data, error=error)
    return page, status


@bp.post(DEPARTURE + "/guides")
@guides_only
def assign(departure_id: int):
    """Staff: put a guide on this departure, as lead or assistant."""
    departure = guides.departure_for(db.session, departure_id, current_user)
    if not guides.is_manager(current_user, departure):
        raise NotFound()
    form = AssignGuideForm(guides.guide_choices(db.session, departure))
    if not form.validate():
        return _render_manifest(departure_id, 400, assign_form=form)
    guide = db.session.get(User, form.user_id.data)
    try:
        with unit_of_work():
            guides.assign_guide(
                db.session, departure, guide, form.role.data, current_user, utcnow()
            )
    except DomainError as error:
        return _render_manifest(departure_id, error.status_code, str(error), assign_form=form)
    flash(_("The guide is assigned."))
    return see_manifest(departure_id, "guides")


@bp.post(DEPARTURE + "/guides/<int(max=2147483647):user_id>/remove")
@guides_only
def unassign(departure_id: int, user_id: int):
    departure = guides.departure_for(db.session, departure_id, current_user)
    guide = db.session.get(User, user_id)
    if guide is None:
        raise NotFound()
    with unit_of_work():
        guides.unassign_guide(db.session, departure, guide, current_user, utcnow())
    flash(_("The guide was taken off this departure."))
    return see_manifest(departure_id, "guides")


# Offline ------------------------------------------------------------------------------------


@bp.post("/sync")
@guides_only
def sync():
    """Apply the actions a guide's phone recorded offline; one result per action, as JSON.

    The CSRF token comes in the ``X-CSRFToken`` header (checked by Flask-WTF)."""
    payload = request.get_json(silent=True)
    actions = payload.get("actions") if isinstance(payload, dict) else None
    try:
        with unit_of_work():
            if not isinstance(actions, list):
                raise checkin.InvalidAction()
            results = checkin.apply_offline_actions(db.session, current_user, actions, utcnow())
    except DomainError as error:
        return jsonify(error={"status": error.status_code, "message": str(error)}), (
            error.status_code
        )
    return jsonify(results=results)


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from /guide/ so that it may control the guide pages."""
    script = Path(current_app.static_folder, "guide-sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for(".schedule")
    return response
