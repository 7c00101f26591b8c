"""Split rules: approve a new version for an experience, find the one in force, and turn a
stored rule into the dataclass ``splits.split_payment`` computes with.

A version is never edited: a change is a new version with a later ``effective_from``. A
booking records the version in force when its seats were held (``hold_seats``), so a rule
approved later never reshapes money already sold. Errors are ``splits.InvalidSplitRule``
subclasses (plain English: an admin's form will translate them when it exists) and
``NotAnAssociationAdmin``. Functions only flush.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Booking, Experience, Role, SplitRule, Stop, User
from . import splits
from .splits import BASIS_POINTS, InvalidSplitRule, Member, Party, Share
from .tenancy import has_role

PART_KEYS = frozenset({"party", "basis_points", "cents_per_participant"})


class NotAnAssociationAdmin(PermissionError):
    """Only an admin of the experience's association (or a platform admin) approves rules."""


class UnknownParty(InvalidSplitRule):
    pass


class DuplicateParty(InvalidSplitRule):
    pass


class NotAWholeNumber(InvalidSplitRule):
    pass


class BasisPointsDoNotAddUp(InvalidSplitRule):
    pass


class UnknownStop(InvalidSplitRule):
    pass


class NotTimezoneAware(InvalidSplitRule):
    pass


class EffectiveInThePast(InvalidSplitRule):
    pass


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NotAWholeNumber(f"{what} must be a whole number >= 0, not {value!r}")
    return value


def validate_parts(parts: Iterable[Mapping]) -> list[dict]:
    """The parts in their stored shape, or a named ``InvalidSplitRule``."""
    cleaned: list[dict] = []
    for part in parts:
        if not isinstance(part, Mapping) or not set(part) <= PART_KEYS or "party" not in part:
            raise InvalidSplitRule(f"a part is a mapping of {sorted(PART_KEYS)}, not {part!r}")
        try:
            party = Party(part["party"])
        except ValueError:
            raise UnknownParty(f"unknown party {part['party']!r}") from None
        if any(p["party"] == party.value for p in cleaned):
            raise DuplicateParty(f"{party} appears more than once")
        cleaned.append(
            {
                "party": party.value,
                "basis_points": _whole(part.get("basis_points", 0), f"{party} basis points"),
                "cents_per_participant": _whole(
                    part.get("cents_per_participant", 0), f"{party} cents per participant"
                ),
            }
        )
    points = sum(p["basis_points"] for p in cleaned)
    if points != BASIS_POINTS:
        raise BasisPointsDoNotAddUp(f"basis points add up to {points}, not {BASIS_POINTS}")
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
        raise NotAnAssociationAdmin("only an admin of the association approves split rules")
    if effective_from.tzinfo is None:
        raise NotTimezoneAware("effective_from must be a timezone-aware UTC time")
    if effective_from < now:
        raise EffectiveInThePast("a split rule cannot take effect in the past")
    cleaned = validate_parts(parts)
    weights: list[list[int]] = []
    if stop_weights:
        own = set(session.scalars(select(Stop.id).where(Stop.experience_id == experience.id)))
        for stop_id, weight in sorted(stop_weights.items()):
            if stop_id not in own:
                raise UnknownStop(f"stop {stop_id} is not on this experience")
            weights.append([stop_id, _whole(weight, f"stop {stop_id} weight")])
        if not any(w for _, w in weights):
            raise NotAWholeNumber("at least one stop needs a weight above zero")
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
    return rule


def rule_in_force(session: Session, experience: Experience, at: datetime) -> SplitRule | None:
    """The version with the latest ``effective_from`` at or before ``at`` (the highest
    version on a tie); None before the first one."""
    return session.scalars(
        select(SplitRule)
        .where(SplitRule.experience_id == experience.id, SplitRule.effective_from <= at)
        .order_by(SplitRule.effective_from.desc(), SplitRule.version.desc())
        .limit(1)
    ).first()


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
