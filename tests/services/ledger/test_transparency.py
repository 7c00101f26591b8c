"""Where the money goes: the breakdown shown to tourists is the ledger's split, its lines add
up to the total to the cent, nothing is shown without a rule, and a booking keeps the rule it
was sold under; the experience page and the booking step show it in Spanish and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import SPLIT_PARTS
from tests.services.booking.test_lifecycle import hold
from tourism.database import utcnow, write_transactions
from tourism.models import Booking, BookingStatus, Payment, PaymentStatus, Role, SplitRule
from tourism.services.ledger import split_rules, transparency
from tourism.services.ledger.splits import Member, Party, split_payment
from tourism.services.ledger.transparency import FeeEstimate, PlannedPayment

FEES = FeeEstimate(290, 30)


@pytest.fixture(autouse=True)
def write_mode():
    """Holding seats locks the departure: SQLite transactions must take the write lock."""
    with write_transactions():
        yield


ON_ARRIVAL, CARD, DEPOSIT = "on_arrival", "card", "deposit"


def _rule(parts=SPLIT_PARTS) -> SplitRule:
    """A stored rule's shape without a database (``compute_breakdown`` reads only its parts)."""
    return SplitRule(parts=[dict({"cents_per_participant": 0}, **p) for p in parts])


# --- The fee estimate and the pure computation --------------------------------------------


def test_the_card_fee_estimate_is_2_9_percent_plus_30_cents_rounded_and_capped():
    assert FEES.fee(4500) == 131 + 30  # 130.5 rounds half up
    assert FEES.fee(10_000) == 290 + 30
    assert FEES.fee(0) == 0
    assert FEES.fee(20) == 20  # never more than the payment
    assert FeeEstimate.from_config({}) == FeeEstimate(290, 30)
    assert FeeEstimate.from_config({"CARD_FEE_BASIS_POINTS": 350}).basis_points == 350


def test_one_ticket_paid_on_arrival_is_the_ledgers_split_to_the_cent():
    families = [Member(1), Member(2), Member(3), Member(4)]
    breakdown = transparency.compute_breakdown([PlannedPayment(4500)], 1, _rule(), families)
    # $3 per visitor to the guides first, then 50/20/15/5/10 % of the remaining $42.
    assert [(line.kind, line.cents) for line in breakdown.lines] == [
        ("families", 2100),
        ("guides", 840 + 300),
        ("association_fund", 630),
        ("conservation_fund", 210),
        ("platform", 420),
    ]
    assert breakdown.lines[0].count == 4
    assert breakdown.total_cents == 4500


def test_a_card_payment_shows_its_fee_as_its_own_line_and_the_rest_is_split_after_it():
    rule = _rule()
    fee = FEES.fee(4500)
    breakdown = transparency.compute_breakdown(
        [PlannedPayment(4500, fee, estimated=True)], 1, rule, [Member(7)]
    )
    split = split_payment(4500, fee, 1, split_rules.to_split_rule(rule), families=[Member(7)])
    by_kind = {line.kind: line for line in breakdown.lines}
    assert by_kind["processing"].cents == fee and by_kind["processing"].estimated
    for party in Party:
        assert by_kind[party.value].cents == split.party_total(party)
    assert sum(line.cents for line in breakdown.lines) == 4500


def test_lines_of_zero_are_left_out():
    parts = [
        {"party": "families", "basis_points": 8_000},
        {"party": "platform", "basis_points": 2_000},
    ]
    breakdown = transparency.compute_breakdown([PlannedPayment(1000)], 1, _rule(parts), [])
    assert [line.kind for line in breakdown.lines] == ["families", "platform"]
    assert breakdown.lines[0].count == 0


@st.composite
def rules(draw):
    parties = draw(st.lists(st.sampled_from(list(Party)), min_size=1, max_size=5, unique=True))
    cuts = sorted(
        draw(st.lists(st.integers(0, 10_000), min_size=len(parties) - 1, max_size=len(parties) - 1))
    )
    points = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
    fixed = draw(st.lists(st.integers(0, 2_000), min_size=len(parties), max_size=len(parties)))
    return _rule(
        [
            {"party": party.value, "basis_points": bp, "cents_per_participant": cents}
            for party, bp, cents in zip(parties, points, fixed, strict=True)
        ]
    )


