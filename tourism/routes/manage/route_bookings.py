"""Route bookings in which the association has a part, and recording its part as paid in
cash (its leg bookings, the nights at its families, its extras, the curator's fee)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...models import Association
from ...services.routes import settlement
from ...timefmt import local_today
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped

#: Route bookings that started this long ago are still listed, for cash recorded late.
LISTED_DAYS_BACK = 14


def _parts(association):
    since = local_today() - timedelta(days=LISTED_DAYS_BACK)
    return settlement.parts_to_collect(db.session, association, since)


@bp.get(f"/associations/<{ID}:association_id>/route-bookings")
@managers_only
def route_bookings(association_id: int):
    association = scoped(Association, association_id)
    return page("manage/route_bookings.html", association=association, parts=_parts(association))


@bp.post(f"/associations/<{ID}:association_id>/route-bookings/<{ID}:route_booking_id>/cash")
@managers_only
def record_route_cash(association_id: int, route_booking_id: int):
    """Record that the visitor paid the association its part of the route, in cash."""
    association = scoped(Association, association_id)
    try:
        with unit_of_work():
            route_booking = settlement.route_booking_with_part(
                db.session, association, route_booking_id
            )
            reference = route_booking.reference
            settlement.record_route_cash(
                db.session, route_booking, association, acting_user(), utcnow()
            )
    except DomainError as error:
        return page(
            "manage/route_bookings.html",
            error.status_code,
            error,
            association=association,
            parts=_parts(association),
        )
    return done(
        _("The cash for route booking %(reference)s is recorded.", reference=reference),
        "manage.route_bookings",
        association_id=association.id,
    )
