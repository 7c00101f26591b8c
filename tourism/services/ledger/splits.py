"""Who gets what of a payment: a pure function from amounts and a split rule to cents.

The processor's fee comes off the gross first; what is left (the net) is shared out, always
exactly, with ``money.allocate``:

1. fixed amounts per participant (e.g. $5 per visitor for the guides), for every party that
   has one; if together they exceed the net they share the net in proportion to what they
   asked for, so nobody goes negative;
2. the remainder by basis points (which must add up to 10,000), largest remainder first;
3. within the families' and the guides' parts, each member by weight: one ``Member`` per
   hosted stop (equal weights, or the stop's weight), one per guide (e.g. lead 2,
   assistant 1). A party with no members yet gets one portion without a member (the
   caller books it to that party's unassigned pool).

No database, no models: the ledger postings (and, later, the versioned ``SplitRule`` model
with its approval and effective dates) build on this.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...money import allocate

BASIS_POINTS = 10_000


class InvalidSplitRule(ValueError):
    pass


class Party(enum.StrEnum):
    FAMILIES = "families"
    GUIDES = "guides"
    ASSOCIATION_FUND = "association_fund"
    CONSERVATION_FUND = "conservation_fund"
    PLATFORM = "platform"


#: Parties made of several people, each paid separately.
MEMBER_PARTIES = frozenset({Party.FAMILIES, Party.GUIDES})


@dataclass(frozen=True)
class Share:
    """One party's share: basis points of what is left after fixed amounts, and/or a fixed
    amount per participant taken first."""

    party: Party
    basis_points: int = 0
    cents_per_participant: int = 0

    def __post_init__(self) -> None:
        for name in ("basis_points", "cents_per_participant"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidSplitRule(f"{self.party}: {name} must be a whole number >= 0")


@dataclass(frozen=True)
class SplitRule:
    """The shares of every party; each party at most once, basis points adding to 10,000
    (so every cent has somewhere to go)."""

    shares: tuple[Share, ...]

    def __post_init__(self) -> None:
        if not self.shares:
            raise InvalidSplitRule("a split rule needs at least one share")
        parties = [share.party for share in self.shares]
        if len(set(parties)) != len(parties):
            raise InvalidSplitRule("each party may appear only once in a split rule")
        points = sum(share.basis_points for share in self.shares)
        if points != BASIS_POINTS:
            raise InvalidSplitRule(f"basis points add up to {points}, not {BASIS_POINTS}")


@dataclass(frozen=True)
class Member:
    """A family (per hosted stop) or a guide, by id, with a weight within their party."""

    id: int
    weight: int = 1


@dataclass(frozen=True)
class Portion:
    party: Party
    #: The family's or guide's id; None for the funds and the platform, and for a party
    #: whose members are not known yet.
    member_id: int | None
    cents: int


@dataclass(frozen=True)
class Split:
    gross_cents: int
    fee_cents: int
    portions: tuple[Portion, ...]

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents

    def party_total(self, party: Party) -> int:
        return sum(p.cents for p in self.portions if p.party == party)


def split_payment(
    gross_cents: int,
    fee_cents: int,
    participants: int,
    rule: SplitRule,
    *,
    families: Iterable[Member] = (),
    guides: Iterable[Member] = (),
    of_total: int | None = None,
    paid_before: int = 0,
) -> Split:
    """Share ``gross_cents - fee_cents`` out by ``rule``; the portions sum to it exactly.

    ``families``: one member per hosted stop (a family hosting two stops appears twice and
    gets both). ``guides``: one member per guide.

    A booking paid in parts (a deposit online, the rest in cash) owes each fixed amount per
    participant once, not once per payment: given the booking's total (``of_total``) and
    what was paid of it before this payment (``paid_before``), this payment carries the
    fixed amounts in proportion to its place in the total, cumulatively floored, so the
    parts always add up to exactly the fixed amount. Raises ``InvalidSplitRule`` for amounts
    that cannot be split (negative, or a fee above the gross) or members with no weight.
    """
    for name, value in (("gross", gross_cents), ("fee", fee_cents), ("participants", participants)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidSplitRule(f"{name} must be a whole number >= 0")
    if fee_cents > gross_cents:
        raise InvalidSplitRule("the processor's fee is larger than the payment")
    members = {Party.FAMILIES: _merge(families), Party.GUIDES: _merge(guides)}

    net = gross_cents - fee_cents
    asked = [
        _fixed_part(share.cents_per_participant * participants, gross_cents, of_total, paid_before)
        for share in rule.shares
    ]
    fixed = asked if sum(asked) <= net else allocate(net, asked)
    remainder = net - sum(fixed)
    by_points = allocate(remainder, [share.basis_points for share in rule.shares])

    portions: list[Portion] = []
    for share, fixed_cents, point_cents in zip(rule.shares, fixed, by_points, strict=True):
        total = fixed_cents + point_cents
        party_members = members.get(share.party, [])
        if share.party in MEMBER_PARTIES and party_members:
            cents = allocate(total, [member.weight for member in party_members])
            portions += [
                Portion(share.party, member.id, c)
                for member, c in zip(party_members, cents, strict=True)
            ]
        else:
            portions.append(Portion(share.party, None, total))
    return Split(gross_cents, fee_cents, tuple(portions))


def _fixed_part(fixed: int, gross: int, of_total: int | None, paid_before: int) -> int:
    """This payment's part of a booking's ``fixed`` amount (see ``split_payment``)."""
    if of_total is None or of_total <= 0:
        return fixed
    before = min(max(paid_before, 0), of_total)
    after = min(before + gross, of_total)
    return fixed * after // of_total - fixed * before // of_total


def _merge(members: Iterable[Member]) -> Sequence[Member]:
    """One member per id (weights added), in order of first appearance."""
    weights: dict[int, int] = {}
    for member in members:
        if not isinstance(member.weight, int) or member.weight < 0:
            raise InvalidSplitRule(f"member {member.id}: weight must be a whole number >= 0")
        weights[member.id] = weights.get(member.id, 0) + member.weight
    if weights and not any(weights.values()):
        raise InvalidSplitRule("members were given but none has a weight")
    return [Member(member_id, weight) for member_id, weight in weights.items()]