@settings(max_examples=300, deadline=None)
@given(
    rule=rules(),
    unit=st.integers(0, 500_000),
    participants=st.integers(1, 12),
    method=st.sampled_from([ON_ARRIVAL, CARD, DEPOSIT]),
    deposit=st.integers(1, 100),
    fees=st.builds(FeeEstimate, st.integers(0, 1_000), st.integers(0, 100)),
    families=st.lists(st.integers(1, 6), max_size=6),
)
def test_the_lines_always_add_up_to_the_total_exactly(
    rule, unit, participants, method, deposit, fees, families
):
    total = unit * participants
    planned = transparency.plan_payments(total, method, deposit, fees)
    assert sum(p.gross_cents for p in planned) == total
    members = [Member(i) for i in families]
    breakdown = transparency.compute_breakdown(planned, participants, rule, members)
    assert breakdown.total_cents == total
    assert sum(line.cents for line in breakdown.lines) == total
    assert all(line.cents > 0 for line in breakdown.lines)
    processing = sum(line.cents for line in breakdown.lines if line.kind == "processing")
    assert processing == sum(p.fee_cents for p in planned)
    if method == ON_ARRIVAL:
        assert processing == 0
    if method == CARD:
        assert processing == fees.fee(total)


# --- Quotes and bookings against the database ----------------------------------------------


@pytest.fixture
def route(make):
    """An experience ($45 adult, $25 child) with four hosting families and a fifth stop
    without one, its admin, and a departure in five days."""
    experience = make.experience(payment_options="on_arrival")
    association = experience.association
    families = [
        make.family(association, name=f"Familia {n}") for n in ("Grefa", "Tapuy", "Cerda", "Andi")
    ]
    for family in families:
        make.stop(experience, family=family)
    make.stop(experience)
    admin = make.user(password="", memberships=[(association, Role.ADMIN)])
    departure = make.departure(experience)
    return experience, families, admin, departure


def _approve(session, experience, admin, parts=SPLIT_PARTS, starts=timedelta(0)):
    now = utcnow()
    return split_rules.approve_rule(session, experience, parts, admin, now + starts, now)


def _adult(experience):
    return next(pc for pc in experience.price_categories if pc.code == "adult")


def test_no_rule_in_force_means_no_breakdown(session, route):
    experience, _families, admin, _departure = route
    now = utcnow()
    adult = {_adult(experience).id: 1}
    assert transparency.quote(session, experience, adult, now, ON_ARRIVAL, FEES) is None
    _approve(session, experience, admin, starts=timedelta(days=1))
    assert transparency.quote(session, experience, adult, now, ON_ARRIVAL, FEES) is None
    later = now + timedelta(days=2)
    assert transparency.quote(session, experience, adult, later, ON_ARRIVAL, FEES) is not None


def test_a_quote_counts_the_host_families_and_says_it_in_words(app, session, route):
    experience, _families, admin, _departure = route
    _approve(session, experience, admin)
    breakdown = transparency.quote_one_ticket(session, experience, utcnow(), ON_ARRIVAL, FEES)
    with force_locale("en"):
        assert breakdown.sentences() == [
            "$21.00 to 4 host families",
            "$11.40 to your guide(s)",
            "$6.30 to the community fund",
            "$2.10 to the conservation fund",
            "$4.20 platform commission",
        ]


def test_a_card_quote_estimates_the_fee_and_the_deposit_pays_it_on_the_deposit_only(
    app, session, route
):
    experience, _families, admin, _departure = route
    _approve(session, experience, admin)
    adult = {_adult(experience).id: 2}
    card = transparency.quote(session, experience, adult, utcnow(), CARD, FEES)
    deposit = transparency.quote(session, experience, adult, utcnow(), DEPOSIT, FEES)
    fee = {line.kind: line.cents for line in card.lines}["processing"]
    assert fee == FEES.fee(9000)
    assert {line.kind: line.cents for line in deposit.lines}["processing"] == FEES.fee(2700)
    with force_locale("en"):
        assert card.sentences()[-1] == "$2.91 payment processing (estimated)"


def test_a_booking_keeps_the_rule_it_was_sold_under(app, session, route):
    experience, _families, admin, departure = route
    _approve(session, experience, admin)
    booking = hold(session, departure, adult=1)
    with write_transactions():
        newer = _approve(
            session,
            experience,
            admin,
            parts=[
                {"party": "families", "basis_points": 9_000},
                {"party": "platform", "basis_points": 1_000},
            ],
            starts=timedelta(seconds=1),
        )
    later = utcnow() + timedelta(seconds=5)
    assert split_rules.rule_in_force(session, experience, later) == newer

    sold = transparency.booking_breakdown(session, booking, FEES)
    assert {line.kind: line.cents for line in sold.lines}["families"] == 2100
    assert "guides" in {line.kind for line in sold.lines}
    now_quote = transparency.quote_one_ticket(session, experience, later, ON_ARRIVAL, FEES)
    assert [(line.kind, line.cents) for line in now_quote.lines] == [
        ("families", 4050),
        ("platform", 450),
    ]


def test_a_booking_sold_before_any_rule_has_no_breakdown(session, route):
    experience, _families, admin, departure = route
    booking = hold(session, departure, adult=1)
    with write_transactions():
        _approve(session, experience, admin)
    assert booking.split_rule_id is None
    assert transparency.booking_breakdown(session, booking, FEES) is None


