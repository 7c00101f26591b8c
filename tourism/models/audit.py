"""The audit log: who did what, when (UTC), from where: sign-ins, refused access, refunds,
payouts, split rules, cancelled departures.

Rows are only ever added: a ``before_flush`` hook refuses to change or delete one, and no
page or command offers to. ``actor`` keeps the email (or "tourist"/"system") as it was at
the time, so the log still reads right after an account is renamed or removed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: e.g. ``login.failed``, ``access.denied``, ``refund.requested``, ``payout.recorded``.
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who, in words: the account's email, the email typed at a failed sign-in, "tourist"
    #: (someone holding a booking's private link) or "system" (a scheduled command).
    actor: Mapped[str] = mapped_column(String(254), default="")
    #: What it was about, e.g. ``booking:42``, ``payout:7``, ``/manage/experiences/9/edit``.
    target: Mapped[str] = mapped_column(String(200), default="")
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    #: The client address as the configured proxies report it (``PROXY_FIX_X_FOR``).
    ip: Mapped[str] = mapped_column(String(45), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.actor}>"


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context, _instances) -> None:
    for obj in (*session.deleted, *session.dirty):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly(f"{obj!r}: the audit log is append-only")
