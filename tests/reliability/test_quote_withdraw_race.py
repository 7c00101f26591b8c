"""The association withdraws a quote at the moment the group accepts it: one of the two wins,
never both. Withdrawing locks the private departure before reading the quote again, and
accepting claims its seats under the same lock, so either the acceptance committed first
(the withdrawal is a 409) or the withdrawal did (the acceptance finds the departure cancelled
or the quote withdrawn: 409). Never a booking holding seats on a cancelled departure."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from tests.reliability.test_quote_race import _quoted_request
from tests.routes.test_manage_access import login
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    GroupQuote,
    GroupRequest,
    Role,
)
from tourism.services.groups import quote_changes

ROUNDS = 8

pytestmark = pytest.mark.slow


def _round(app, make) -> tuple[Counter, bool]:
    token = _quoted_request(make)
    request = db.session.scalars(select(GroupRequest).where(GroupRequest.token == token)).one()
    quote = db.session.scalars(select(GroupQuote).where(GroupQuote.request_id == request.id)).one()
    staff = app.test_client()
    login(staff, make.user(password="", memberships=[(request.experience.association, Role.STAFF)]))
    group = app.test_client()
    withdraw_url = f"/manage/group-requests/{request.id}/quotes/{quote.id}/withdraw"
    quote_id = quote.id
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def accept() -> None:
        barrier.wait()
        response = group.post(
            f"/group-requests/{token}/accept", data={"payment_method": "bank_transfer"}
        )
        statuses["accept"] = response.status_code

    def withdraw() -> None:
        barrier.wait()
        response = staff.post(withdraw_url)
        statuses["withdraw"] = response.status_code

    threads = [threading.Thread(target=accept), threading.Thread(target=withdraw)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    db.session.rollback()  # read after the race
    departure = db.session.get(GroupQuote, quote_id).departure
    db.session.refresh(departure)
    holding = db.session.scalars(
        select(Booking).where(
            Booking.departure_id == departure.id,
            Booking.status.in_((BookingStatus.HELD, BookingStatus.CONFIRMED)),
        )
    ).all()
    both = bool(holding) and departure.status == DepartureStatus.CANCELLED
    return Counter(statuses.values()), both


def _postgres_only() -> None:
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises whole write transactions: the race cannot happen")


def _late(monkeypatch, locked: bool) -> None:
    """Widen the race the same way in the test and its control: the withdrawal waits a
    moment after its first check (the acceptance takes the lock meanwhile), then locks and
    reads again (``locked``) or goes on with what it read (the control)."""
    original = quote_changes.lock_for_change

    def late(session, quote, now):
        threading.Event().wait(0.2)
        if locked:
            original(session, quote, now)

    monkeypatch.setattr(quote_changes, "lock_for_change", late)


def test_a_withdrawal_and_an_acceptance_never_both_win(app, make, monkeypatch):
    _postgres_only()
    _late(monkeypatch, locked=True)
    for _ in range(ROUNDS):
        counted, both = _round(app, make)
        assert not both
        assert counted == Counter({303: 1, 409: 1}), counted


def test_negative_control_without_the_lock_both_win(app, make, monkeypatch):
    """Without the lock and the fresh read, the withdrawal goes on with the quote it read as
    still offered, and cancels the departure under the booking it did not see."""
    _postgres_only()
    _late(monkeypatch, locked=False)
    wins = sum(_round(app, make)[1] for _ in range(ROUNDS))
    assert wins > 0
