"""The demo route: three days over Kallari, Wiñak and ASOPROMÁS, bookable end to end and
paid community by community with a sound ledger."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tourism.database import utcnow
from tourism.demo import seed_demo
from tourism.models import Route, Stop
from tourism.services.booking.lifecycle import DEFAULT_CUTOFF
from tourism.services.ledger import checks
from tourism.services.routes import availability, booking, settlement
from tourism.timefmt import display_zone, local_today

from .helpers import LANGS, request_for


def test_the_demo_route_can_be_booked_and_paid_end_to_end(session):
    seed_demo(session, local_today(), display_zone(), history=False)
    route = session.scalars(select(Route)).one()
    assert {p.association.slug for p in route.participations} == {"kallari", "winak", "asopromas"}
    assert route.days == 3 and len(route.extras) == 4
    assert sum(1 for leg in route.legs if leg.homestay_id) == 2
    stops = session.scalars(select(Stop)).all()
    assert all(s.latitude is not None and s.location_is_approximate for s in stops)
    plans = availability.bookable_start_dates(
        session, route, local_today(), 60, 2, utcnow(), DEFAULT_CUTOFF
    )
    assert plans, "the demo route offers no start date for two people"
    # Each plan starts on a day the Cacao Route runs (Tuesday, Thursday, Saturday).
    assert {p.start_date.isoweekday() for p in plans} <= {2, 4, 6}
    chocolate = next(e for e in route.extras if e.stock)
    rb = booking.book_route(
        session,
        request_for(route, plans[0].start_date, people=2, extras={chocolate.id: 1}),
        utcnow(),
        LANGS,
    )
    assert len(rb.legs) == 3 and len(rb.nights) == 2
    for part in settlement.community_parts(rb):
        settlement.record_route_cash(session, rb, part.association, None, utcnow())
    assert checks.check(session) == []
    assert rb.nights[1].night == plans[0].start_date + timedelta(days=1)
