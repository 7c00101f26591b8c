"""Largest-remainder allocation: shares always sum to the amount, each within a cent of fair."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tourism.money import allocate

pytestmark = pytest.mark.no_database


@pytest.mark.parametrize(
    ("amount", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (100, [1, 1, 1, 1, 1, 1], [17, 17, 17, 17, 16, 16]),
        (1, [1, 1], [1, 0]),  # a tie goes to the lower index
        (1, [1, 2], [0, 1]),  # ... but a larger remainder comes first
        (10_000, [5_000, 3_000, 2_000], [5_000, 3_000, 2_000]),
        (999, [3_333, 3_333, 3_334], [333, 333, 333]),
        (1_001, [3_333, 3_333, 3_334], [334, 333, 334]),
        (7, [0, 1, 0, 1], [0, 4, 0, 3]),
        (0, [1, 2, 3], [0, 0, 0]),
        (5, [7], [5]),
    ],
)
def test_examples(amount, weights, shares):
    assert allocate(amount, weights) == shares


def test_accepts_any_sequence():
    assert allocate(10, (1, 1)) == [5, 5]
    assert allocate(10, range(1, 3)) == [3, 7]


@pytest.mark.parametrize(
    ("amount", "weights"),
    [(-1, [1]), (10, []), (10, [0, 0]), (10, [1, -1]), (10, [-1, 2])],
)
def test_refuses_what_cannot_be_allocated(amount, weights):
    with pytest.raises(ValueError):
        allocate(amount, weights)


@pytest.mark.parametrize(("amount", "weights"), [(10.0, [1]), (10, [0.5, 0.5]), (True, [1])])
def test_refuses_non_integers(amount, weights):
    with pytest.raises(TypeError):
        allocate(amount, weights)


def _with_a_positive(drawn: tuple[int, list[int], int]) -> list[int]:
    positive, others, position = drawn
    weights = [max(weight, 0) for weight in others]  # negatives become zeros: about half
    weights.insert(position % (len(weights) + 1), positive)
    return weights


#: 1–20 weights of 0..10,000, zeros common, at least one positive (built, not filtered, so
#: Hypothesis wastes no examples).
weight_lists = st.tuples(
    st.integers(min_value=1, max_value=10_000),
    st.lists(st.integers(min_value=-10_000, max_value=10_000), max_size=19),
    st.integers(min_value=0, max_value=19),
).map(_with_a_positive)


@settings(max_examples=10_000, derandomize=True, deadline=None)
@given(amount=st.integers(min_value=0, max_value=10**9), weights=weight_lists)
def test_allocation_properties(amount, weights):
    shares = allocate(amount, weights)

    assert len(shares) == len(weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(amount * weight, total)
        assert share >= 0
        assert exact - 1 < share < exact + 1  # the floor or the ceiling of the exact part
        if weight == 0:
            assert share == 0
    assert allocate(amount, weights) == shares