def test_a_held_card_booking_shows_the_estimated_fee_until_the_real_one_is_known(
    session, make, route
):
    experience, _families, admin, departure = route
    rule = _approve(session, experience, admin)
    booking = make.booking(departure, quantities={"adult": 2}, payment_method=CARD, split_rule=rule)
    booking.status, booking.online_due_cents = BookingStatus.HELD, 9000
    held = transparency.booking_breakdown(session, booking, FEES)
    line = {line.kind: line for line in held.lines}["processing"]
    assert (line.cents, line.estimated) == (FEES.fee(9000), True)

    booking.status = BookingStatus.CONFIRMED
    session.add(
        Payment(
            booking=booking,
            provider="stripe",
            amount_cents=9000,
            fee_cents=287,
            status=PaymentStatus.SUCCEEDED,
        )
    )
    session.flush()
    session.refresh(booking)
    paid = transparency.booking_breakdown(session, booking, FEES)
    line = {line.kind: line for line in paid.lines}["processing"]
    assert (line.cents, line.estimated) == (287, False)
    assert sum(line.cents for line in paid.lines) == 9000


# --- Pages -------------------------------------------------------------------------------


def test_the_experience_page_shows_where_one_adult_ticket_goes(client, session, route):
    experience, _families, admin, _departure = route
    _approve(session, experience, admin)
    html = client.get(f"/experiences/{experience.slug}?lang=en").get_data(as_text=True)
    assert "Where your money goes" in html
    assert "Of your $45.00 for one ticket (Adult):" in html
    for sentence in (
        "$21.00 to 4 host families",
        "$11.40 to your guide(s)",
        "$6.30 to the community fund",
        "$2.10 to the conservation fund",
        "$4.20 platform commission",
    ):
        assert sentence in html
    assert "payment processing" not in html  # paid in cash on arrival: no processor

    spanish = client.get(f"/experiences/{experience.slug}?lang=es").get_data(as_text=True)
    for amount in ("$45,00", "$21,00", "$11,40", "$6,30", "$2,10", "$4,20"):
        assert amount in spanish
    assert spanish.count('class="breakdown"') == 1


def test_the_experience_page_shows_nothing_without_a_rule(client, route):
    experience = route[0]
    html = client.get(f"/experiences/{experience.slug}?lang=en").get_data(as_text=True)
    assert "Where your money goes" not in html
    assert 'class="breakdown"' not in html


def test_the_booking_step_recalculates_for_the_chosen_tickets(client, session, route):
    experience, _families, admin, departure = route
    _approve(session, experience, admin)
    adult = _adult(experience)
    child = next(pc for pc in experience.price_categories if pc.code == "child")
    url = f"/departures/{departure.id}/book?lang=en"

    first = client.get(url).get_data(as_text=True)
    assert "Of your $45.00 for one ticket (Adult):" in first

    response = client.post(
        url, data={f"qty_{adult.id}": "2", f"qty_{child.id}": "1", "recalculate": "1"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # $115 for 3 visitors: $9 to the guides first, then the shares of $106.
    assert "Of your $115.00:" in html
    for sentence in (
        "$53.00 to 4 host families",
        "$30.20 to your guide(s)",
        "$15.90 to the community fund",
        "$5.30 to the conservation fund",
        "$10.60 platform commission",
    ):
        assert sentence in html
    assert "field-error" not in html and 'aria-invalid="true"' not in html
    assert session.query(Booking).count() == 0  # recalculating holds nothing

    spanish = client.post(
        f"/departures/{departure.id}/book?lang=es",
        data={f"qty_{adult.id}": "2", f"qty_{child.id}": "1", "recalculate": "1"},
    ).get_data(as_text=True)
    for amount in ("$115,00", "$53,00", "$30,20", "$15,90", "$5,30", "$10,60"):
        assert amount in spanish


def test_a_refused_booking_form_shows_the_breakdown_of_what_was_chosen(client, session, route):
    experience, _families, admin, departure = route
    _approve(session, experience, admin)
    adult = _adult(experience)
    response = client.post(
        f"/departures/{departure.id}/book?lang=en", data={f"qty_{adult.id}": "2", "name": ""}
    )
    assert response.status_code == 400
    assert "Of your $90.00:" in response.get_data(as_text=True)


def test_the_booking_page_shows_the_rule_it_was_sold_under(client, session, route):
    experience, _families, admin, departure = route
    _approve(session, experience, admin)
    booking = hold(session, departure, adult=1)
    with write_transactions():
        _approve(
            session,
            experience,
            admin,
            parts=[
                {"party": "families", "basis_points": 9_000},
                {"party": "platform", "basis_points": 1_000},
            ],
            starts=timedelta(seconds=1),
        )
    session.commit()
    html = client.get(f"/bookings/{booking.manage_token}?lang=en").get_data(as_text=True)
    assert "$21.00 to 4 host families" in html
    assert "$11.40 to your guide(s)" in html
