"""Withdrawn and changed quotes, pay on arrival and a bank transfer paid back, through the
pages: the association withdraws or changes a quote and the requester sees the current one
(a stale page's answer is refused with 409 and changes nothing); a quote may offer pay on
arrival, which confirms the booking at once; the treasurer sees what is owed back of a
cancelled transfer and records its refund. Bad input: a translated message, the right status,
nothing changed; another association: 404."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_group_quotes import ask, quote_form
from tests.routes.test_manage_access import EN, ES, login, member
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    ExperienceStatus,
    GroupMessage,
    GroupQuote,
    LedgerEntry,
    Notification,
    QuoteStatus,
    Refund,
    RefundStatus,
    Role,
)
from tourism.services.ledger import checks
from tourism.services.payments import refunds
from tourism.timefmt import local_today

app, kallari, make, winak = shared.app, shared.kallari, shared.make, shared.winak


@pytest.fixture
def experience(make, kallari):
    experience = make.experience(
        kallari, status=ExperienceStatus.PUBLISHED, payment_options="card,on_arrival"
    )
    db.session.commit()
    return experience


@pytest.fixture
def admin(make, client, kallari):
    user = member(make, kallari, Role.ADMIN)
    login(client, user)
    return user


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def quoted(client, experience, language="en", **changes):
    request = ask(client, experience, language=language)
    sent = client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form(**changes))
    assert sent.status_code == 303
    return request, db.session.scalars(select(GroupQuote).order_by(GroupQuote.id.desc())).first()


def test_a_withdrawn_quote_cannot_be_accepted(client, admin, experience):
    request, quote = quoted(client, experience, language="es")
    withdrawn = client.post(f"/manage/group-requests/{request.id}/quotes/{quote.id}/withdraw")
    assert withdrawn.status_code == 303
    db.session.expire_all()
    quote = db.session.get(GroupQuote, quote.id)
    assert quote.status == QuoteStatus.WITHDRAWN
    assert quote.departure.status == DepartureStatus.CANCELLED
    kinds = db.session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["group_quote", "group_quote_withdrawn"]
    [note] = db.session.scalars(select(GroupMessage)).all()
    assert "Retiramos nuestra cotización" in note.body  # in the request's language

    page = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert "The association withdrew this quote" in page and "Accept and pay" not in page
    late = client.post(
        f"/group-requests/{request.token}/accept",
        data={"payment_method": "bank_transfer", "quote_id": str(quote.id)},
        headers=EN,
    )
    assert late.status_code == 409
    assert "The association withdrew this quote" in late.get_data(as_text=True)
    assert count(Booking) == 0
    again = client.post(f"/manage/group-requests/{request.id}/quotes/{quote.id}/withdraw")
    assert again.status_code == 409
    staff = client.get(f"/manage/group-requests/{request.id}", headers=EN)
    assert staff.status_code == 200 and "Withdrawn on" in staff.get_data(as_text=True)
    assert "Send a quote" in staff.get_data(as_text=True)  # the request stays open


def test_staff_say_why_they_withdraw(client, admin, experience):
    request, quote = quoted(client, experience, language="es")
    url = f"/manage/group-requests/{request.id}/quotes/{quote.id}/withdraw"
    page = client.get(f"/manage/group-requests/{request.id}", headers=EN).get_data(as_text=True)
    assert 'name="reason"' in page and url in page

    too_long = client.post(url, data={"reason": "x" * 100_000}, headers=EN)
    assert too_long.status_code == 400
    assert "Field cannot be longer than" in too_long.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(GroupQuote, quote.id).status == QuoteStatus.OFFERED
    assert count(GroupMessage) == 0

    withdrawn = client.post(url, data={"reason": "  El guía se enfermó.  "})
    assert withdrawn.status_code == 303
    db.session.expire_all()
    assert db.session.get(GroupQuote, quote.id).status == QuoteStatus.WITHDRAWN
    bodies = db.session.scalars(select(GroupMessage.body).order_by(GroupMessage.id)).all()
    assert len(bodies) == 2 and bodies[1] == "El guía se enfermó."
    thread = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert "El guía se enfermó." in thread


def test_a_changed_quote_replaces_the_old_one(client, admin, experience):
    request, old = quoted(client, experience)
    changed = client.post(
        f"/manage/group-requests/{request.id}/quotes/{old.id}/change",
        data=quote_form(amount="30", group_size="10"),
    )
    assert changed.status_code == 303
    db.session.expire_all()
    new = db.session.scalars(select(GroupQuote).order_by(GroupQuote.id.desc())).first()
    assert new.replaces_id == old.id and new.total_cents == 30_000 and new.group_size == 10
    assert db.session.get(GroupQuote, old.id).status == QuoteStatus.SUPERSEDED
    assert "group_quote_changed" in db.session.scalars(select(Notification.kind)).all()

    page = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert "$300.00" in page and f'name="quote_id" type="hidden" value="{new.id}"' in page
    assert "this one replaces the earlier one" in page
    # The staff changing the old one again (a page left open) are told in their own words.
    again = client.post(
        f"/manage/group-requests/{request.id}/quotes/{old.id}/change",
        data=quote_form(amount="31", group_size="10"),
        headers=EN,
    )
    assert again.status_code == 409
    assert "This quote was changed since" in again.get_data(as_text=True)
    # Accepting from a page still showing the old quote: refused, nothing booked.
    stale = client.post(
        f"/group-requests/{request.token}/accept",
        data={"payment_method": "bank_transfer", "quote_id": str(old.id)},
        headers=EN,
    )
    assert stale.status_code == 409
    assert "only its latest version may be accepted" in stale.get_data(as_text=True)
    assert count(Booking) == 0
    accepted = client.post(
        f"/group-requests/{request.token}/accept",
        data={"payment_method": "bank_transfer", "quote_id": str(new.id)},
    )
    assert accepted.status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    assert booking.total_cents == 30_000 and booking.participants == 10
    staff = client.get(f"/manage/group-requests/{request.id}", headers=EN).get_data(as_text=True)
    assert "Earlier quotes" in staff and "Withdraw the quote" not in staff

    # Accepted: neither changed nor withdrawn any more.
    refused = client.post(
        f"/manage/group-requests/{request.id}/quotes/{new.id}/change",
        data=quote_form(amount="1"),
        headers=ES,
    )
    assert refused.status_code == 409
    assert "El grupo aceptó esta cotización" in refused.get_data(as_text=True)
    gone = client.post(f"/manage/group-requests/{request.id}/quotes/{new.id}/withdraw")
    assert gone.status_code == 409
    assert count(GroupQuote) == 2 and db.session.get(GroupQuote, new.id).total_cents == 30_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "treinta"}, "Escribe un monto como 25 o 25.50."),
        ({"group_size": "0"}, "Indica un número de personas de 1 a 200."),
        ({"group_size": "doce"}, None),
        # Past what a float holds: WTForms' own range check answered 500.
        ({"group_size": "9" * 400}, "Indica un número de personas de 1 a 200."),
        ({"day": "2020-01-01"}, "Elige un día y una hora por venir."),
    ],
)
def test_a_bad_change_is_explained_and_changes_nothing(client, admin, experience, changes, message):
    request, quote = quoted(client, experience)
    response = client.post(
        f"/manage/group-requests/{request.id}/quotes/{quote.id}/change",
        data=quote_form(**changes),
        headers=ES,
    )
    assert response.status_code == 400
    if message:
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert count(GroupQuote) == 1
    assert db.session.get(GroupQuote, quote.id).status == QuoteStatus.OFFERED


def test_pay_on_arrival_offered_on_the_quote_confirms_the_booking(client, admin, experience):
    request, quote = quoted(client, experience, pay_on_arrival="y")
    assert quote.pay_on_arrival
    page = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert 'value="on_arrival"' in page
    accepted = client.post(
        f"/group-requests/{request.token}/accept",
        data={"payment_method": "on_arrival", "quote_id": str(quote.id)},
    )
    assert accepted.status_code == 303
    assert accepted.headers["Location"].endswith(f"/group-requests/{request.token}")
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_method == "on_arrival"
    assert booking.due_on_arrival_cents == 42_600
    thread = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert "pay $426.00 on arrival" in thread
    staff = client.get(f"/manage/group-requests/{request.id}", headers=EN).get_data(as_text=True)
    assert "The group may pay on arrival." in staff and "Confirmed" in staff


def test_pay_on_arrival_is_refused_where_the_experience_does_not_take_it(
    client, admin, make, kallari
):
    card_only = make.experience(kallari, status=ExperienceStatus.PUBLISHED, payment_options="card")
    db.session.commit()
    request = ask(client, card_only)
    response = client.post(
        f"/manage/group-requests/{request.id}/quote",
        data=quote_form(pay_on_arrival="y"),
        headers=ES,
    )
    assert response.status_code == 400
    assert "no acepta el pago al llegar" in response.get_data(as_text=True)
    assert count(GroupQuote) == 0


def _paid_by_transfer_then_cancelled(client, experience, language="en"):
    request, quote = quoted(client, experience, language=language)
    client.post(f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"})
    assert client.post(f"/manage/group-requests/{request.id}/transfer-received").status_code == 303
    db.session.commit()
    with write_transactions():
        booking = db.session.scalars(select(Booking)).one()
        refunds.cancel_departure(db.session, booking.departure, "river flooded", None, utcnow())
        db.session.commit()
    return request, booking


def refund_form(**changes) -> dict:
    return {"amount": "426.00", "paid_on": local_today().isoformat(), "reference": "TRX-7"} | (
        changes
    )


def test_the_treasurer_records_a_transfer_paid_back(client, admin, experience):
    request, booking = _paid_by_transfer_then_cancelled(client, experience)
    page = client.get(f"/manage/group-requests/{request.id}", headers=EN).get_data(as_text=True)
    assert "Owed back to the group: $426.00" in page
    too_much = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund",
        data=refund_form(amount="426.01"),
        headers=ES,
    )
    assert too_much.status_code == 400
    assert "Eso es más de lo pagado y aún no devuelto" in too_much.get_data(as_text=True)
    assert db.session.scalars(select(Refund.status)).all() == [RefundStatus.PENDING]
    recorded = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund", data=refund_form()
    )
    assert recorded.status_code == 303
    db.session.expire_all()
    refund = db.session.scalars(select(Refund)).one()
    assert refund.status == RefundStatus.SUCCEEDED and refund.bank_reference == "TRX-7"
    assert db.session.get(Booking, booking.id).status == BookingStatus.REFUNDED
    assert checks.check(db.session) == []
    page = client.get(f"/manage/group-requests/{request.id}", headers=EN).get_data(as_text=True)
    assert "paid back by bank transfer" in page and "Record the refund" not in page


def test_the_group_is_told_of_the_transfer_paid_back_in_its_language(
    client, admin, experience, tmp_path
):
    outbox = tmp_path / "outbox"
    client.application.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox))
    request, booking = _paid_by_transfer_then_cancelled(client, experience, language="es")
    response = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund",
        data=refund_form(amount="100.00"),
        headers=EN,  # the treasurer reads English; the group asked in Spanish
    )
    assert response.status_code == 303
    db.session.expire_all()
    [email] = db.session.scalars(
        select(Notification).where(Notification.kind == "group_transfer_refunded")
    ).all()
    assert email.language == "es" and email.recipient == request.email and email.sent_at
    messages = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]
    [message] = [m for m in messages if "transferencia de tu grupo" in m["Subject"]]
    text = message.get_body(("plain",)).get_content()
    assert "$100,00" in text and "TRX-7" in text and f"/group-requests/{request.token}" in text
    note = db.session.scalars(select(GroupMessage).order_by(GroupMessage.id.desc())).first()
    assert note.body == "Te devolvimos $100,00 por transferencia bancaria (referencia: TRX-7)."
    # What is still owed stays owed, and the group is told once per refund recorded.
    assert "Owed back to the group: $326.00" in client.get(
        f"/manage/group-requests/{request.id}", headers=EN
    ).get_data(as_text=True)


def test_a_transfer_refund_sent_twice_is_recorded_once_and_told_once(
    client, admin, experience, tmp_path
):
    """The treasurer pays part of the transfer back and the form goes twice (a double click
    on a slow answer): what is still owed would allow a second refund, but the same amount,
    day and bank reference is the same transfer, recorded once, told to the group once."""
    client.application.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path))
    request, _booking = _paid_by_transfer_then_cancelled(client, experience)
    url = f"/manage/group-requests/{request.id}/transfer-refund"
    first = client.post(url, data=refund_form(amount="100.00"), headers=EN)
    db.session.expire_all()
    ledger_before = db.session.scalar(select(func.count(LedgerEntry.id)))
    second = client.post(url, data=refund_form(amount="100.00"), headers=ES)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    page = client.get(second.headers["Location"], headers=ES).get_data(as_text=True)
    assert "Esta devolución ya estaba registrada" in page
    db.session.expire_all()
    assert sorted(r.amount_cents for r in db.session.scalars(select(Refund))) == [10_000, 32_600]
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == ledger_before
    told = select(func.count(Notification.id)).where(Notification.kind == "group_transfer_refunded")
    assert db.session.scalar(told) == 1
    assert checks.check(db.session) == []
    # Another transfer (its own reference) of the same amount the same day is recorded.
    assert client.post(url, data=refund_form(amount="100.00", reference="TRX-8")).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(told) == 2


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": "cuatro"},
        {"amount": "0"},
        {"paid_on": ""},
        {"paid_on": "in two days"},
        {"paid_on": "0001-01-01"},
        {"paid_on": "before it arrived"},
        {"reference": ""},
    ],
)
def test_a_bad_refund_is_refused_and_changes_nothing(client, admin, experience, changes):
    request, _booking = _paid_by_transfer_then_cancelled(client, experience)
    if changes.get("paid_on") == "in two days":
        changes["paid_on"] = (local_today() + timedelta(days=2)).isoformat()
    if changes.get("paid_on") == "before it arrived":  # the transfer arrived today
        changes["paid_on"] = (local_today() - timedelta(days=1)).isoformat()
    response = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund", data=refund_form(**changes)
    )
    assert response.status_code == 400
    assert db.session.scalars(select(Refund.status)).all() == [RefundStatus.PENDING]
    assert checks.check(db.session) == []


def test_another_association_cannot_change_withdraw_or_refund(client, make, kallari, winak):
    theirs = make.experience(
        winak, status=ExperienceStatus.PUBLISHED, payment_options="card,on_arrival"
    )
    db.session.commit()
    login(client, member(make, winak, Role.ADMIN))
    request, quote = quoted(client, theirs)
    login(client, member(make, kallari, Role.ADMIN))
    base = f"/manage/group-requests/{request.id}"
    assert client.post(f"{base}/quotes/{quote.id}/withdraw").status_code == 404
    assert client.post(f"{base}/quotes/{quote.id}/change", data=quote_form()).status_code == 404
    assert client.post(f"{base}/transfer-refund", data=refund_form()).status_code == 404
    db.session.expire_all()
    assert db.session.get(GroupQuote, quote.id).status == QuoteStatus.OFFERED
    assert count(GroupQuote) == 1 and count(Refund) == 0


def test_a_quote_of_another_request_is_not_found(client, admin, experience):
    mine, _ = quoted(client, experience)
    client.post(f"/manage/group-requests/{mine.id}/close")
    other, quote = quoted(client, experience, day=(local_today() + timedelta(days=21)).isoformat())
    response = client.post(f"/manage/group-requests/{mine.id}/quotes/{quote.id}/withdraw")
    assert response.status_code == 404
    assert db.session.get(GroupQuote, quote.id).status == QuoteStatus.OFFERED


def test_staff_may_withdraw_but_only_an_admin_records_a_refund(client, make, kallari, experience):
    login(client, member(make, kallari, Role.ADMIN))
    request, _booking = _paid_by_transfer_then_cancelled(client, experience)
    login(client, member(make, kallari, Role.STAFF))
    response = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund", data=refund_form()
    )
    assert response.status_code in (403, 404)
    assert db.session.scalars(select(Refund.status)).all() == [RefundStatus.PENDING]


def test_a_refund_before_the_transfer_arrived_says_so(client, admin, experience):
    request, _quote = quoted(client, experience)
    client.post(f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"})
    refused = client.post(
        f"/manage/group-requests/{request.id}/transfer-refund", data=refund_form(), headers=EN
    )
    assert refused.status_code == 409
    assert "transfer has not been marked as received" in refused.get_data(as_text=True)
    assert db.session.scalars(select(Refund)).all() == []
