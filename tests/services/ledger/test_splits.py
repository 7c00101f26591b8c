"""Splitting a payment: the fee first, fixed amounts next, basis points last, to the cent."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tourism.money import allocate
from tourism.services.ledger.splits import (
    InvalidSplitRule,
    Member,
    Party,
    Portion,
    Share,
    SplitRule,
    split_payment,
)

#: A Cacao Route rule: guides $5 a visitor plus 20 %, families 40 %, funds 30 %, platform 10 %.
CACAO_RULE = SplitRule(
    (
        Share(Party.FAMILIES, basis_points=4_000),
        Share(Party.GUIDES, basis_points=2_000, cents_per_participant=500),
        Share(Party.ASSOCIATION_FUND, basis_points=2_000),
        Share(Party.CONSERVATION_FUND, basis_points=1_000),
        Share(Party.PLATFORM, basis_points=1_000),
    )
)


def test_a_cacao_route_booking():
    # Four adults at $45: $180.00, Stripe keeps 2.9 % + 30c = $5.52.
    split = split_payment(
        18_000,
        552,
        4,
        CACAO_RULE,
        families=[Member(11), Member(12), Member(13)],
        guides=[Member(7, weight=2), Member(8, weight=1)],
    )
    # Net 17,448; the guides' fixed 2,000 first; 15,448 by basis points: families 6,179.2,
    # guides 3,089.6, association 3,089.6, conservation 1,544.8, platform 1,544.8. The
    # floors leave 3 cents: to the largest remainders (.8, .8, then .6 of the lower index).
    assert split.net_cents == 17_448
    assert split.portions == (
        Portion(Party.FAMILIES, 11, 2_060),  # 6,179 / 3 = 2,059.67
        Portion(Party.FAMILIES, 12, 2_060),
        Portion(Party.FAMILIES, 13, 2_059),
        Portion(Party.GUIDES, 7, 3_393),  # 2,000 + 3,090 = 5,090: 3,393.33 and 1,696.67
        Portion(Party.GUIDES, 8, 1_697),
        Portion(Party.ASSOCIATION_FUND, None, 3_089),
        Portion(Party.CONSERVATION_FUND, None, 1_545),
        Portion(Party.PLATFORM, None, 1_545),
    )
    assert sum(p.cents for p in split.portions) == 17_448
    assert split.party_total(Party.GUIDES) == 5_090


def test_a_family_hosting_two_stops_gets_both_and_stops_can_weigh_more():
    rule = SplitRule((Share(Party.FAMILIES, basis_points=10_000),))
    split = split_payment(1_000, 0, 2, rule, families=[Member(1), Member(2, 2), Member(1)])
    assert split.portions == (Portion(Party.FAMILIES, 1, 500), Portion(Party.FAMILIES, 2, 500))


def test_parties_without_members_yet_get_one_unassigned_portion():
    split = split_payment(10_000, 0, 2, CACAO_RULE)
    assert Portion(Party.GUIDES, None, 1_000 + 1_800) in split.portions
    assert Portion(Party.FAMILIES, None, 3_600) in split.portions


def test_fixed_amounts_larger_than_the_net_share_it_in_proportion():
    rule = SplitRule(
        (
            Share(Party.GUIDES, cents_per_participant=300),
            Share(Party.ASSOCIATION_FUND, cents_per_participant=100, basis_points=10_000),
        )
    )
    split = split_payment(1_000, 0, 5, rule, guides=[Member(1)])  # asks for 1,500 + 500
    assert [p.cents for p in split.portions] == [750, 250]


def test_the_fee_comes_off_first_and_can_take_everything():
    assert split_payment(100, 100, 1, CACAO_RULE).portions == tuple(
        Portion(share.party, None, 0) for share in CACAO_RULE.shares
    )
    assert split_payment(0, 0, 0, CACAO_RULE).net_cents == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: SplitRule(()),
        lambda: SplitRule((Share(Party.PLATFORM, basis_points=9_999),)),
        lambda: SplitRule(
            (Share(Party.PLATFORM, basis_points=5_000), Share(Party.PLATFORM, basis_points=5_000))
        ),
        lambda: Share(Party.PLATFORM, basis_points=-1),
        lambda: Share(Party.PLATFORM, cents_per_participant=1.5),
        lambda: split_payment(100, 101, 1, CACAO_RULE),
        lambda: split_payment(-1, 0, 1, CACAO_RULE),
        lambda: split_payment(100, 0, -1, CACAO_RULE),
        lambda: split_payment(100.0, 0, 1, CACAO_RULE),
        lambda: split_payment(100, 0, 1, CACAO_RULE, families=[Member(1, 0), Member(2, 0)]),
        lambda: split_payment(100, 0, 1, CACAO_RULE, guides=[Member(1, -1)]),
    ],
)
def test_refuses_what_cannot_be_split(make):
    with pytest.raises(InvalidSplitRule):
        make()


# Properties ---------------------------------------------------------------------------------


@st.composite
def rules(draw) -> SplitRule:
    parties = draw(st.lists(st.sampled_from(list(Party)), min_size=1, max_size=5, unique=True))
    # Basis points adding to exactly 10,000: allocate 10,000 by random weights.
    weights = draw(st.lists(st.integers(0, 100), min_size=len(parties), max_size=len(parties)))
    if not any(weights):
        weights[0] = 1
    points = allocate(10_000, weights)
    fixed = draw(
        st.lists(
            st.one_of(st.just(0), st.integers(0, 5_000)),
            min_size=len(parties),
            max_size=len(parties),
        )
    )
    return SplitRule(tuple(map(Share, parties, points, fixed)))


#: Families per hosted stop or guides: ids repeat (a family hosting two stops), weights may be 0.
members = st.lists(st.builds(Member, st.integers(1, 6), st.integers(0, 5)), max_size=6)


@pytest.mark.no_database
@settings(max_examples=1_000, derandomize=True, deadline=None)
@given(
    gross=st.integers(0, 10**7),
    fee_share=st.fractions(0, 1),
    participants=st.integers(0, 60),
    rule=rules(),
    families=members,
    guides=members,
)
def test_a_split_always_shares_out_exactly_the_net(
    gross, fee_share, participants, rule, families, guides
):
    families = families if any(m.weight for m in families) else []
    guides = guides if any(m.weight for m in guides) else []
    fee = int(gross * fee_share)
    split = split_payment(gross, fee, participants, rule, families=families, guides=guides)

    assert sum(p.cents for p in split.portions) == gross - fee
    assert all(p.cents >= 0 for p in split.portions)
    asked = sum(s.cents_per_participant * participants for s in rule.shares)
    for share in rule.shares:
        total = split.party_total(share.party)
        wanted = share.cents_per_participant * participants
        if asked <= gross - fee:
            # Fixed amounts are paid in full; the rest goes by basis points, within a cent.
            exact = wanted + Fraction((gross - fee - asked) * share.basis_points, 10_000)
            assert exact - 1 < total < exact + 1
        else:
            # Not enough for the fixed amounts: only they are paid, in proportion.
            assert abs(total - Fraction((gross - fee) * wanted, asked)) < 1
    assert split_payment(gross, fee, participants, rule, families=families, guides=guides) == split


def test_fixed_amounts_are_owed_once_per_booking_paid_in_parts():
    rule = SplitRule(
        (
            Share(Party.GUIDES, basis_points=2_000, cents_per_participant=300),
            Share(Party.FAMILIES, basis_points=8_000),
        )
    )
    whole = split_payment(9_000, 0, 3, rule)
    assert whole.party_total(Party.GUIDES) == 900 + (9_000 - 900) * 2 // 10
    deposit = split_payment(2_701, 0, 3, rule, of_total=9_000, paid_before=0)
    rest = split_payment(6_299, 0, 3, rule, of_total=9_000, paid_before=2_701)
    # The fixed $9 (3 x $3) is carried once: 270 by the deposit (2701/9000 of it, floored),
    # the other 630 by the rest; the 20% of what is left is shared as usual.
    assert deposit.party_total(Party.GUIDES) == 270 + 486  # 20% of 2431 = 486.2
    assert rest.party_total(Party.GUIDES) == 630 + 1_134  # 20% of 5669 = 1133.8
    for part in (deposit, rest):
        assert sum(p.cents for p in part.portions) == part.gross_cents


@pytest.mark.parametrize("cut", [0, 1, 4_499, 8_999, 9_000])
def test_the_fixed_parts_of_any_two_payments_add_up_exactly(cut):
    rule = SplitRule((Share(Party.GUIDES, basis_points=10_000, cents_per_participant=333),))
    first = split_payment(cut, 0, 7, rule, of_total=9_000, paid_before=0)
    second = split_payment(9_000 - cut, 0, 7, rule, of_total=9_000, paid_before=cut)
    assert first.party_total(Party.GUIDES) + second.party_total(Party.GUIDES) == 9_000
    # With all of it fixed (7 x 333 = 2331 of 9000), the fixed parts alone add to 2331:
    fixed_rule = SplitRule(
        (
            Share(Party.GUIDES, basis_points=0, cents_per_participant=333),
            Share(Party.PLATFORM, basis_points=10_000),
        )
    )
    a = split_payment(cut, 0, 7, fixed_rule, of_total=9_000, paid_before=0)
    b = split_payment(9_000 - cut, 0, 7, fixed_rule, of_total=9_000, paid_before=cut)
    assert a.party_total(Party.GUIDES) + b.party_total(Party.GUIDES) == 2_331
