"""Revenue reports: known payments, refunds and disputes, posted through the real services at
known moments, give exactly the expected cents per month, experience and beneficiary type,
visitors per month, and the shares reaching women-represented families and young guides."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

import tourism.database
from tourism.database import write_transactions
from tourism.models import (
    BookingStatus,
    DepartureStatus,
    Dispute,
    Membership,
    Payment,
    PaymentStatus,
    Refund,
    Role,
)
from tourism.services.ledger import journal as ledger
from tourism.services.ledger import postings, split_rules
from tourism.services.reports import periods
from tourism.services.reports import revenue as reports
from tourism.services.reports.periods import InvalidPeriod, Period

#: A rule without per-participant amounts, so the expected cents are plain percentages.
PARTS = [
    {"party": "families", "basis_points": 5_000},
    {"party": "guides", "basis_points": 2_000},
    {"party": "association_fund", "basis_points": 1_500},
    {"party": "conservation_fund", "basis_points": 500},
    {"party": "platform", "basis_points": 1_000},
]
Q1 = Period(date(2025, 1, 1), date(2025, 3, 1))
#: After every departure of the world but the last one.
NOW = datetime(2025, 3, 22, 12, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)``: from then on ``utcnow()`` (so every ``created_at``) is ``moment``."""

    def set_to(moment: datetime) -> None:
        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return moment.astimezone(tz)

        monkeypatch.setattr(tourism.database, "datetime", Frozen)

    return set_to


class World:
    """Kallari, two experiences sold under a 50/20/15/5/10 rule, three families (a woman's,
    one of unrecorded gender, a man's), two guides (under 30, age not recorded), and:

    - 2025-01-10: card payment of 100.00 with a 4.00 fee (experience 1, two adults);
    - 2025-02-10: 50.00 cash (experience 2, one adult);
    - 2025-03-01 03:00 UTC, i.e. 2025-02-28 22:00 in Ecuador: 50.00 of the card refunded;
    - 2025-03-05: card payment of 50.00 with a 2.00 fee (experience 1), lost to a dispute
      on 2025-03-20.
    """

    def __init__(self, session, make, clock) -> None:
        self.session, self.make, self.clock = session, make, clock
        a = self.association = make.association(name="Kallari")
        self.other = make.association(name="Wiñak")
        admin = make.user(password="", memberships=[(a, Role.ADMIN)])
        self.woman = make.family(a, name="Familia Grefa", representative_gender="female")
        self.unknown = make.family(a, name="Familia Andi")
        self.man = make.family(a, name="Familia Tapuy", representative_gender="male")
        prices = {"adult": 5_000}
        self.cacao = make.experience(a, prices=prices)
        self.guayusa = make.experience(a, prices=prices)
        self.cacao.texts[1].title = "Cacao Route"
        self.guayusa.texts[1].title = "Guayusa Dawn"
        stops = [make.stop(self.cacao, family=f) for f in (self.woman, self.unknown)]
        make.stop(self.guayusa, family=self.man)
        start = utc(2024, 12, 1)
        self.rules = {
            self.cacao.id: split_rules.approve_rule(
                session, self.cacao, PARTS, admin, start, start,
                stop_weights={stops[0].id: 3, stops[1].id: 1},
            ),
            self.guayusa.id: split_rules.approve_rule(
                session, self.guayusa, PARTS, admin, start, start
            ),
        }  # fmt: skip
        self.young = make.guide(a)
        self.ageless = make.guide(a)
        for member in session.query(Membership).filter(Membership.user_id == self.young.id):
            member.under_30 = True
        self.january = make.departure(self.cacao, starts_at=utc(2025, 1, 20, 14))
        self.february = make.departure(self.guayusa, starts_at=utc(2025, 2, 10, 14))
        make.assign(self.january, self.young)
        make.assign(self.february, self.ageless)

        self.card_booking = self.booking(self.january, 2)
        self.card = self.pay(self.card_booking, utc(2025, 1, 10, 15), fee=400)
        self.cash_booking = self.booking(self.february, 1)
        self.pay(self.cash_booking, utc(2025, 2, 10, 16), provider="cash")
        self.refund(self.card, 5_000, utc(2025, 3, 1, 3))
        disputed = self.pay(self.booking(self.january, 1), utc(2025, 3, 5, 12), fee=200)
        self.dispute(disputed, utc(2025, 3, 20, 12))

    def booking(self, departure, adults, **kw):
        booking = self.make.booking(departure, quantities={"adult": adults}, **kw)
        booking.split_rule = self.rules[departure.experience_id]
        self.session.flush()
        return booking

    def pay(self, booking, when, fee=0, provider="stripe") -> Payment:
        self.clock(when)
        payment = Payment(
            booking=booking,
            provider=provider,
            provider_ref=f"pi_{uuid.uuid4().hex[:20]}" if provider == "stripe" else None,
            charge_ref=f"ch_{uuid.uuid4().hex[:20]}" if provider == "stripe" else None,
            amount_cents=booking.total_cents,
            fee_cents=fee,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=when,
        )
        self.session.add(payment)
        self.session.flush()
        postings.post_payment(self.session, payment)
        return payment

    def refund(self, payment, cents, when) -> None:
        self.clock(when)
        refund = Refund(payment=payment, amount_cents=cents, reason="tourist_cancelled")
        self.session.add(refund)
        self.session.flush()
        postings.post_refund(self.session, refund)

    def dispute(self, payment, when) -> None:
        self.clock(when)
        dispute = Dispute(
            payment=payment,
            provider_ref=f"dp_{uuid.uuid4().hex[:20]}",
            amount_cents=payment.amount_cents,
            status="lost",
        )
        self.session.add(dispute)
        self.session.flush()
        postings.post_dispute(self.session, dispute)

    def report(self, period=Q1, locale="en", now=NOW):
        return reports.revenue_report(self.session, self.association, period, locale, now)


