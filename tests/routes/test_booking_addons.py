"""Extras and homestay nights chosen on a single experience's booking form: held with the
seats, in the total and its breakdown, shown on the booking's page; bad input gets a
translated message and writes nothing; an extra is never sold beyond its stock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import SPLIT_PARTS
from tests.routes.test_bookings import EN, ES, bookings, form_for
from tourism.models import Booking, BookingStatus, Role, SplitRule
from tourism.services.ledger import split_rules


@pytest.fixture
def shop(make, session):
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    association = experience.association
    family = make.family(association, name="Familia Shiguango")
    stop = make.stop(experience, family=family)
    admin = make.user(password="", memberships=[(association, Role.ADMIN)])
    from tourism.database import utcnow

    earlier = utcnow().replace(microsecond=0)
    from datetime import timedelta

    split_rules.approve_rule(
        session,
        experience,
        SPLIT_PARTS,
        admin,
        earlier - timedelta(days=1),
        earlier - timedelta(days=1),
        stop_weights={stop.id: 1},
    )
    lunch = make.route_extra(association, price=750, family=family, name_en="Chakra lunch")
    box = make.route_extra(association, price=1200, stock=2, name_en="Chocolate box")
    experience.extras = [lunch, box]
    homestay = make.homestay(family, capacity=4, price=2500, name="Casa Shiguango")
    departure = make.departure(experience, capacity=6)
    session.commit()
    return dict(departure=departure, lunch=lunch, box=box, homestay=homestay)


def test_the_form_offers_the_extras_and_nights(client, shop):
    html = client.get(f"/departures/{shop['departure'].id}/book", headers=EN).get_data(as_text=True)
    assert "Chakra lunch" in html and "Chocolate box" in html
    assert "Casa Shiguango" in html and "The night before" in html
    assert f'name="extra_{shop["lunch"].id}"' in html


def test_book_with_extras_and_a_night(client, session, shop):
    departure = shop["departure"]
    data = form_for(departure) | {
        f"extra_{shop['lunch'].id}": "3",
        f"extra_{shop['box'].id}": "0",
        "night_after": str(shop["homestay"].id),
    }
    response = client.post(f"/departures/{departure.id}/book", data=data)
    assert response.status_code == 303
    booking = session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.CONFIRMED
    tickets = 2 * 4500 + 2500
    assert booking.total_cents == tickets + 3 * 750 + 3 * 2500
    assert [(e.extra_id, e.quantity) for e in booking.extras] == [(shop["lunch"].id, 3)]
    assert [(n.homestay_id, n.people) for n in booking.nights] == [(shop["homestay"].id, 3)]
    page = client.get(f"/bookings/{booking.manage_token}", headers=EN).get_data(as_text=True)
    assert "Chakra lunch" in page and "Night at Casa Shiguango" in page
    assert "$97.50 to who provides your extras and homestay nights" in page
    assert "$212.50" in page


def test_a_quote_the_page_did_not_show_is_shown_again(client, session, shop):
    departure = shop["departure"]
    data = form_for(departure, quoted="11500:0") | {f"extra_{shop['lunch'].id}": "1"}
    response = client.post(f"/departures/{departure.id}/book", data=data, headers=EN)
    assert response.status_code == 200
    assert "$122.50" in response.get_data(as_text=True)
    assert bookings(session) == 0


@pytest.mark.parametrize(
    "change, status, english, spanish",
    [
        ({"extra_lunch": "two"}, 400, "Extras must be whole numbers", "Los extras"),
        ({"extra_999999": "1"}, 400, "not offered on this experience", "no se ofrece"),
        ({"extra_abc": "1"}, 400, "Some of the information you sent is not valid", "no es válida"),
        ({"night_before": "999999"}, 400, "does not take guests with", "no recibe huéspedes con"),
        ({"night_after": "casa"}, 400, "does not take guests with", "no recibe huéspedes con"),
        ({"extra_box": "3"}, 409, "Sorry, only 2 of", "solo quedan 2"),
    ],
)
def test_bad_addons_are_refused_translated_and_write_nothing(
    client, session, shop, change, status, english, spanish
):
    departure = shop["departure"]
    ids = {"extra_lunch": f"extra_{shop['lunch'].id}", "extra_box": f"extra_{shop['box'].id}"}
    change = {ids.get(k, k): v for k, v in change.items()}
    for headers, message in ((EN, english), (ES, spanish)):
        response = client.post(
            f"/departures/{departure.id}/book", data=form_for(departure) | change, headers=headers
        )
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        assert message in response.get_data(as_text=True)
    assert bookings(session) == 0
    assert session.scalar(select(func.count(SplitRule.id))) == 1


def test_a_night_sold_with_an_experience_is_on_the_familys_guest_list(client, session, shop, make):
    from tests.routes.test_manage_route_composing import login

    departure = shop["departure"]
    data = form_for(departure, special_needs="Sin gluten") | {
        "night_before": str(shop["homestay"].id)
    }
    assert client.post(f"/departures/{departure.id}/book", data=data).status_code == 303
    staff = make.user(memberships=[(departure.experience.association, Role.STAFF)])
    session.commit()
    login(client, staff)
    family_id = shop["homestay"].family_id
    page = client.get(f"/manage/families/{family_id}/guests", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ana Quispe" in html and "Sin gluten" in html and "3 people" in html
    assert "night before or after the experience" in html


def test_the_confirmation_email_lists_the_extras_and_nights(app, client, session, shop):
    from flask_babel import force_locale

    from tourism.services.messages import rendering

    departure = shop["departure"]
    data = form_for(departure, language="en") | {
        f"extra_{shop['lunch'].id}": "2",
        "night_before": str(shop["homestay"].id),
    }
    assert client.post(f"/departures/{departure.id}/book", data=data).status_code == 303
    booking = session.scalars(select(Booking)).one()
    with app.test_request_context(), force_locale("en"):
        rendered = rendering.render(rendering.CONFIRMED, booking, "en", {})
    for body in (rendered.html, rendered.text):
        assert "Chakra lunch" in body and "Night at Casa Shiguango" in body
        assert "$15.00" in body and "$75.00" in body


@pytest.mark.parametrize("lunch", [None, "0", "1"])
def test_the_offer_is_read_only_when_the_form_asks_for_an_addon(client, session, shop, lunch):
    # 2 adults and a child: $115.00 of tickets; one lunch adds $7.50.
    from tests.services.booking.test_hold_rows import counting

    departure = shop["departure"]
    data = form_for(departure, quoted="11500:0")
    if lunch is not None:  # the browser's form sends every extra, at 0 unless chosen
        data |= {f"extra_{shop['lunch'].id}": lunch, f"extra_{shop['box'].id}": "0"}
    with counting() as statements:
        response = client.post(f"/departures/{departure.id}/book", data=data, headers=EN)
    homestays = [s for s in statements if "FROM homestays" in s]
    extras = [s for s in statements if "FROM extras" in s]
    if lunch == "1":  # the control: a lunch asked for is priced, so the quote shown is stale
        assert response.status_code == 200
        assert "$122.50" in response.get_data(as_text=True)
        assert homestays and extras
        assert bookings(session) == 0
        return
    assert response.status_code == 303  # the quote shown was the total: held
    assert bookings(session) == 1
    assert homestays == []
    # Extras sent at 0 are still checked by the hold (an extra not offered is refused).
    assert len(extras) == (0 if lunch is None else 1)
