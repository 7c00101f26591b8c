"""Running an association: the dashboard, new associations (platform admins), and invitations.

The families and guides rosters live in ``rosters``; their names are importable from here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import vocabulary
from ...errors import DomainError, InvalidRequest, NotFound
from ...models import (
    Association,
    Departure,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    Family,
    Membership,
    Role,
    User,
)
from ..access import accounts, audit, tenancy
from ..messages import outbox as notifications
from .staff_input import clean_email, clean_text

SLUG_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CODE_SHAPE = re.compile(r"[A-Z]{3}")
ROLE_LABELS = {Role.ADMIN: _l("admin"), Role.STAFF: _l("staff"), Role.GUIDE: _l("guide")}


class AssociationTaken(DomainError):
    status_code = 409
    default_message = _l("Another association already uses that address or code.")


class AlreadyMember(DomainError):
    status_code = 409
    default_message = _l("%(email)s already belongs to this association as %(role)s.")


class RoleNotInvitable(InvalidRequest):
    default_message = _l("You can invite guides and staff members.")


# The dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationCard:
    association: Association
    experiences: int
    published: int
    families: int
    departures_next_week: int
    is_admin: bool


def dashboard(session: Session, user: User, now: datetime) -> list[AssociationCard]:
    """The associations ``user`` manages, with a few counts, in four queries."""
    associations = tenancy.managed_associations(session, user)
    ids = [a.id for a in associations]
    if not ids:
        return []

    def counts(statement) -> dict[int, int]:
        return {key: int(value) for key, value in session.execute(statement).all()}

    experiences = counts(
        select(Experience.association_id, func.count(Experience.id))
        .where(Experience.association_id.in_(ids))
        .group_by(Experience.association_id)
    )
    published = counts(
        select(Experience.association_id, func.count(Experience.id))
        .where(
            Experience.association_id.in_(ids),
            Experience.status == ExperienceStatus.PUBLISHED,
        )
        .group_by(Experience.association_id)
    )
    families = counts(
        select(Family.association_id, func.count(Family.id))
        .where(Family.association_id.in_(ids), Family.is_active.is_(True))
        .group_by(Family.association_id)
    )
    departures = counts(
        select(Experience.association_id, func.count(Departure.id))
        .join(Departure, Departure.experience_id == Experience.id)
        .where(
            Experience.association_id.in_(ids),
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at >= now,
            Departure.starts_at < now + timedelta(days=7),
        )
        .group_by(Experience.association_id)
    )
    return [
        AssociationCard(
            association=a,
            experiences=experiences.get(a.id, 0),
            published=published.get(a.id, 0),
            families=families.get(a.id, 0),
            departures_next_week=departures.get(a.id, 0),
            is_admin=tenancy.has_role(user, a.id, (Role.ADMIN,)),
        )
        for a in associations
    ]


# Associations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationInput:
    name: str
    slug: str
    code: str
    province: str
    contact_email: str = ""
    contact_phone: str = ""
    description_es: str = ""
    description_en: str = ""
    founded_year: int | None = None
    legal_name: str = ""
    tax_id: str = ""
    address: str = ""


#: Ecuador's RUC: 13 digits (a company's ends in 001).
TAX_ID_SHAPE = re.compile(r"[0-9]{13}")


def _founded_year(year: int | None, now: datetime) -> int | None:
    if year is not None and (isinstance(year, bool) or not 1900 <= year <= now.year):
        raise InvalidRequest(_l("Give the year the association was founded, or leave it empty."))
    return year


def _identity(data) -> dict[str, str]:
    """The seller's identity as tourists and the terms of sale show it, cleaned."""
    tax_id = "".join((data.tax_id or "").split())
    if tax_id and not TAX_ID_SHAPE.fullmatch(tax_id):
        raise InvalidRequest(_l("The RUC has 13 digits."))
    return {
        "legal_name": clean_text(data.legal_name, 200),
        "tax_id": tax_id,
        "address": clean_text(data.address, 300),
        "contact_email": clean_email(data.contact_email, required=False),
        "contact_phone": clean_text(data.contact_phone, 40),
    }