@pytest.fixture
def world(session, make, clock):
    with write_transactions():
        world = World(session, make, clock)
        session.commit()
    return world


def cents(shares) -> dict[str, int]:
    return {share.group: share.cents for share in shares}


# Periods -------------------------------------------------------------------------------------


def test_the_default_period_is_the_last_twelve_local_months():
    period = periods.parse_period(None, "", date(2026, 3, 15))
    assert period.months[0] == "2025-04" and period.months[-1] == "2026-03"
    assert len(period.months) == 12


def test_months_start_at_local_midnight_in_utc():
    bounds = periods.parse_period("2025-12", "2026-01", date(2026, 3, 1)).boundaries()
    assert bounds == [utc(2025, 12, 1, 5), utc(2026, 1, 1, 5), utc(2026, 2, 1, 5)]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2025-13", "2025-12"),
        ("2025-1", "2025-03"),
        ("25-01", None),
        ("2025-01-01", None),
        ("enero", None),
        ("2025-00", None),
        ("１２３４-01", None),
        ("2025-03", "2025-02"),
        ("2020-01", "2023-01"),
        ("1999-12", "2000-01"),
        ("9999-12", "9999-12"),
        ("2025-01", "3000-01"),
    ],
)
def test_bad_periods_are_refused(first, last):
    with pytest.raises(InvalidPeriod):
        periods.parse_period(first, last, date(2026, 3, 15))


def test_thirty_six_months_are_allowed():
    assert len(periods.parse_period("2023-01", "2025-12", date(2026, 3, 1)).months) == 36


# Money -----------------------------------------------------------------------------------------


