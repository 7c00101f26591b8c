"""Writing the audit log (``models.audit.AuditEvent``).

Two ways in, because some events must outlive the transaction that noticed them:

- ``record(session, ...)`` adds the event to the caller's transaction: a refund or payout
  and its audit row commit (or roll back) together.
- ``record_apart(...)`` keeps the event aside and writes it in its own transaction once the
  request is over (``flush_deferred``, called from the app's teardown), so a refused access
  or a failed sign-in is logged even though the request rolls back everything else.

The actor and address come from the signed-in user and the request when not given, so
services can call ``record`` without knowing about HTTP. Never pass secrets in ``detail``.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from ...database import utcnow, write_transactions
from ...extensions import db
from ...models import AuditEvent, User

DEFERRED_KEY = "_audit_deferred"

LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
LOGOUT = "logout"
PASSWORD_RESET_REQUESTED = "password_reset.requested"  # noqa: S105 (an action name)
PASSWORD_RESET_COMPLETED = "password_reset.completed"  # noqa: S105 (an action name)
ACCESS_DENIED = "access.denied"
REFUND_REQUESTED = "refund.requested"
REFUND_FAILED = "refund.failed"
PAYMENT_MISMATCH = "payment.mismatch"
PAYOUT_RECORDED = "payout.recorded"
SPLIT_RULE_APPROVED = "split_rule.approved"
DEPARTURE_CANCELLED = "departure.cancelled"
DEPARTURE_MINIMUM_CHECKED = "departure.minimum_checked"
ASSOCIATION_UPDATED = "association.updated"
JOB_RETRIED = "job.retried"

SYSTEM = "system"
TOURIST = "tourist"


def _signed_in() -> User | None:
    if not has_request_context():
        return None
    user = current_user
    return user._get_current_object() if user and user.is_authenticated else None


def _event(
    action: str,
    actor: User | str | None,
    target: str,
    association_id: int | None,
    detail: str,
    at: datetime | None,
) -> AuditEvent:
    if actor is None:
        actor = _signed_in() or (TOURIST if has_request_context() else SYSTEM)
    return AuditEvent(
        at=at or utcnow(),
        action=action,
        actor_id=actor.id if isinstance(actor, User) else None,
        actor=(actor.email if isinstance(actor, User) else str(actor))[:254],
        target=target[:200],
        association_id=association_id,
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
        detail=detail[:300],
    )


def record(
    session: Session,
    action: str,
    *,
    actor: User | str | None = None,
    target: str = "",
    association_id: int | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Add an event to ``session``'s transaction (it commits with the change it describes)."""
    event = _event(action, actor, target, association_id, detail, at)
    session.add(event)
    return event


def record_apart(
    action: str,
    *,
    actor: User | str | None = None,
    target: str = "",
    association_id: int | None = None,
    detail: str = "",
) -> None:
    """Log an event whatever becomes of the current transaction (written after the request;
    outside a request, at once in its own transaction)."""
    event = _event(action, actor, target, association_id, detail, None)
    if has_request_context():
        g.setdefault(DEFERRED_KEY, []).append(event)
    else:
        _write([event])


def flush_deferred(_exception: BaseException | None = None) -> None:
    """Write the events ``record_apart`` kept aside during this request (app teardown, after
    the request's own session is gone)."""
    events = g.pop(DEFERRED_KEY, None)
    if events:
        _write(events)


def _write(events: list[AuditEvent]) -> None:

    session = Session(bind=db.engine, expire_on_commit=False)
    try:
        with write_transactions():
            session.add_all(events)
            session.commit()
    finally:
        session.close()
