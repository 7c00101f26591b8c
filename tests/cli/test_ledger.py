"""The ledger's commands: releasing shares of departures that ran, backfilling old payments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.models import LedgerTransaction, Role, TransactionKind
from tourism.services.ledger import checks, split_rules
from tourism.services.operations import checkin


def _count(session, kind) -> int:
    return session.scalar(
        select(func.count(LedgerTransaction.id)).where(LedgerTransaction.kind == kind)
    )


def _paid_booking(session, make, starts_at):
    association = make.association()
    experience = make.experience(association)
    stop = make.stop(experience, family=make.family(association))
    admin = make.user(password="", memberships=[(association, Role.ADMIN)])
    earlier = utcnow() - timedelta(days=1)
    rule = split_rules.approve_rule(session, experience, SPLIT_PARTS, admin, earlier, earlier)
    departure = make.departure(experience, starts_at=starts_at)
    guide = make.guide(association)
    make.assign(departure, guide)
    booking = make.booking(departure)
    booking.split_rule = rule
    make.card_payment(booking, fee_cents=161)
    return departure, stop, guide


def test_ledger_backfill_posts_what_is_missing_once(runner, session, make):
    _paid_booking(session, make, utcnow() + timedelta(days=2))
    session.commit()
    assert checks.check(session)  # a succeeded payment without its split
    result = runner.invoke(args=["ledger-backfill"])
    assert result.exit_code == 0, result.output
    assert "Posted 1 payment(s)" in result.output
    session.expire_all()
    assert checks.check(session) == []
    again = runner.invoke(args=["ledger-backfill"])
    assert "Posted 0 payment(s)" in again.output
    assert _count(session, TransactionKind.PAYMENT) == 1


def test_release_shares_releases_stops_confirmed_before_the_start(runner, session, make):
    starts_at = utcnow() - timedelta(minutes=5)
    departure, stop, guide = _paid_booking(session, make, starts_at)
    runner.invoke(args=["ledger-backfill"])
    session.expire_all()
    # Confirmed ten minutes before the start: nothing could be released then.
    with write_transactions():
        checkin.confirm_stop_visited(
            session, departure, stop, guide, starts_at - timedelta(minutes=10)
        )
        session.commit()
    assert _count(session, TransactionKind.RELEASE) == 0

    result = runner.invoke(args=["release-shares"])
    assert result.exit_code == 0, result.output
    assert "Looked at 1 departure(s)" in result.output
    assert "Looked at 0 route booking(s) started" in result.output  # route extras: the same run
    assert "Looked at 0 route booking(s) with nights" in result.output  # and route nights
    session.expire_all()
    assert _count(session, TransactionKind.RELEASE) == 2
    runner.invoke(args=["release-shares"])
    session.expire_all()
    assert _count(session, TransactionKind.RELEASE) == 2
    assert checks.check(session) == []