def test_revenue_per_local_month(world):
    months = {m.month: m for m in world.report().months}
    assert list(months) == ["2025-01", "2025-02", "2025-03"]
    assert (months["2025-01"].gross_cents, months["2025-01"].net_cents) == (10_000, 10_000)
    # The refund at 03:00 UTC on March 1st happened on February 28th in Ecuador.
    february = months["2025-02"]
    assert (february.gross_cents, february.refunded_cents, february.net_cents) == (5_000, 5_000, 0)
    march = months["2025-03"]
    assert (march.gross_cents, march.disputes_lost_cents, march.net_cents) == (5_000, 5_000, 0)
    assert march.refunded_cents == 0


def test_a_shorter_period_sees_only_its_months(world):
    report = world.report(Period(date(2025, 2, 1), date(2025, 2, 1)))
    assert [(m.month, m.gross_cents, m.refunded_cents) for m in report.months] == [
        ("2025-02", 5_000, 5_000)
    ]
    assert [(e.title, e.gross_cents, e.net_cents) for e in report.experiences] == [
        ("Guayusa Dawn", 5_000, 5_000),
        ("Cacao Route", 0, -5_000),
    ]


def test_revenue_per_experience(world):
    assert [(e.title, e.gross_cents, e.net_cents) for e in world.report().experiences] == [
        ("Cacao Route", 15_000, 5_000),
        ("Guayusa Dawn", 5_000, 5_000),
    ]
    spanish = world.report(locale="es").experiences
    assert {e.experience_id for e in spanish} == {world.cacao.id, world.guayusa.id}
    assert all(e.title.startswith("Ruta de prueba") for e in spanish)


def test_revenue_per_beneficiary_type(world):
    report = world.report()
    assert cents(report.beneficiaries) == {
        # card: half of 48.00 each after the refund; cash: 25.00
        "family": 2_400 + 2_500,
        "guide": 960 + 1_000,
        # the refund's fee part (2.00) and the lost dispute's fee (2.00) come from the fund
        "association_fund": 720 - 200 + 750 - 200,
        "conservation_fund": 240 + 250,
        "platform": 480 + 500,
        "processor_fees": 400 + 200,
    }
    assert sum(cents(report.beneficiaries).values()) == report.net_cents == 10_000
    assert report.families_cents == 4_900
    assert report.fees_cents == 980 + 600
    assert report.conservation_cents == 490
    shares = {s.group: s.percent for s in report.beneficiaries}
    assert shares["family"] == Decimal("49.0")


def test_every_month_and_type_match_the_ledger_balances(world):
    """Over all time, what the report says each type earned is minus its balance."""
    report = world.report(Period(date(2024, 12, 1), date(2025, 3, 1)))
    balances = ledger.balances(world.session, association=world.association)
    by_kind: dict[str, int] = {}
    for account, balance in balances.items():
        by_kind[str(account.kind)] = by_kind.get(str(account.kind), 0) - balance
    for share in report.beneficiaries:
        assert share.cents == by_kind.get(share.group, 0), share.group


def test_women_and_under_30_shares(world):
    report = world.report()
    assert cents(report.families) == {
        "female": 1_800,
        "male": 2_500,
        "other": 0,
        "not_recorded": 600,
        "unassigned": 0,
    }
    assert report.women_cents == 1_800
    percents = {s.group: s.percent for s in report.families}
    assert percents["female"] == Decimal("36.7")  # 1,800 of 4,900
    assert percents["not_recorded"] == Decimal("12.2")
    assert cents(report.guides) == {
        "under_30": 960,
        "30_or_over": 0,
        "not_recorded": 1_000,
        "unassigned": 0,
    }
    assert report.under_30_cents == 960
    assert {s.group: s.percent for s in report.guides}["under_30"] == Decimal("49.0")


def test_unassigned_pools_are_shown_as_such(world, make, session):
    departure = make.departure(world.guayusa, starts_at=utc(2025, 1, 25, 14))  # no guide
    with write_transactions():
        world.pay(world.booking(departure, 1), utc(2025, 1, 25, 16), provider="cash")
        session.commit()
    assert cents(world.report().guides)["unassigned"] == 1_000


