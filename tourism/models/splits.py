"""Split rules: who gets what share of a booking's money, versioned per experience.

A rule is approved by an admin of the experience's association and takes effect from a
UTC instant; a later version never changes what an earlier booking was sold under
(``Booking.split_rule_id`` keeps the version in force at the hold).

**How the shares are stored.** ``parts`` is a JSON list with one object per party, integers
only: ``{"party": "families", "basis_points": 5000, "cents_per_participant": 0}``. The
parties are ``tourism.services.ledger.splits.Party`` values; basis points add up to 10,000.
``stop_weights`` is a JSON list of ``[stop_id, weight]`` pairs weighting the families'
part per hosted stop; empty means every hosted stop weighs the same. JSON rather than one
column per party so a party can be added without a migration, and because the rule is
only ever read whole (``services.split_rules.to_split_rule`` turns it into the dataclass
the pure split computation takes); the service validates it before it is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class SplitRule(db.Model):
    __tablename__ = "split_rules"
    __table_args__ = (UniqueConstraint("experience_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experience_id: Mapped[int] = mapped_column(ForeignKey("experiences.id"), index=True)
    #: 1, 2, … per experience, in order of approval.
    version: Mapped[int]
    #: ``[{"party", "basis_points", "cents_per_participant"}, …]``, integers only.
    parts: Mapped[list] = mapped_column(JSON)
    #: ``[[stop_id, weight], …]`` for the families' part; empty: equal per hosted stop.
    stop_weights: Mapped[list] = mapped_column(JSON, default=list)
    #: The association admin who approved this version.
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: From when (UTC) bookings are sold under this version, until a later one takes over.
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    experience = relationship("Experience")
    approved_by = relationship("User")

    def __repr__(self) -> str:
        return f"<SplitRule {self.id} experience={self.experience_id} v{self.version}>"
