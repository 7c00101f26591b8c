"""Split rules: approval by an association admin, validation with named errors, versions in
force by date, the dataclass rule they become, and bookings keeping the version they were
sold under."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import SPLIT_PARTS
from tests.services.booking.test_lifecycle import hold
from tourism.database import utcnow, write_transactions
from tourism.errors import UnknownStop
from tourism.models import Role
from tourism.services.ledger import split_rules
from tourism.services.ledger.split_rules import (
    BasisPointsDoNotAddUp,
    DuplicateParty,
    EffectiveInThePast,
    NoStopWeighted,
    NotAnAssociationAdmin,
    NotAWholeNumber,
    NotTimezoneAware,
    UnknownParty,
)
from tourism.services.ledger.splits import InvalidSplitRule, Member, Party, Share, SplitRule

PARTS = SPLIT_PARTS


@pytest.fixture(autouse=True)
def write_mode():
    """Holding seats locks the departure: SQLite transactions must take the write lock."""
    with write_transactions():
        yield


@pytest.fixture
def experience(make):
    return make.experience()


@pytest.fixture
def admin(make, experience):
    return make.user(memberships=[(experience.association, Role.ADMIN)])


def approve(session, experience, admin, parts=PARTS, starts=timedelta(0), now=None, **kw):
    now = now or utcnow()
    return split_rules.approve_rule(session, experience, parts, admin, now + starts, now, **kw)


def test_an_admin_approves_numbered_versions(session, experience, admin):
    first = approve(session, experience, admin)
    second = approve(session, experience, admin, starts=timedelta(days=3))
    assert (first.version, second.version) == (1, 2)
    assert first.approved_by_id == admin.id and first.approved_at is not None
    assert first.parts[1] == {
        "party": "guides",
        "basis_points": 2_000,
        "cents_per_participant": 300,
    }
    assert first.parts[0]["cents_per_participant"] == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.GUIDE])
def test_staff_and_guides_cannot_approve(session, make, experience, role):
    user = make.user(memberships=[(experience.association, role)])
    with pytest.raises(NotAnAssociationAdmin):
        approve(session, experience, user)


def test_an_admin_of_another_association_cannot_approve(session, make, experience):
    stranger = make.user(memberships=[(make.association(), Role.ADMIN)])
    with pytest.raises(NotAnAssociationAdmin):
        approve(session, experience, stranger)


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        ([{"party": "families", "basis_points": 9_999}], BasisPointsDoNotAddUp),
        ([{"party": "families", "basis_points": 10_001}], BasisPointsDoNotAddUp),
        ([{"party": "shaman", "basis_points": 10_000}], UnknownParty),
        (
            [{"party": "platform", "basis_points": 5_000}] * 2,
            DuplicateParty,
        ),
        ([{"party": "platform", "basis_points": 10_000.0}], NotAWholeNumber),
        ([{"party": "platform", "basis_points": True}], NotAWholeNumber),
        (
            [
                {"party": "platform", "basis_points": 10_001},
                {"party": "families", "basis_points": -1},
            ],
            NotAWholeNumber,
        ),
        (
            [{"party": "platform", "basis_points": 10_000, "cents_per_participant": -5}],
            NotAWholeNumber,
        ),
        ([{"party": "platform", "basis_points": 10_000, "percent": 3}], InvalidSplitRule),
        ([], BasisPointsDoNotAddUp),
    ],
)
def test_invalid_parts_are_refused_by_name(session, experience, admin, parts, error):
    with pytest.raises(error):
        approve(session, experience, admin, parts=parts)
    assert split_rules.rule_in_force(session, experience, utcnow() + timedelta(days=1)) is None


def test_effective_from_must_be_aware_and_not_in_the_past(session, experience, admin):
    with pytest.raises(EffectiveInThePast):
        approve(session, experience, admin, starts=-timedelta(seconds=1))
    now = utcnow()
    with pytest.raises(NotTimezoneAware):
        split_rules.approve_rule(session, experience, PARTS, admin, now.replace(tzinfo=None), now)


def test_stop_weights_must_name_this_experiences_stops(session, make, experience, admin):
    own = make.stop(experience, make.family(experience.association))
    other = make.stop(make.experience(), make.family())
    with pytest.raises(UnknownStop):
        approve(session, experience, admin, stop_weights={other.id: 1})
    with pytest.raises(NoStopWeighted):
        approve(session, experience, admin, stop_weights={own.id: 0})
    rule = approve(session, experience, admin, stop_weights={own.id: 3})
    assert rule.stop_weights == [[own.id, 3]]


def test_the_rule_in_force_is_the_latest_effective_one(session, experience, admin):
    now = utcnow()
    assert split_rules.rule_in_force(session, experience, now) is None
    first = approve(session, experience, admin, now=now)
    later = approve(session, experience, admin, starts=timedelta(days=10), now=now)
    assert split_rules.rule_in_force(session, experience, now + timedelta(days=1)) == first
    assert split_rules.rule_in_force(session, experience, now + timedelta(days=10)) == later
    assert split_rules.rule_in_force(session, experience, now - timedelta(days=1)) is None


def test_a_stored_rule_becomes_the_dataclass_rule(session, experience, admin):
    rule = approve(session, experience, admin)
    assert split_rules.to_split_rule(rule) == SplitRule(
        (
            Share(Party.FAMILIES, basis_points=5_000),
            Share(Party.GUIDES, basis_points=2_000, cents_per_participant=300),
            Share(Party.ASSOCIATION_FUND, basis_points=1_500),
            Share(Party.CONSERVATION_FUND, basis_points=500),
            Share(Party.PLATFORM, basis_points=1_000),
        )
    )


def test_family_members_follow_the_stop_weights(session, make, experience, admin):
    a, b = make.family(experience.association), make.family(experience.association)
    s1, s2, s3 = make.stop(experience, a), make.stop(experience, b), make.stop(experience, a)
    unhosted = make.stop(experience)
    stops = [s1, s2, s3, unhosted]
    equal = approve(session, experience, admin)
    assert split_rules.family_members(equal, stops) == [Member(a.id), Member(b.id), Member(a.id)]
    weighted = approve(session, experience, admin, stop_weights={s1.id: 3, s2.id: 1})
    assert split_rules.family_members(weighted, stops) == [Member(a.id, 3), Member(b.id, 1)]


def test_a_booking_keeps_the_version_in_force_when_it_was_held(session, make, admin):
    departure = make.departure(
        experience=make.experience(association=admin.memberships[0].association)
    )
    experience = departure.experience
    before = hold(session, departure)
    assert before.split_rule_id is None
    first = approve(session, experience, admin)
    sold = hold(session, departure)
    assert sold.split_rule == first
    approve(session, experience, admin, starts=timedelta(days=1))
    assert sold.split_rule == first
    assert hold(session, departure).split_rule == first  # the second is not in force yet
