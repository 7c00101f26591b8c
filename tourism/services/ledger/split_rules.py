"""Split rules: approve a new version for an experience, find the one in force, and turn a
stored rule into the dataclass ``splits.split_payment`` computes with.

A version is never edited: a change is a new version with a later ``effective_from``. A
booking records the version in force when its seats were held (``hold_seats``), so a rule
approved later never reshapes money already sold. Errors are ``splits.InvalidSplitRule``
subclasses that are also ``DomainError`` errors, so the admin's page shows them translated, and
``NotAnAssociationAdmin``. Functions only flush.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ...errors import DomainError, UnknownStop
from ...models import Booking, Experience, Role, SplitRule, Stop, User
from ..access import audit
from ..access.tenancy import has_role
from . import splits
from .splits import BASIS_POINTS, InvalidSplitRule, Member, Party, Share

PART_KEYS = frozenset({"party", "basis_points", "cents_per_participant"})


class NotAnAssociationAdmin(DomainError, PermissionError):
    """Only an admin of the experience's association (or a platform admin) approves rules."""

    status_code = 403
    default_message = _l("Only an admin of the association can approve how its money is shared.")


class RuleError(DomainError, InvalidSplitRule):
    """A split rule that cannot be approved, with a message for the admin's language."""

    default_message = _l("This split rule is not valid.")


class UnknownParty(RuleError):
    default_message = _l("%(party)s is not a party a share can go to.")


class DuplicateParty(RuleError):
    default_message = _l("%(party)s has more than one share.")


class NotAWholeNumber(RuleError):
    default_message = _l("Every share and weight must be a whole number of zero or more.")


class BasisPointsDoNotAddUp(RuleError):
    default_message = _l("The percentages add up to %(total)s%%; they must add up to 100%%.")


class NotTimezoneAware(RuleError):
    default_message = _l("The start of a split rule needs a time zone.")


class EffectiveInThePast(RuleError):
    default_message = _l("A split rule cannot take effect in the past.")


class NoStopWeighted(RuleError):
    default_message = _l("At least one stop needs a weight above zero.")


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NotAWholeNumber()
    return value


def validate_parts(parts: Iterable[Mapping]) -> list[dict]:
    """The parts in their stored shape, or a named ``InvalidSplitRule``."""
    cleaned: list[dict] = []
    for part in parts:
        if not isinstance(part, Mapping) or not set(part) <= PART_KEYS or "party" not in part:
            raise RuleError()
        try:
            party = Party(part["party"])
        except ValueError:
            raise UnknownParty(party=str(part["party"])[:40]) from None
        if any(p["party"] == party.value for p in cleaned):
            raise DuplicateParty(party=party.value)
        cleaned.append(
            {
                "party": party.value,
                "basis_points": _whole(part.get("basis_points", 0)),
                "cents_per_participant": _whole(part.get("cents_per_participant", 0)),
            }
        )
    points = sum(p["basis_points"] for p in cleaned)
    if points != BASIS_POINTS:
        raise BasisPointsDoNotAddUp(total=format_decimal(Decimal(points) / 100))
    return cleaned


def approve_rule(
    session: Session,
    experience: Experience,
    parts: Iterable[Mapping],
    approver: User,
    effective_from: datetime,
    now: datetime,
    stop_weights: Mapping[int, int] | None = None,
) -> SplitRule:
    """Approve the next version of ``experience``'s split rule, in force from
    ``effective_from`` (UTC, not before ``now``: bookings already sold keep theirs anyway,
    but the history of what was in force when must not be rewritten).

    ``parts``: ``{"party", "basis_points", "cents_per_participant"}`` mappings.
    ``stop_weights``: stop id → weight for the families' part (default: equal per stop).
    """
    if not has_role(approver, experience.association_id, (Role.ADMIN,)):
        raise NotAnAssociationAdmin()
    if effective_from.tzinfo is None:
        raise NotTimezoneAware()
    if effective_from < now:
        raise EffectiveInThePast()
    cleaned = validate_parts(parts)
    weights: list[list[int]] = []
    if stop_weights:
        own = set(session.scalars(select(Stop.id).where(Stop.experience_id == experience.id)))
        for stop_id, weight in sorted(stop_weights.items()):
            if stop_id not in own:
                raise UnknownStop()
            weights.append([stop_id, _whole(weight)])
        if not any(w for _, w in weights):
            raise NoStopWeighted()
    latest = session.scalar(
        select(func.max(SplitRule.version)).where(SplitRule.experience_id == experience.id)
    )
    rule = SplitRule(
        experience_id=experience.id,
        version=(latest or 0) + 1,
        parts=cleaned,
        stop_weights=weights,
        approved_by_id=approver.id,
        approved_at=now,
        effective_from=effective_from,
        created_at=now,
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        audit.SPLIT_RULE_APPROVED,
        actor=approver,
        target=f"experience:{experience.id}",
        association_id=experience.association_id,
        detail=f"version {rule.version} from {effective_from.isoformat()}",
        at=now,
    )
    return rule


