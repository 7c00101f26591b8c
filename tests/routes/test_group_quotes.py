"""Group quotes through the pages: the association quotes, the requester sees it in the
request's language and accepts (card: the booking's card page; bank transfer: the treasurer
marks it received) or declines; bad input is explained with the right status and changes
nothing; another association cannot quote or mark a transfer."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES, login, member
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    ExperienceStatus,
    GroupQuote,
    GroupRequest,
    GroupRequestStatus,
    Notification,
    Payment,
    QuoteStatus,
    Role,
)
from tourism.services.ledger import checks
from tourism.timefmt import local_today

app, kallari, make, winak = shared.app, shared.kallari, shared.make, shared.winak


@pytest.fixture
def experience(make, kallari):
    experience = make.experience(
        kallari, status=ExperienceStatus.PUBLISHED, payment_options="card,on_arrival"
    )
    db.session.commit()
    return experience


def ask(client, experience, language="en") -> GroupRequest:
    first = local_today() + timedelta(days=20)
    client.post(
        f"/experiences/{experience.slug}/group-request",
        data={
            "requester_kind": "school",
            "group_size": "12",
            "date_from": first.isoformat(),
            "date_to": "",
            "language": language,
            "needs": "",
            "name": "Unidad Educativa Tena",
            "email": "profe@example.org",
            "phone": "",
        },
    )
    return db.session.scalars(select(GroupRequest).order_by(GroupRequest.id.desc())).first()


def quote_form(**changes) -> dict:
    day = local_today() + timedelta(days=20)
    data = {
        "pricing": "per_person",
        "amount": "35.50",
        "day": day.isoformat(),
        "start": "09:00",
        "valid_until": (local_today() + timedelta(days=5)).isoformat(),
    }
    return data | changes


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def admin(make, client, kallari):
    user = member(make, kallari, Role.ADMIN)
    login(client, user)
    return user


def test_a_quote_accepted_by_transfer_and_marked_received(client, admin, experience):
    request = ask(client, experience)
    sent = client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    assert sent.status_code == 303
    quote = db.session.scalars(select(GroupQuote)).one()
    assert quote.total_cents == 12 * 3550
    assert db.session.scalars(select(Notification.kind)).all() == ["group_quote"]

    # The requester reads it in their browser's language, as every page.
    page = client.get(f"/group-requests/{request.token}", headers=EN)
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "The association's quote" in html and "$426.00" in html
    # Without a card processor configured, a bank transfer is the one way to pay.
    assert 'value="bank_transfer"' in html
    assert 'value="card"' not in html and 'value="on_arrival"' not in html

    accepted = client.post(
        f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"}
    )
    assert accepted.status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.HELD and booking.total_cents == 42_600
    declined = client.post(f"/group-requests/{request.token}/decline", headers=EN)
    assert declined.status_code == 409
    assert "This quote was already answered." in declined.get_data(as_text=True)

    for _ in range(2):  # marking twice records one payment
        marked = client.post(f"/manage/group-requests/{request.id}/transfer-received")
        assert marked.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert count(Payment) == 1
    # An ordinary booking: its private page shows it paid, nothing due on arrival.
    assert client.get(f"/bookings/{booking.manage_token}", headers=ES).status_code == 200
    assert db.session.get(Booking, booking.id).due_on_arrival_cents == 0
    thread = client.get(f"/group-requests/{request.token}", headers=EN).get_data(as_text=True)
    assert "your booking is confirmed" in thread
    staff_page = client.get(f"/manage/group-requests/{request.id}", headers=ES)
    html = staff_page.get_data(as_text=True)
    assert f"Reserva {booking.reference}: Confirmada." in html
    assert "Transferencia bancaria recibida el" in html


def test_accepting_by_card_goes_to_the_bookings_card_page(
    make_app, stripe_settings, gateway, tmp_path
):
    card_app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "mail"), **stripe_settings
    )
    with card_app.app_context():
        make = Factories(db.session)
        association = make.association()
        experience = make.experience(association, payment_options="card")
        user = member(make, association, Role.STAFF)
        db.session.commit()
        client = card_app.test_client()
        login(client, user)
        request = ask(client, experience)
        client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
        accepted = client.post(
            f"/group-requests/{request.token}/accept", data={"payment_method": "card"}
        )
        booking = db.session.scalars(select(Booking)).one()
        assert accepted.status_code == 303
        assert accepted.headers["Location"].endswith(f"/bookings/{booking.manage_token}/pay")
        assert booking.online_due_cents == 42_600
        page = client.get(f"/bookings/{booking.manage_token}/pay")
        assert page.status_code == 200
        payment = db.session.scalars(select(Payment)).one()
        assert payment.amount_cents == 42_600 and payment.provider_ref.startswith("pi_")
        gateway.confirm_intent(payment.provider_ref, "pm_card_visa")  # what Stripe.js does
        client.get(f"/bookings/{booking.manage_token}/processing")
        db.session.expire_all()
        assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
        assert checks.check(db.session) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "treinta"}, "Escribe un monto como 25 o 25.50."),
        ({"amount": "0"}, "Indica un precio mayor que cero."),
        ({"pricing": "per_day"}, "Opción inválida."),
        ({"day": "2020-01-01"}, "Elige un día y una hora por venir."),
        # After the visit (20 days from now), though within the five years a date may be.
        (
            {"valid_until": (date.today() + timedelta(days=30)).isoformat()},
            "La cotización debe valer desde hoy",
        ),
        ({"start": "nueve"}, "No es un tiempo válido."),
        ({"valid_until": "9999-12-31"}, "Elige una fecha dentro de los próximos cinco años."),
        ({"day": "9999-12-31"}, "Elige una fecha dentro de los próximos cinco años."),
    ],
)
def test_bad_quotes_are_explained_in_spanish_and_nothing_is_written(
    client, admin, experience, changes, message
):
    request = ask(client, experience)
    response = client.post(
        f"/manage/group-requests/{request.id}/quote", data=quote_form(**changes), headers=ES
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(GroupQuote) == 0 and count(Notification) == 0


def test_an_expired_quote_answers_409_in_the_requesters_language(client, admin, experience):
    request = ask(client, experience, language="es")
    client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    quote = db.session.scalars(select(GroupQuote)).one()
    quote.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(
        f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"}
    )
    assert response.status_code == 409
    assert "Esta cotización ha caducado" in response.get_data(as_text=True)
    assert count(Booking) == 0
    again = client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    assert again.status_code == 303  # the association may quote anew


def test_declining_closes_the_request(client, admin, experience):
    request = ask(client, experience)
    client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    assert client.post(f"/group-requests/{request.token}/decline").status_code == 303
    db.session.expire_all()
    assert db.session.get(GroupRequest, request.id).status == GroupRequestStatus.CLOSED
    assert db.session.scalars(select(GroupQuote.status)).one() == QuoteStatus.DECLINED
    late = client.post(
        f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"}
    )
    assert late.status_code == 409 and count(Booking) == 0
    bad = client.post(f"/group-requests/{request.token}/accept", data={"payment_method": "cash"})
    assert bad.status_code in (400, 409) and count(Booking) == 0


def test_a_request_without_a_quote_has_nothing_to_accept(client, experience):
    request = ask(client, experience)
    assert client.post(f"/group-requests/{request.token}/decline").status_code == 404
    assert client.post("/group-requests/" + "x" * 43 + "/accept").status_code == 404


def test_another_association_cannot_quote_or_mark_a_transfer(client, make, kallari, winak):
    theirs = make.experience(winak, status=ExperienceStatus.PUBLISHED)
    db.session.commit()
    request = ask(client, theirs)
    login(client, member(make, kallari, Role.ADMIN))
    assert client.get(f"/manage/group-requests/{request.id}").status_code == 404
    quoted = client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    assert quoted.status_code == 404
    marked = client.post(f"/manage/group-requests/{request.id}/transfer-received")
    assert marked.status_code == 404
    assert count(GroupQuote) == 0 and count(Payment) == 0


def test_staff_may_quote_but_only_an_admin_marks_a_transfer(client, make, kallari, experience):
    login(client, member(make, kallari, Role.STAFF))
    request = ask(client, experience)
    client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    client.post(f"/group-requests/{request.token}/accept", data={"payment_method": "bank_transfer"})
    marked = client.post(f"/manage/group-requests/{request.id}/transfer-received")
    assert marked.status_code in (403, 404)
    assert count(Payment) == 0


def test_a_refused_answer_to_a_quote_says_why(client, admin, experience):
    request = ask(client, experience, language="es")
    client.post(f"/manage/group-requests/{request.id}/quote", data=quote_form())
    quote = db.session.scalars(select(GroupQuote)).one()
    accept, decline = (
        f"/group-requests/{request.token}/{answer}" for answer in ("accept", "decline")
    )
    for url, data, message in (
        (accept, {"quote_id": quote.id, "payment_method": "bank_transfer_x"}, "Pago: "),
        (accept, {"quote_id": "abc", "payment_method": "on_arrival"}, "no es una de las"),
        (decline, {"quote_id": "abc"}, "no es una de las"),
    ):
        refused = client.post(url, data=data, headers=ES)
        assert refused.status_code == 400, data
        html = refused.get_data(as_text=True)
        assert 'role="alert"' in html and message in html, data
    db.session.expire_all()
    assert quote.status == QuoteStatus.OFFERED and count(Booking) == 0
