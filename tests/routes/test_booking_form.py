"""The booking form as a visitor meets it: the total before committing (without a script,
and kept current by one), every problem shown at once next to its field, consent for
special needs, and the plural of the seats left."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.extensions import db
from tourism.models import Booking

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def app(make_app, stripe_settings):
    """Card payments on (through the emulator), so card and deposit are offered; the quote
    itself never calls Stripe."""
    app = make_app(**stripe_settings)
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def departure(make):
    experience = make.experience(
        prices={"adult": 4500, "child": 2500},
        payment_options="card,deposit,on_arrival",
        deposit_percent=30,
    )
    return make.departure(experience, capacity=6)


def ids(departure) -> tuple[int, int]:
    adult, child = departure.experience.price_categories
    return adult.id, child.id


def form(departure, **changes) -> dict:
    adult, child = ids(departure)
    data = {
        f"qty_{adult}": "2",
        f"qty_{child}": "1",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "en",
        "special_needs": "",
        "payment_method": "on_arrival",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def bookings(session) -> int:
    return session.scalar(select(func.count(Booking.id)))


def quote_lines(html: str) -> dict[str, str]:
    section = html[html.index('id="quote"') :]
    section = section[: section.index("</section>")]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", section))


def test_the_empty_form_shows_a_total_and_what_is_due_now_and_on_arrival(client, departure):
    html = client.get(f"/departures/{departure.id}/book", headers=EN).get_data(as_text=True)
    assert quote_lines(html) == {
        "Total": "$0.00",
        "To pay now, online by card": "$0.00",
        "To pay on arrival, in cash": "$0.00",
    }
    assert 'name="quoted" type="hidden" value="0:0"' in html
    assert "js/booking-total." in html  # the script that keeps it current


@pytest.mark.parametrize(
    ("headers", "labels"),
    [
        (
            {"Accept-Language": "en"},
            [
                "Pay everything now by card",
                "Pay a 30% deposit now by card, the rest in cash on arrival",
                "Pay on arrival, in cash, to the community",
            ],
        ),
        (
            {"Accept-Language": "es"},
            ["Anticipo del 30% ahora con tarjeta, el resto en efectivo al llegar"],
        ),
    ],
)
def test_each_payment_method_is_labelled_in_the_visitors_language(
    client, departure, headers, labels
):
    html = client.get(f"/departures/{departure.id}/book", headers=headers).get_data(as_text=True)
    for label in labels:
        assert label in html


@pytest.mark.parametrize(
    ("method", "now", "arrival"),
    [
        ("on_arrival", "$0.00", "$115.00"),
        ("deposit", "$34.50", "$80.50"),
        ("card", "$115.00", "$0.00"),
    ],
)
def test_update_the_total_without_a_script(client, session, departure, method, now, arrival):
    response = client.post(
        f"/departures/{departure.id}/book",
        data=form(departure, payment_method=method, recalculate="1"),
        headers=EN,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert quote_lines(html) == {
        "Total": "$115.00",
        "To pay now, online by card": now,
        "To pay on arrival, in cash": arrival,
    }
    assert bookings(session) == 0


def test_a_total_the_page_did_not_show_is_shown_before_anything_is_booked(
    client, session, departure
):
    """No script ran: the page showed $0.00 (its "quoted" field says 0:0), the visitor chose
    tickets and pressed Reserve. They see the total first; nothing is held."""
    response = client.post(
        f"/departures/{departure.id}/book", data=form(departure, quoted="0:0"), headers=EN
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please check your total before booking" in html
    assert quote_lines(html)["To pay on arrival, in cash"] == "$115.00"
    assert 'name="quoted" type="hidden" value="11500:0"' in html
    assert bookings(session) == 0
    # Pressing Reserve again, with the total now seen, books.
    again = client.post(
        f"/departures/{departure.id}/book", data=form(departure, quoted="11500:0"), headers=EN
    )
    assert again.status_code == 303
    assert bookings(session) == 1


def test_changing_the_payment_method_changes_the_quote_to_check(client, session, departure):
    response = client.post(
        f"/departures/{departure.id}/book",
        data=form(departure, quoted="11500:0", payment_method="deposit"),
        headers=EN,
    )
    assert response.status_code == 200
    assert "Please check your total" in response.get_data(as_text=True)
    assert bookings(session) == 0


def test_a_request_without_the_quote_field_is_not_a_page_and_books(client, session, departure):
    """Scripts and tests that post the form without the page's hidden field book at once; a
    browser always sends it."""
    response = client.post(f"/departures/{departure.id}/book", data=form(departure), headers=EN)
    assert response.status_code == 303
    assert bookings(session) == 1


def test_the_form_takes_the_addresses_the_booking_takes(client, session, departure):
    """The form checks the email by the service's rule: an address pasted with spaces around
    it is booked, trimmed and normalised, not refused by the form alone."""
    data = form(departure, email="  Ana.Quispe@Example.ORG ")
    response = client.post(f"/departures/{departure.id}/book", data=data, headers=EN)
    assert response.status_code == 303
    assert session.scalar(select(Booking.contact_email)) == "Ana.Quispe@example.org"


def test_every_problem_is_shown_at_once_each_by_its_field(client, session, departure):
    adult, child = ids(departure)
    response = client.post(
        f"/departures/{departure.id}/book",
        data=form(
            departure,
            **{f"qty_{adult}": "0", f"qty_{child}": "0"},
            name="",
            email="not-an-email",
            phone="call me",
            special_needs="Diabetes",
        ),
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert "5 things to correct" in summary
    for field_id, text in (
        (f"qty_{adult}", "Choose at least one ticket."),
        ("name", "Full name: This field is required."),
        ("email", "Please give a valid email address."),
        ("phone", "Please give a phone number we can call"),
        ("special_needs_consent", "agree that the association may use them"),
    ):
        assert f'href="#{field_id}"' in summary, field_id
        assert text in summary, text
    # And each message sits by its field, tied to it for screen readers.
    for field_id in ("name", "email", "phone", "special_needs_consent"):
        assert f'id="{field_id}-error"' in html, field_id
        control = re.search(rf'<(?:input|textarea)[^>]*\bid="{field_id}"[^>]*>', html)[0]
        assert 'aria-invalid="true"' in control, control
    assert 'id="tickets-error"' in html
    assert "novalidate" in html  # the browser's one-at-a-time bubbles are off
    assert bookings(session) == 0


@pytest.mark.parametrize("country", ["ZZ", "ec", "", "Ecuador"])
def test_a_country_not_in_the_list_is_refused_by_its_field(client, session, departure, country):
    response = client.post(
        f"/departures/{departure.id}/book", data=form(departure, country=country), headers=EN
    )
    assert response.status_code == 400
    summary = response.get_data(as_text=True)
    summary = summary[summary.index('id="error-summary"') :]
    assert 'href="#country"' in summary[: summary.index("</div>")]
    assert bookings(session) == 0
    accepted = client.post(
        f"/departures/{departure.id}/book", data=form(departure, country="PE"), headers=EN
    )
    assert accepted.status_code == 303
    assert session.scalars(select(Booking)).one().country == "PE"


def test_special_needs_need_consent_which_the_booking_records(client, session, departure):
    refused = client.post(
        f"/departures/{departure.id}/book",
        data=form(departure, special_needs="Vegetarian, asthma"),
        headers=EN,
    )
    assert refused.status_code == 400
    assert bookings(session) == 0
    accepted = client.post(
        f"/departures/{departure.id}/book",
        data=form(departure, special_needs="Vegetarian, asthma", special_needs_consent="y"),
        headers=EN,
    )
    assert accepted.status_code == 303
    booking = session.scalars(select(Booking)).one()
    assert booking.special_needs == "Vegetarian, asthma"
    assert booking.special_needs_consent_at is not None
    # No needs, no consent to record.
    client.post(f"/departures/{departure.id}/book", data=form(departure), headers=EN)
    plain = session.scalars(select(Booking).where(Booking.special_needs == "")).one()
    assert plain.special_needs_consent_at is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(EN, "Sorry, only 1 seat is left on this departure."), (ES, "solo queda 1 cupo")],
)
def test_one_seat_left_is_said_in_the_singular(client, session, make, headers, expected):
    departure = make.departure(capacity=3)
    make.booking(departure, quantities={"adult": 2})
    adult, child = departure.experience.price_categories
    data = form(departure, **{f"qty_{adult.id}": "2", f"qty_{child.id}": "0"})
    response = client.post(f"/departures/{departure.id}/book", data=data, headers=headers)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert expected in html
    assert "1 seats" not in html and "1 cupos" not in html
    assert bookings(session) == 1


def test_a_price_changed_after_the_page_was_shown_is_never_booked_at_the_old_price(
    client, session, departure
):
    """The form's POST reads the prices afresh: the association raised the adult price after
    the visitor saw 11500:0, so they are shown the new total, and the booking they then make
    is written at the new price."""
    adult_id, _child_id = ids(departure)
    adult = next(pc for pc in departure.experience.price_categories if pc.id == adult_id)
    adult.price_cents = 5000
    session.commit()
    response = client.post(
        f"/departures/{departure.id}/book", data=form(departure, quoted="11500:0"), headers=EN
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please check your total before booking" in html
    assert 'name="quoted" type="hidden" value="12500:0"' in html
    assert bookings(session) == 0
    again = client.post(
        f"/departures/{departure.id}/book", data=form(departure, quoted="12500:0"), headers=EN
    )
    assert again.status_code == 303
    booking = session.scalars(select(Booking)).one()
    assert booking.total_cents == 12500
    assert {line.unit_price_cents for line in booking.lines} == {5000, 2500}
