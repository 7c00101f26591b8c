"""The money breakdown in the confirmation email, and the impact receipt after the visit:
its families and amounts, once per booking, only for visits that happened and ended."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.models import (
    BookingStatus,
    DepartureStatus,
    Notification,
    Role,
    StopVisit,
)
from tourism.services.ledger import postings, split_rules
from tourism.services.ledger.splits import Member, Party, split_payment
from tourism.services.messages import impact
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import MemoryMailer

PUBLIC_URL = "https://chakra.example"
AFTER, WITHIN = timedelta(hours=12), timedelta(days=7)


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


class Route:
    """An experience ($45 adult) with four stops hosted by four families and a rule in force
    since last month; departures ending when a test says."""

    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        self.experience = make.experience(payment_options="card,on_arrival")
        association = self.experience.association
        names = ("Familia Grefa", "Familia Tapuy", "Familia Cerda", "Familia Andi")
        self.families = [make.family(association, name=name) for name in names]
        self.stops = [make.stop(self.experience, family=f) for f in self.families]
        admin = make.user(password="", memberships=[(association, Role.ADMIN)])
        earlier = utcnow() - timedelta(days=30)
        self.rule = split_rules.approve_rule(
            session, self.experience, SPLIT_PARTS, admin, earlier, earlier
        )
        self.guide = make.guide(association)

    def departure(self, ended_ago=timedelta(days=1), **kw):
        duration = timedelta(minutes=self.experience.duration_minutes)
        starts_at = utcnow().replace(microsecond=0) - ended_ago - duration
        departure = self.make.departure(self.experience, starts_at=starts_at, **kw)
        self.make.assign(departure, self.guide)
        return departure

    def booking(self, departure=None, **kw):
        kw.setdefault("language", "en")
        kw.setdefault("split_rule", self.rule)
        return self.make.booking(departure or self.departure(), **kw)

    def pay_by_card(self, booking, fee):
        payment = self.make.card_payment(booking, fee_cents=fee)
        postings.post_payment(self.session, payment)
        return payment

    def visit(self, departure, *stops):
        for stop in stops:
            self.session.add(StopVisit(departure_id=departure.id, stop_id=stop.id))
        self.session.flush()


@pytest.fixture
def route(app, session, make) -> Route:
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return Route(session, make)


def _send(session, kind, booking) -> tuple[email.message.EmailMessage, str, str]:
    assert notifications.queue(session, booking, kind) is not None
    session.commit()
    mailer = MemoryMailer()
    sent = notifications.deliver_pending(session, mailer)
    assert sent == 1, session.scalars(select(Notification.last_error)).all()
    [message] = mailer.outbox
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return message, text, html


# --- The confirmation email --------------------------------------------------------------


def test_the_confirmation_repeats_where_the_money_goes(route, session):
    booking = route.booking(route.departure(ended_ago=-timedelta(days=5)))
    _message, text, html = _send(session, "confirmed", booking)
    for body in (text, html):
        assert "Where your money goes" in body
        assert "Of your $45.00:" in body
        for sentence in (
            "$21.00 to 4 host families",
            "$11.40 to your guide(s)",
            "$6.30 to the community fund",
            "$2.10 to the conservation fund",
            "$4.20 platform commission",
        ):
            assert sentence in body


def test_the_confirmation_is_in_the_bookings_language(route, session):
    booking = route.booking(route.departure(ended_ago=-timedelta(days=5)), language="es")
    message, text, html = _send(session, "confirmed", booking)
    assert message["Content-Language"] == "es"
    for body in (text, html):
        for amount in ("$45,00", "$21,00", "$11,40", "$6,30", "$2,10", "$4,20"):
            assert amount in body


def test_a_confirmation_without_a_rule_says_nothing_about_shares(route, session):
    booking = route.booking(route.departure(ended_ago=-timedelta(days=5)), split_rule=None)
    _message, text, html = _send(session, "confirmed", booking)
    assert "Where your money goes" not in text and "Where your money goes" not in html
    assert "host families" not in text


# --- The impact receipt ------------------------------------------------------------------


def test_the_receipt_names_the_families_the_guide_confirmed_and_the_ledgers_amounts(route, session):
    departure = route.departure()
    booking = route.booking(departure, quantities={"adult": 2})
    route.pay_by_card(booking, fee=291)
    route.visit(departure, route.stops[0], route.stops[2])

    message, text, html = _send(session, notifications.IMPACT, booking)
    assert message["Subject"].startswith("Thank you for visiting")
    split = split_payment(
        9000,
        291,
        2,
        split_rules.to_split_rule(route.rule),
        families=split_rules.family_members(route.rule, route.stops),
        guides=[Member(route.guide.id)],
    )
    for body in (text, html):
        assert "Familia Grefa" in body and "Familia Cerda" in body
        assert "Familia Tapuy" not in body and "Familia Andi" not in body
        assert "The families who hosted you" in body
        assert "Of the $90.00 of your booking:" in body
        assert f"${split.party_total(Party.FAMILIES) / 100:.2f} to 4 host families" in body
        assert f"${split.party_total(Party.GUIDES) / 100:.2f} to your guide(s)" in body
        assert f"${split.party_total(Party.PLATFORM) / 100:.2f} platform commission" in body
        assert "$2.91 payment processing" in body
        assert "(estimated)" not in body
        assert "accounts record for your booking" in body
    assert f"{PUBLIC_URL}/experiences/{route.experience.slug}" in html
    for wrong in ("None", "{{", "{%", "%("):
        assert wrong not in text and wrong not in html


def test_the_receipt_counts_what_the_ledger_kept_after_a_partial_refund(route, session):
    from tourism.models import Refund, RefundStatus

    booking = route.booking(route.departure())
    payment = route.pay_by_card(booking, fee=0)
    refund = Refund(
        payment=payment,
        provider_ref="re_1",
        amount_cents=1000,
        reason="requested_by_customer",
        status=RefundStatus.SUCCEEDED,
    )
    session.add(refund)
    session.flush()
    postings.post_refund(session, refund)
    receipt = impact.impact_receipt(session, booking)
    assert receipt.from_ledger
    assert sum(line.cents for line in receipt.breakdown.lines) == 3500


def test_without_confirmed_stops_every_host_family_is_named(route, session):
    booking = route.booking(route.departure())
    receipt = impact.impact_receipt(session, booking)
    assert receipt.families == tuple(f.name for f in route.families)
    assert not receipt.confirmed_by_guide
    # Nothing posted (cash not recorded): the amounts follow the booking's rule.
    assert not receipt.from_ledger
    by_kind = {line.kind: line.cents for line in receipt.breakdown.lines}
    assert by_kind == {
        "families": 2100,
        "guides": 1140,
        "association_fund": 630,
        "conservation_fund": 210,
        "platform": 420,
    }


def test_the_receipt_is_in_the_bookings_language(route, session):
    booking = route.booking(route.departure(), language="es")
    message, text, html = _send(session, notifications.IMPACT, booking)
    assert message["Content-Language"] == "es"
    assert '<html lang="es"' in html
    for amount in ("$45,00", "$21,00", "$11,40"):
        assert amount in text and amount in html


def test_receipts_are_queued_once_and_only_for_visits_that_happened_and_ended(route, session):
    ended = route.departure()
    came = route.booking(ended, contact_email="came@example.org")
    for status in (
        BookingStatus.CANCELLED,
        BookingStatus.REFUNDED,
        BookingStatus.HELD,
        BookingStatus.EXPIRED,
    ):
        route.booking(ended, status=status, contact_email=f"{status.value}@example.org")
    route.booking(ended, no_show_at=utcnow(), contact_email="no-show@example.org")
    route.booking(route.departure(ended_ago=timedelta(hours=2)), contact_email="late@x.org")
    route.booking(route.departure(ended_ago=-timedelta(days=2)), contact_email="future@x.org")
    route.booking(route.departure(ended_ago=timedelta(days=30)), contact_email="old@x.org")
    route.booking(
        route.departure(ended_ago=timedelta(days=2), status=DepartureStatus.CANCELLED),
        contact_email="called-off@x.org",
    )

    now = utcnow()
    assert notifications.queue_impact_receipts(session, now, AFTER, WITHIN) == 1
    assert notifications.queue_impact_receipts(session, now, AFTER, WITHIN) == 0
    rows = session.scalars(select(Notification)).all()
    assert [(n.key, n.recipient) for n in rows] == [
        (f"booking:{came.id}:impact", "came@example.org")
    ]


def test_the_command_sends_each_receipt_once(route, session, runner, app, tmp_path):
    outbox = tmp_path / "outbox"
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox))
    booking = route.booking(route.departure(), contact_email="visitor@example.org")
    route.booking(route.departure(ended_ago=timedelta(hours=1)))
    session.commit()

    first = runner.invoke(args=["send-impact-receipts"])
    assert first.exit_code == 0, first.output
    assert "Queued 1 impact receipt(s); sent 1 email(s)." in first.output
    [path] = sorted(Path(outbox).glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "visitor@example.org"

    again = runner.invoke(args=["send-impact-receipts"])
    assert "Queued 0 impact receipt(s); sent 0 email(s)." in again.output
    assert len(list(Path(outbox).glob("*.eml"))) == 1

    wider = runner.invoke(args=["send-impact-receipts", "--after-hours", "0"])
    assert "Queued 1 impact receipt(s); sent 1 email(s)." in wider.output
    keys = set(session.scalars(select(Notification.key)))
    assert f"booking:{booking.id}:impact" in keys
