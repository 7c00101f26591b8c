"""The families and guides rosters of an association, and the counts over them.

The rosters' optional facts (who represents a family, whether a guide is under 30) exist for
aggregate reports only: ``roster_summary`` counts them, and nothing here lists them per person.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...database import utcnow
from ...errors import InvalidRequest, NotFound
from ...models import Association, Family, Membership, Role, User
from ..access import tenancy
from ..messages import phones
from .staff_input import clean_email, clean_languages, clean_text

#: Optional, self-declared; ``None`` means "prefers not to say" and is never guessed.
GENDERS = {"female": _l("Woman"), "male": _l("Man"), "other": _l("Other")}


# Families --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyInput:
    name: str
    community: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    languages: tuple[str, ...] = ()
    representative_gender: str | None = None
    is_active: bool = True
    #: The family agreed to WhatsApp/SMS notices at ``contact_phone``; ``message_channel``
    #: is how it wants them (``whatsapp``, ``sms`` or ``email``, to ``email``).
    message_consent: bool = False
    message_channel: str = "whatsapp"
    email: str = ""


def list_families(session: Session, association: Association) -> list[Family]:
    return list(
        session.execute(
            select(Family)
            .where(Family.association_id == association.id)
            .order_by(Family.is_active.desc(), Family.name, Family.id)
        ).scalars()
    )


def _apply_family(family: Family, data: FamilyInput) -> None:
    if data.representative_gender not in (None, *GENDERS):
        raise InvalidRequest(_l("Choose an answer from the list."))
    family.name = clean_text(data.name, 160, _l("Please give the family's name."))
    family.community = clean_text(data.community, 160)
    family.contact_name = clean_text(data.contact_name, 160)
    family.contact_phone = clean_text(data.contact_phone, 40)
    family.languages = clean_languages(data.languages)
    family.representative_gender = data.representative_gender
    family.is_active = bool(data.is_active)
    family.email = clean_email(data.email, required=False)
    if data.message_channel == phones.EMAIL and not family.email:
        raise InvalidRequest(_l("To send the family's notices by email, give its email address."))
    phones.record_consent(
        family, family.contact_phone, data.message_consent, data.message_channel, utcnow()
    )


def create_family(session: Session, association: Association, data: FamilyInput) -> Family:
    family = Family(association_id=association.id, is_demo=False)
    _apply_family(family, data)
    session.add(family)
    session.flush()
    return family


def update_family(session: Session, family: Family, data: FamilyInput) -> None:
    _apply_family(family, data)
    session.flush()


# Guides ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuideInput:
    phone: str = ""
    community: str = ""
    languages: tuple[str, ...] = ()
    under_30: bool | None = None
    #: The guide agreed to WhatsApp/SMS notices at ``phone``; ``message_channel`` is how
    #: they want them (``whatsapp``, ``sms`` or ``email``, to their account's address).
    message_consent: bool = False
    message_channel: str = "whatsapp"


def list_guides(session: Session, association: Association) -> list[Membership]:
    return list(
        session.execute(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.association_id == association.id, Membership.role == Role.GUIDE)
            .options(selectinload(Membership.user))
            .order_by(User.name, Membership.id)
        ).scalars()
    )


def guide_membership(session: Session, membership_id: int, user: User) -> Membership:
    """A guide's membership the user may manage; anything else is *not found*."""
    membership = tenancy.get_scoped(session, Membership, membership_id, user)
    if membership.role != Role.GUIDE:
        raise NotFound()
    return membership


def update_guide(session: Session, membership: Membership, data: GuideInput) -> None:
    if membership.role != Role.GUIDE:
        raise NotFound()
    if data.under_30 not in (None, True, False):
        raise InvalidRequest(_l("Choose an answer from the list."))
    membership.phone = clean_text(data.phone, 40)
    membership.community = clean_text(data.community, 160)
    membership.languages = clean_languages(data.languages)
    membership.under_30 = data.under_30
    phones.record_consent(
        membership.user, membership.phone, data.message_consent, data.message_channel, utcnow()
    )
    session.flush()


# Aggregates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterSummary:
    families: int
    families_represented_by_women: int
    #: Families whose representative's gender was given at all.
    families_gender_known: int
    guides: int
    guides_under_30: int
    guides_age_known: int


def roster_summary(session: Session, association: Association) -> RosterSummary:
    """Counts over active families and the guides; the only way the optional facts show."""
    family_rows = session.execute(
        select(Family.representative_gender, func.count(Family.id))
        .where(Family.association_id == association.id, Family.is_active.is_(True))
        .group_by(Family.representative_gender)
    ).all()
    by_gender = {gender: int(n) for gender, n in family_rows}
    guide_rows = session.execute(
        select(Membership.under_30, func.count(Membership.id))
        .where(Membership.association_id == association.id, Membership.role == Role.GUIDE)
        .group_by(Membership.under_30)
    ).all()
    by_age = {flag: int(n) for flag, n in guide_rows}
    return RosterSummary(
        families=sum(by_gender.values()),
        families_represented_by_women=by_gender.get("female", 0),
        families_gender_known=sum(n for g, n in by_gender.items() if g is not None),
        guides=sum(by_age.values()),
        guides_under_30=by_age.get(True, 0),
        guides_age_known=sum(n for flag, n in by_age.items() if flag is not None),
    )
