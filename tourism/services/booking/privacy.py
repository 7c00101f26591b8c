"""What visitors told us that we must not keep longer than needed: the special-needs field,
which may hold health data (sensitive data under Ecuador's LOPDP and the GDPR).

The privacy notice (``templates/public/privacy.html``) promises what this module does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import Booking, Departure


def forget_special_needs(session: Session, now: datetime, keep_for: timedelta) -> int:
    """Erase the special needs of every booking whose departure ended more than ``keep_for``
    ago; returns how many bookings lost theirs. The consent's date stays, as the record that
    it was given. Safe to run any time."""
    ended = select(Departure.id).where(Departure.ends_at < now - keep_for)
    result = session.execute(
        update(Booking)
        .where(Booking.departure_id.in_(ended), Booking.special_needs != "")
        .values(special_needs="")
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount or 0