def create_association(
    session: Session, actor: User, data: AssociationInput, now: datetime
) -> Association:
    """A new tenant; only platform admins may create one (others get *not found*)."""
    if not getattr(actor, "is_platform_admin", False):
        raise NotFound()
    slug = (data.slug or "").strip()
    code = (data.code or "").strip().upper()
    if not SLUG_SHAPE.fullmatch(slug) or len(slug) > 60:
        raise InvalidRequest(
            _l("The address may use lowercase letters, digits and single hyphens.")
        )
    if not CODE_SHAPE.fullmatch(code):
        raise InvalidRequest(_l("The code is three letters, like KAL."))
    if data.province not in vocabulary.PROVINCES:
        raise InvalidRequest(_l("Choose a province."))
    year = _founded_year(data.founded_year, now)
    taken = session.scalar(
        select(func.count(Association.id)).where(
            (Association.slug == slug) | (Association.code == code)
        )
    )
    if taken:
        raise AssociationTaken()
    association = Association(
        name=clean_text(data.name, 160, _l("Please give the association's name.")),
        slug=slug,
        code=code,
        province=data.province,
        founded_year=year,
        **_identity(data),
        description_es=clean_text(data.description_es, 5_000),
        description_en=clean_text(data.description_en, 5_000),
    )
    try:
        with session.begin_nested():  # a concurrent twin is refused by the unique indexes
            session.add(association)
    except IntegrityError as exc:
        raise AssociationTaken() from exc
    return association


@dataclass(frozen=True)
class AssociationDetails:
    """What an association's admins keep up to date themselves: how tourists see who sells
    the visit and how to reach them. The address and booking code never change."""

    name: str
    legal_name: str = ""
    tax_id: str = ""
    address: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    description_es: str = ""
    description_en: str = ""
    founded_year: int | None = None


def update_association(
    session: Session, actor: User, association: Association, data: AssociationDetails, now
) -> Association:
    """Save the details of ``association``; its admins (and platform admins) only. What
    they save is their own identity, so it is no longer marked as demo data."""
    if not tenancy.has_role(actor, association.id, (Role.ADMIN,)):
        raise NotFound()
    values = {
        "name": clean_text(data.name, 160, _l("Please give the association's name.")),
        "founded_year": _founded_year(data.founded_year, now),
        "description_es": clean_text(data.description_es, 5_000),
        "description_en": clean_text(data.description_en, 5_000),
        **_identity(data),
    }
    changed = sorted(key for key, value in values.items() if getattr(association, key) != value)
    for key, value in values.items():
        setattr(association, key, value)
    association.identity_is_demo = False
    audit.record(
        session,
        audit.ASSOCIATION_UPDATED,
        actor=actor,
        target=f"associations:{association.id}",
        association_id=association.id,
        detail=",".join(changed),
    )
    session.flush()
    return association


# Invitations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    email: str
    role: Role
    #: The one-time link. It is emailed, and shown to the admin so it can also go by
    #: WhatsApp or SMS, which reach many community members better than email.
    url: str
    valid_days: int = accounts.INVITE_LIFETIME.days


def invitable_roles(user: User) -> tuple[Role, ...]:
    """Association admins invite guides and staff; a platform admin may also add admins."""
    if getattr(user, "is_platform_admin", False):
        return (Role.GUIDE, Role.STAFF, Role.ADMIN)
    return (Role.GUIDE, Role.STAFF)


def invite_member(
    session: Session,
    inviter: User,
    association: Association,
    email: str,
    role: Role | str,
    now: datetime,
    link: Callable[[str], str],
    language: str = "es",
) -> Invitation:
    """Invite ``email`` to join ``association`` as ``role`` and queue the email with the
    link; ``link`` turns the raw one-time token into the page's absolute address."""
    if not tenancy.has_role(inviter, association.id, (Role.ADMIN,)):
        raise NotFound()
    try:
        role = Role(role)
    except ValueError as exc:
        raise RoleNotInvitable() from exc
    if role not in invitable_roles(inviter):
        raise RoleNotInvitable()
    email = clean_email(email)
    member = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            func.lower(User.email) == email,
            Membership.association_id == association.id,
            Membership.role == role,
        )
    )
    if member is not None:
        raise AlreadyMember(email=email, role=ROLE_LABELS[role])
    raw = accounts.invite(session, inviter, association, email, role, now)
    url = link(raw)
    notifications.queue_account_email(
        session,
        kind=notifications.INVITATION,
        key=accounts.link_key(raw),
        recipient=email,
        language=language,
        url=url,
        association=association.name,
        role=role.value,
        inviter=inviter.name,
    )
    return Invitation(email=email, role=role, url=url)