def _in_force(*columns):
    return (
        select(*columns)
        .where(
            SplitRule.experience_id == bindparam("experience_id"),
            SplitRule.effective_from <= bindparam("at"),
        )
        .order_by(SplitRule.effective_from.desc(), SplitRule.version.desc())
        .limit(1)
    )


#: Built once: building a statement costs more than running this one.
_RULE_IN_FORCE, _RULE_ID_IN_FORCE = _in_force(SplitRule), _in_force(SplitRule.id)


def rule_in_force(session: Session, experience: Experience, at: datetime) -> SplitRule | None:
    """The version with the latest ``effective_from`` at or before ``at`` (the highest
    version on a tie); None before the first one."""
    return session.scalars(_RULE_IN_FORCE, {"experience_id": experience.id, "at": at}).first()


def rule_id_in_force(session: Session, experience_id: int, at: datetime) -> int | None:
    """``rule_in_force``'s id only, for a booking to keep (no rule loaded)."""
    return session.scalar(_RULE_ID_IN_FORCE, {"experience_id": experience_id, "at": at})


def rule_id_in_force_subquery():
    """``rule_id_in_force`` as a scalar subquery with the bound parameters ``experience_id``
    and ``at``, for a statement that writes it (a booking's insert) without a read first."""
    return _RULE_ID_IN_FORCE.scalar_subquery()


def to_split_rule(rule: SplitRule) -> splits.SplitRule:
    """The dataclass rule ``splits.split_payment`` computes with."""
    return splits.SplitRule(
        tuple(
            Share(
                Party(part["party"]),
                basis_points=int(part["basis_points"]),
                cents_per_participant=int(part["cents_per_participant"]),
            )
            for part in rule.parts
        )
    )


def family_members(rule: SplitRule | None, stops: Iterable[Stop]) -> list[Member]:
    """One member per hosted stop (its family, weighted by the rule; weight 1 when the rule
    gives none). Stops without a host family and stops weighted 0 are left out."""
    weights = {int(stop_id): int(w) for stop_id, w in (rule.stop_weights if rule else [])}
    members = []
    for stop in stops:
        if stop.family_id is None:
            continue
        weight = weights.get(stop.id, 0 if weights else 1)
        if weight:
            members.append(Member(stop.family_id, weight))
    return members


def rule_for_booking(session: Session, booking: Booking) -> SplitRule | None:
    """The rule the booking was sold under (None when none was in force)."""
    if booking.split_rule_id is None:
        return None
    return session.get(SplitRule, booking.split_rule_id)


def versions(session: Session, experience: Experience) -> list[SplitRule]:
    """Every version of the experience's rule, newest first."""
    return list(
        session.scalars(
            select(SplitRule)
            .where(SplitRule.experience_id == experience.id)
            .order_by(SplitRule.version.desc())
        )
    )


def example_split(
    session: Session,
    experience: Experience,
    parts: Iterable[Mapping],
    stop_weights: Mapping[int, int] | None,
    gross_cents: int,
    participants: int,
) -> splits.Split:
    """What ``parts`` would give each party (and each host family) of ``gross_cents`` paid by
    ``participants`` visitors, before any processor fee: the preview an admin sees before
    approving. Validates like ``approve_rule`` and stores nothing."""
    draft = SplitRule(
        parts=validate_parts(parts),
        stop_weights=[[stop_id, weight] for stop_id, weight in (stop_weights or {}).items()],
    )
    stops = session.scalars(
        select(Stop).where(Stop.experience_id == experience.id).order_by(Stop.position)
    )
    return splits.split_payment(
        gross_cents,
        0,
        participants,
        to_split_rule(draft),
        families=family_members(draft, stops),
    )