# Visitors ------------------------------------------------------------------------------------


def test_visitors_count_people_of_confirmed_bookings_on_departures_that_ran(world, make, session):
    world.booking(world.january, 4, status=BookingStatus.CANCELLED)
    world.booking(world.february, 3, no_show_at=utc(2025, 2, 10, 15))
    called_off = make.departure(world.guayusa, starts_at=utc(2025, 2, 20, 14))
    called_off.status = DepartureStatus.CANCELLED
    world.booking(called_off, 2)
    world.booking(make.departure(world.guayusa, starts_at=NOW + timedelta(hours=1)), 5)
    session.commit()
    visitors = {v.month: (v.bookings, v.visitors) for v in world.report().visitors}
    assert visitors == {"2025-01": (2, 3), "2025-02": (1, 1), "2025-03": (0, 0)}
    later = world.report(now=NOW + timedelta(days=1)).visitors
    assert later[-1].visitors == 5


# Tenancy and emptiness -------------------------------------------------------------------------


def test_another_association_sees_nothing_of_it(world, session):
    report = reports.revenue_report(session, world.other, Q1, "en", NOW)
    assert report.is_empty
    assert report.experiences == []
    assert all(s.cents == 0 and s.percent is None for s in report.beneficiaries)
    assert all(s.percent is None for s in report.families + report.guides)
    assert [(v.bookings, v.visitors) for v in report.visitors] == [(0, 0)] * 3
    assert not world.report().is_empty


def test_adjustments_move_money_between_beneficiaries_in_the_report(session, make):
    """A fee learned after posting and the guides' pool handed to the guides re-share money
    already in: the report follows them and still adds up to the net."""
    from datetime import timedelta

    from sqlalchemy import delete

    from tests.factories import SPLIT_PARTS
    from tourism.database import utcnow, write_transactions
    from tourism.models import DepartureGuide, Payment, PaymentStatus, Role
    from tourism.services.ledger import adjustments as postings_later
    from tourism.services.ledger import postings, split_rules
    from tourism.services.operations import checkin
    from tourism.services.reports import periods
    from tourism.services.reports import revenue as reports
    from tourism.timefmt import local_today

    with write_transactions():
        now = utcnow().replace(microsecond=0)
        association = make.association()
        experience = make.experience(association)
        stop = make.stop(experience, family=make.family(association))
        admin = make.user(password="", memberships=[(association, Role.ADMIN)])
        earlier = now - timedelta(days=2)
        rule = split_rules.approve_rule(session, experience, SPLIT_PARTS, admin, earlier, earlier)
        departure = make.departure(experience, starts_at=now - timedelta(minutes=1))
        booking = make.booking(departure, quantities={"adult": 2})
        booking.split_rule = rule
        session.execute(delete(DepartureGuide).where(DepartureGuide.departure_id == departure.id))
        payment = Payment(
            booking=booking,
            provider="stripe",
            provider_ref="pi_report_adjust",
            charge_ref="ch_report_adjust",
            amount_cents=booking.total_cents,
            fee_cents=None,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=now,
        )
        session.add(payment)
        session.flush()
        postings.post_payment(session, payment)
        payment.fee_cents = 291
        postings_later.post_fee(session, payment)
        guide = make.guide(association)
        make.assign(departure, guide)
        checkin.confirm_stop_visited(session, departure, stop, guide, now)

        period = periods.default_period(local_today())
        shares = reports.revenue_by_beneficiary(session, association, period)
        by_type = {share.group: share.cents for share in shares}
        assert by_type["processor_fees"] == 291
        assert sum(by_type.values()) == booking.total_cents
        guides = {s.group: s.cents for s in reports.guides_by_age(session, association, period)}
        assert guides["unassigned"] == 0  # the pool went to the guide who ran the departure
        assert sum(guides.values()) > 0
