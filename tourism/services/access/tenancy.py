"""Tenancy: staff and guides see and change only their own association's data.

Every management and guide query goes through these helpers. An object of another
association is *not found* (404), never *forbidden* (403), so nothing about it leaks.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...models import (
    Association,
    Booking,
    Departure,
    DepartureGuide,
    Experience,
    Extra,
    Family,
    GroupRequest,
    GuideTimeOff,
    Homestay,
    Membership,
    Photo,
    Reseller,
    Role,
    Route,
    Schedule,
    Stop,
    StopVisit,
    User,
)
from . import audit

MANAGERS = (Role.ADMIN, Role.STAFF)
EVERYONE = (Role.ADMIN, Role.STAFF, Role.GUIDE)


def association_ids(user: User | None, roles: Iterable[Role] = EVERYONE) -> set[int] | None:
    """Associations where ``user`` holds one of ``roles``; None means all (platform admin)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if user.is_platform_admin:
        return None
    wanted = set(roles)
    return {m.association_id for m in user.memberships if m.role in wanted}


def has_role(user: User | None, association_id: int, roles: Iterable[Role]) -> bool:
    allowed = association_ids(user, roles)
    return allowed is None or association_id in allowed


def session_get_experience(photo: Photo) -> Experience:
    from sqlalchemy.orm import object_session

    return object_session(photo).get(Experience, photo.experience_id)


def session_get_departure(visit: StopVisit) -> Departure:
    from sqlalchemy.orm import object_session

    return object_session(visit).get(Departure, visit.departure_id)


def association_of(obj) -> int | None:
    """The association an object belongs to, whatever its kind."""
    if isinstance(obj, Association):
        return obj.id
    if isinstance(obj, Homestay):
        return obj.family.association_id
    if isinstance(obj, Route):
        # A route the platform curates belongs to no association: platform admins only.
        return obj.curator_association_id
    if isinstance(
        obj, (Experience, Extra, Family, GuideTimeOff, Membership, Reseller, GroupRequest)
    ):
        return obj.association_id
    if isinstance(obj, (Stop, Schedule, Departure)):
        return obj.experience.association_id
    if isinstance(obj, Booking):
        return obj.departure.experience.association_id
    if isinstance(obj, DepartureGuide):
        return obj.departure.experience.association_id
    if isinstance(obj, Photo):
        return session_get_experience(obj).association_id
    if isinstance(obj, StopVisit):
        return session_get_departure(obj).experience.association_id
    raise TypeError(f"no association for {type(obj).__name__}")


def get_scoped(session: Session, model, object_id: int, user: User | None, roles=MANAGERS):
    """The object with this id if ``user`` may act on its association, else ``NotFound``."""
    obj = session.get(model, object_id) if isinstance(object_id, int) else None
    if obj is None:
        raise NotFound()
    association_id = association_of(obj)
    if not has_role(user, association_id, roles):
        audit.record_apart(
            audit.ACCESS_DENIED,
            actor=user,
            target=f"{model.__tablename__}:{object_id}",
            association_id=association_id,
        )
        raise NotFound()
    return obj


def scope_experiences(statement, user: User | None, roles=MANAGERS):
    allowed = association_ids(user, roles)
    if allowed is None:
        return statement
    return statement.where(Experience.association_id.in_(allowed or {-1}))


def managed_associations(session: Session, user: User | None, roles=MANAGERS) -> list[Association]:
    allowed = association_ids(user, roles)
    statement = select(Association).order_by(Association.name)
    if allowed is not None:
        statement = statement.where(Association.id.in_(allowed or {-1}))
    return list(session.execute(statement).scalars())
