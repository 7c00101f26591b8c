"""The audit log: sign-ins (failed ones too), refused access, refunds, payouts, split rules and
cancelled departures are recorded with actor, UTC time and address; events about refused
requests survive the request's rollback; rows can never be changed or deleted."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, SPLIT_PARTS
from tests.routes import test_manage_access as shared
from tests.services.payments import test_online as paying
from tests.services.treasury.test_payouts import Books
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import AuditEvent, AuditLogIsAppendOnly, Role
from tourism.services.access import audit
from tourism.services.ledger import split_rules
from tourism.services.payments import intents, refunds
from tourism.services.treasury import payouts

app, kallari, make, winak = shared.app, shared.kallari, shared.make, shared.winak
pay_app, held_booking, pay = paying.pay_app, paying.held_booking, paying.pay


def events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def test_a_failed_sign_in_is_logged_although_the_request_rolls_back(client, make, kallari):
    user = shared.member(make, kallari, Role.STAFF, email="ana@kallari.example")
    user.password_hash = None
    db.session.commit()
    response = client.post(
        "/login",
        data={"email": "Ana@Kallari.example", "password": "wrong password"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 400
    [event] = events(audit.LOGIN_FAILED)
    assert event.actor == "ana@kallari.example" and event.actor_id is None
    assert event.ip == "198.51.100.7"
    assert event.at.tzinfo == UTC and abs(event.at - utcnow()) < timedelta(minutes=1)
    assert "wrong password" not in (event.detail + event.target + event.actor)


def test_a_sign_in_and_a_sign_out_are_logged(client, make, kallari):
    user = make.user(email="rosa@kallari.example", memberships=[(kallari, Role.STAFF)])
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303)
    [event] = events(audit.LOGIN_SUCCEEDED)
    assert event.actor_id == user.id and event.actor == user.email
    client.post("/logout")
    assert [e.actor_id for e in events(audit.LOGOUT)] == [user.id]


def test_another_associations_object_is_not_found_and_the_attempt_logged(
    client, make, kallari, winak
):
    staff = shared.member(make, kallari, Role.STAFF)
    theirs = make.experience(winak)
    db.session.commit()
    shared.login(client, staff)
    assert client.get(f"/manage/experiences/{theirs.id}/edit").status_code == 404
    [event] = events(audit.ACCESS_DENIED)
    assert event.actor_id == staff.id
    assert event.target == f"experiences:{theirs.id}"
    assert event.association_id == winak.id


def test_a_page_outside_the_users_role_is_logged(client, make, kallari):
    guide = shared.member(make, kallari, Role.GUIDE)
    db.session.commit()
    shared.login(client, guide)
    assert client.get("/manage/").status_code == 404
    [event] = events(audit.ACCESS_DENIED)
    assert event.actor_id == guide.id and event.target == "GET /manage/"


def test_a_missing_object_is_not_an_access_attempt(client, make, kallari):
    shared.login(client, shared.member(make, kallari, Role.STAFF))
    assert client.get("/manage/experiences/999999/edit").status_code == 404
    assert events(audit.ACCESS_DENIED) == []


def test_refunds_and_cancelled_departures_are_logged(pay_app, gateway):
    from tests.factories import Factories

    make = Factories(db.session)
    booking = held_booking(make)
    pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    refunds.cancel_departure(db.session, booking.departure, "Río crecido", gateway, utcnow())
    [cancelled] = events(audit.DEPARTURE_CANCELLED)
    assert cancelled.actor == audit.SYSTEM and cancelled.detail == "Río crecido"
    [refund] = events(audit.REFUND_REQUESTED)
    assert refund.target == f"booking:{booking.reference}"
    assert str(booking.total_cents) in refund.detail


def test_payouts_and_split_rules_are_logged(app, make, kallari):
    with write_transactions():
        admin = make.user(memberships=[(kallari, Role.ADMIN)])
        experience = make.experience(kallari)
        now = utcnow()
        rule = split_rules.approve_rule(db.session, experience, SPLIT_PARTS, admin, now, now)
        [approved] = events(audit.SPLIT_RULE_APPROVED)
        assert approved.actor_id == admin.id and f"version {rule.version}" in approved.detail

        family = make.family(kallari)
        with pytest.raises(payouts.AmountAboveAvailable):
            payouts.record_payout(db.session, kallari, family, 100, "cash", "", admin, now)
        assert events(audit.PAYOUT_RECORDED) == []  # a refused payout leaves no event

        books = Books(db.session, make)
        books.earn(books.families[0], 2_500, released=True)
        payout = payouts.record_payout(
            db.session, books.association, books.families[0], 2_000, "cash", "R-1", books.admin, now
        )
        [recorded] = events(audit.PAYOUT_RECORDED)
        assert recorded.actor_id == books.admin.id and recorded.target == f"payout:{payout.id}"
        assert recorded.association_id == books.association.id and "2000 cents" in recorded.detail


def test_the_audit_log_is_append_only(app):
    with write_transactions():
        event = audit.record(db.session, audit.LOGOUT, actor="someone@example.org")
        db.session.commit()
        event.detail = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event.id))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
