"""The revenue dashboard and its CSV tables: the numbers of ``services.reports`` as charts
readable without JavaScript, tables and downloads, only for the association's admins, and a
clear 400 for months that make no sense."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.routes.test_manage_access import EN, login, member
from tests.services.reports.test_revenue import World, clock  # noqa: F401  (fixture)
from tourism.models import Role


@pytest.fixture
def world(session, make, clock):  # noqa: F811
    from tourism.database import write_transactions

    with write_transactions():
        world = World(session, make, clock)
        session.commit()
    return world


@pytest.fixture
def treasurer(world, make, client):
    user = member(make, world.association, Role.ADMIN)
    login(client, user)
    return user


def url(world, suffix="", **args) -> str:
    query = "&".join(f"{k.rstrip('_')}={v}" for k, v in args.items())
    base = f"/manage/associations/{world.association.id}/reports{suffix}"
    return base + ("?" + query if query else "")


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert ".csv" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_dashboard_shows_charts_and_tables_without_scripts(client, world, treasurer):
    response = client.get(url(world, from_="2025-01", to="2025-03"), headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.count("<svg") == 6
    assert "<script" not in body.lower()
    # The site's CSP refuses inline styles too: the charts' CSS is a stylesheet.
    svgs = "".join(re.findall(r"<svg.*?</svg>", body, re.S))
    assert "<style" not in svgs and " style=" not in svgs
    assert 'href="/manage/reports/charts.css"' in body
    for key in ("months", "experiences", "beneficiaries", "visitors", "families", "guides"):
        assert f'id="chart-{key}"' in svgs
    assert "Cacao Route" in body and "Guayusa Dawn" in body
    table = re.sub(r"\s+", " ", body)
    assert (
        '<th scope="row">January 2025</th><td class="number" data-label="Gross">$100.00</td>'
        in table
    )
    assert "January 2025 to March 2025" in body  # months in words, not 2025-01
    assert "Net revenue: $100.00" in body
    assert "To families: $49.00; platform commission and card fees: $15.80" in body
    assert "Conservation fund: $4.90" in body
    assert "36.7 %" in body  # families represented by women
    assert "Not recorded" in body
    assert "/reports/months.csv?from=2025-01&amp;to=2025-03" in body


def test_money_and_shares_follow_the_visitors_language(client, world, treasurer):
    body = client.get(url(world, from_="2025-01", to="2025-03"), headers={"Accept-Language": "es"})
    text = body.get_data(as_text=True)
    assert "$100,00" in text and "36,7 %" in text
    assert "enero de 2025" in text and "2025-01</th>" not in text


def test_the_treasury_links_to_the_reports(client, world, treasurer):
    body = client.get(f"/manage/associations/{world.association.id}/treasury").get_data(
        as_text=True
    )
    assert url(world) in body


def test_by_default_the_last_twelve_months_are_shown(client, world, treasurer):
    response = client.get(url(world), headers=EN)
    assert response.status_code == 200
    months = re.findall(r'<th scope="row">(\w+ \d{4})</th>', response.get_data(as_text=True))
    assert len(months) == 24  # the revenue table and the visitors table


def test_monthly_csv(client, world, treasurer):
    response = client.get(url(world, "/months.csv", from_="2025-01", to="2025-03"))
    assert rows(response) == [
        ["month", "gross", "refunded", "disputes_lost", "net", "currency"],
        ["2025-01", "100.00", "0.00", "0.00", "100.00", "USD"],
        ["2025-02", "50.00", "50.00", "0.00", "0.00", "USD"],
        ["2025-03", "50.00", "0.00", "50.00", "0.00", "USD"],
    ]
    assert "months-" in response.headers["Content-Disposition"]


def test_beneficiary_experience_and_inclusion_csv(client, world, treasurer):
    period = dict(from_="2025-01", to="2025-03")
    beneficiaries = rows(client.get(url(world, "/beneficiaries.csv", **period)))
    assert beneficiaries[1:] == [
        ["family", "49.00", "49.0", "USD"],
        ["guide", "19.60", "19.6", "USD"],
        ["association_fund", "10.70", "10.7", "USD"],
        ["conservation_fund", "4.90", "4.9", "USD"],
        ["platform", "9.80", "9.8", "USD"],
        ["processor_fees", "6.00", "6.0", "USD"],
    ]
    experiences = rows(client.get(url(world, "/experiences.csv", **period), headers=EN))
    assert experiences[1:] == [
        [str(world.cacao.id), "Cacao Route", "150.00", "50.00", "USD"],
        [str(world.guayusa.id), "Guayusa Dawn", "50.00", "50.00", "USD"],
    ]
    families = rows(client.get(url(world, "/families.csv", **period)))
    assert families[1] == ["female", "18.00", "36.7", "USD"]
    assert families[-1] == ["unassigned", "0.00", "0.0", "USD"]
    guides = rows(client.get(url(world, "/guides.csv", **period)))
    assert guides[1] == ["under_30", "9.60", "49.0", "USD"]
    visitors = rows(client.get(url(world, "/visitors.csv", **period)))
    assert visitors == [
        ["month", "bookings", "visitors"],
        ["2025-01", "2", "3"],
        ["2025-02", "1", "1"],
        ["2025-03", "0", "0"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(from_="2025-03", to="2025-01"), "The first month comes after the last one."),
        (dict(from_="2025-13"), "2025-13 is not a month written as YYYY-MM."),
        (dict(to="march"), "march is not a month written as YYYY-MM."),
        (dict(from_="2020-01", to="2025-01"), "A report covers at most 36 months."),
        (dict(from_="9999-12", to="9999-12"), "Choose months from the years 2000 to 2999."),
        # Said back shortened, not echoed whole.
        (dict(from_="1" * 5000), "11111111111111111111… is not a month written as YYYY-MM."),
    ],
)
def test_bad_months_are_a_clear_400(client, world, treasurer, args, message):
    response = client.get(url(world, **args), headers=EN)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    csv_response = client.get(url(world, "/months.csv", **args), headers=EN)
    assert csv_response.status_code == 400
    assert message in csv_response.get_data(as_text=True)


def test_user_input_in_messages_is_escaped(client, world, treasurer):
    response = client.get(url(world, from_="<b>x</b>"), headers=EN)
    assert response.status_code == 400
    assert "<b>x</b>" not in response.get_data(as_text=True)


def test_an_unknown_table_is_not_found(client, world, treasurer):
    assert client.get(url(world, "/ledger.csv")).status_code == 404


def test_an_association_without_money_gets_an_empty_report(client, world, make):
    login(client, member(make, world.other, Role.ADMIN))
    response = client.get(
        f"/manage/associations/{world.other.id}/reports?from=2025-01&to=2025-03", headers=EN
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No revenue in these months." in body
    assert "Cacao Route" not in body and "<script" not in body


@pytest.mark.parametrize("role", [Role.STAFF, Role.GUIDE])
def test_only_admins_of_the_association_see_its_reports(client, world, make, role):
    login(client, member(make, world.association, role))
    assert client.get(url(world)).status_code == 404
    assert client.get(url(world, "/months.csv")).status_code == 404


def test_another_associations_admin_is_turned_away(client, world, make):
    login(client, member(make, world.other, Role.ADMIN))
    assert client.get(url(world)).status_code == 404
    assert client.get(url(world, "/families.csv")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(url(world))
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_titles_are_escaped_in_charts_and_tables(client, world, treasurer, session):
    world.cacao.texts[1].title = "<script>alert(1)</script> Cacao"
    session.commit()
    response = client.get(url(world, from_="2025-01", to="2025-03"), headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in body.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Cacao" in body


def test_the_charts_stylesheet_styles_every_chart_without_data(client):
    response = client.get("/manage/reports/charts.css")
    css = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/css"
    for key in ("months", "experiences", "beneficiaries", "visitors", "families", "guides"):
        assert f"#chart-{key} " in css
    assert "#chart-beneficiaries .color-5" in css  # a colour for each of the six types
    assert "Content-Security-Policy" in response.headers
