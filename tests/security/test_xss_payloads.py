"""Classic injection payloads, stored wherever people type text, render as text.

Each payload is stored (between two markers, so its place in a page can be found) as an
experience's texts, a host family's name, a guide's name and a booking's contact name and
special needs; then every page that shows them is read: the public catalog and experience
pages, the booking's private page, the guide's manifest, the operations board, the
management lists and forms, the confirmation email, the family statement and the JSON API.
Each payload must appear escaped (``<script>`` only as ``&lt;script&gt;``), template syntax
such as ``{{7*7}}`` must come out as written (never ``49``), and no link may point at
``javascript:``.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from markupsafe import escape

from tests.factories import Factories
from tests.fuzzing import current_values
from tests.routes.test_manage_access import EN, login
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import AccountKind, PayoutMethod, Role, TransactionKind
from tourism.services.ledger import journal as ledger
from tourism.services.treasury import batches, payouts, statements
from tourism.timefmt import local

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</textarea><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "javascript:alert(1)",
    "{{7*7}}",
    "${7*7}",
    "{% if 1 %}evaluated{% endif %}",
    "#{7*7}<%= 7*7 %>",
    '" onmouseover="alert(1)" x="',
    "' onfocus='alert(1)' autofocus='",
    '<a href="javascript:alert(1)">x</a>',
    "&lt;b&gt;already escaped&lt;/b&gt;",
]
#: Where a payload was stored: "zq<payload>qz", so "zq49qz" would mean {{7*7}} ran.
START, END = "zq", "qz"


def marked(payload: str) -> str:
    return f"{START}{payload}{END}"


def assert_inert(body: str, payload: str, where: str) -> None:
    """``payload`` shows in ``body`` as text: escaped, unevaluated, and never a live link."""
    assert marked(str(escape(payload))) in body, f"{where}: {payload!r} not shown as text"
    if str(escape(payload)) != payload:
        assert marked(payload) not in body, f"{where}: {payload!r} shown unescaped"
    for evaluated in ("49", "evaluated"):
        assert marked(evaluated) not in body, f"{where}: {payload!r} was evaluated"
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", body, re.I), where


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        PUBLIC_URL="https://chakra.example",
    )
    with app.app_context():
        yield app


@pytest.fixture
def world(app):
    """For each payload: an experience, its host family, a guide and a booking, all of
    whose texts are the payload."""
    make = Factories(db.session)
    association = make.association(name="Kallari")
    admin = make.user(password="", memberships=[(association, Role.ADMIN)])
    rows = []
    for payload in PAYLOADS:
        text = marked(payload)
        experience = make.experience(association, prices={"adult": 4500})
        for localized in experience.texts:
            localized.title = localized.summary = localized.description = text
            localized.meeting_point = text
        family = make.family(association, name=text, contact_name=text)
        make.stop(experience, family=family)
        departure = make.departure(experience, capacity=30, starts_in=timedelta(days=2))
        guide = make.guide(association, name=text)
        make.assign(departure, guide)
        booking = make.booking(departure, contact_name=text, special_needs=text)
        rows.append((payload, experience, family, departure, booking))
    db.session.commit()
    return association, admin, rows


def _get(client, url: str) -> str:
    response = client.get(url, headers=EN)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_public_pages_show_payloads_as_text(client, world):
    _, _, rows = world
    catalog = _get(client, "/")
    for payload, experience, *_ in rows:
        assert_inert(catalog, payload, "catalog")
        assert_inert(_get(client, f"/experiences/{experience.slug}"), payload, experience.slug)


def test_booking_pages_show_payloads_as_text(client, world):
    _, _, rows = world
    for payload, *_, booking in rows:
        assert_inert(_get(client, f"/bookings/{booking.manage_token}"), payload, "booking page")


def test_guide_and_staff_pages_show_payloads_as_text(client, world):
    association, admin, rows = world
    login(client, admin)
    day = local(rows[0][3].starts_at).date()
    board = _get(client, f"/manage/operations?day={day}&view=day")
    families = _get(client, f"/manage/associations/{association.id}/families")
    experiences = _get(client, f"/manage/associations/{association.id}/experiences")
    guides = _get(client, f"/manage/associations/{association.id}/guides")
    for payload, experience, family, departure, _ in rows:
        assert_inert(board, payload, "operations board")
        assert_inert(families, payload, "families")
        assert_inert(experiences, payload, "experiences")
        assert_inert(guides, payload, "guides")
        manifest = _get(client, f"/guide/departures/{departure.id}")
        assert_inert(manifest, payload, "manifest")
        # Forms put stored text back into value="…" attributes and <textarea>s.
        assert_inert(_get(client, f"/manage/families/{family.id}/edit"), payload, "family form")
        edit = _get(client, f"/manage/experiences/{experience.id}/edit")
        assert_inert(edit, payload, "experience form")


def test_family_statements_show_payloads_as_text(client, world):
    _, _, rows = world
    for payload, _, family, *_ in rows:
        token = statements.statement_link_token(db.session, family)
        db.session.commit()
        assert_inert(_get(client, f"/statements/families/{token}"), payload, "statement")


def test_treasury_pages_show_payloads_as_text(client, world):
    """A family whose name is a payload is paid, with a payout reference that is one too: the
    treasury, the printable payout sheet and the family's statement show both as text."""
    association, admin, rows = world
    bank = ledger.account(db.session, AccountKind.BANK, association)
    items = []
    for payload, _, family, *_ in rows:
        available = ledger.account(db.session, AccountKind.FAMILY, family=family, state="available")
        ledger.post(
            db.session, kind=TransactionKind.ADJUSTMENT, lines=[(bank, 700), (available, -700)]
        )
        beneficiary = payouts.as_beneficiary(association, family)
        items.append(batches.BatchItem(beneficiary, 500, marked(payload)))
    batch, _ = batches.settle_batch(
        db.session, association, items, PayoutMethod("cash"), admin, utcnow()
    )
    db.session.commit()
    login(client, admin)
    overview = _get(client, f"/manage/associations/{association.id}/treasury")
    sheet = _get(client, f"/manage/associations/{association.id}/payouts/{batch}/sheet")
    for payload, _, family, *_ in rows:
        assert_inert(overview, payload, "treasury")
        assert_inert(sheet, payload, "payout sheet")
        token = statements.statement_link_token(db.session, family)
        db.session.commit()
        statement = _get(client, f"/statements/families/{token}")
        assert_inert(statement, payload, "statement")
        assert statement.count(marked(str(escape(payload)))) >= 2  # the name and the reference


def test_the_json_api_keeps_payloads_as_data(client, world):
    _, _, rows = world
    response = client.get("/api/v1/experiences", headers=EN)
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    titles = {entry["title"] for entry in response.get_json()["experiences"]}
    assert titles == {marked(payload) for payload, *_ in rows}


def test_booking_forms_with_payloads_are_stored_and_emailed_as_text(client, world, tmp_path):
    _, _, rows = world
    departure = rows[0][3]
    page = client.get(f"/departures/{departure.id}/book").get_data(as_text=True)
    adult = re.search(r'name="(qty_\d+)"', page).group(1)
    outbox = tmp_path / "outbox"
    for payload in PAYLOADS:
        before = set(outbox.glob("*.eml"))
        response = client.post(
            f"/departures/{departure.id}/book",
            data={
                adult: "1",
                "name": marked(payload),
                "email": "visitor@example.org",
                "phone": "+593 99 123 4567",
                "country": "EC",
                "language": "en",
                "special_needs": marked(payload),
                "special_needs_consent": "y",
                "payment_method": "on_arrival",
            },
            headers=EN,
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        assert_inert(_get(client, response.headers["Location"]), payload, "booking page")
        [sent] = set(outbox.glob("*.eml")) - before
        message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
        html = message.get_body(preferencelist=("html",)).get_content()
        assert_inert(html, payload, "confirmation email")
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert marked(payload) in text  # plain text shows it as written


def test_payloads_typed_into_management_forms_show_as_text_on_public_pages(client, world):
    """Through the real forms: staff rename a host family and retitle an experience; the
    public experience page shows what they typed, as text."""
    association, admin, _ = world
    make = Factories(db.session)
    experience = make.experience(association, prices={"adult": 4500})
    family = make.family(association, name="Familia Grefa")
    make.stop(experience, family=family)
    make.departure(experience, starts_in=timedelta(days=3))
    db.session.commit()
    login(client, admin)
    public = f"/experiences/{experience.slug}"
    for payload in PAYLOADS:
        for url, changes in [
            (f"/manage/families/{family.id}/edit", {"name": marked(payload)}),
            (
                f"/manage/experiences/{experience.id}/edit",
                {
                    f"{lang}-{part}": marked(payload)
                    for lang in ("es", "en")
                    for part in ("title", "summary", "description")
                },
            ),
        ]:
            values = current_values(_get(client, url), url)
            for name, value in changes.items():
                assert name in values, name
                values.setlist(name, [value])
            response = client.post(url, data=values, headers=EN)
            assert response.status_code == 303, (url, response.get_data(as_text=True)[-2000:])
        assert family.name == experience.text("en").title == marked(payload)  # stored as typed
        page = _get(client, public)
        assert_inert(page, payload, "experience page")
        assert page.count(marked(str(escape(payload)))) >= 3  # title, texts, host family


def test_the_check_catches_what_it_should():
    """The negative control: raw, evaluated or linked payloads fail ``assert_inert``."""
    for body, payload in [
        (
            marked("<script>alert(1)</script>") + marked("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "<script>alert(1)</script>",
        ),
        (marked("49"), "{{7*7}}"),
        ('<a href="javascript:alert(1)">' + marked("javascript:alert(1)"), "javascript:alert(1)"),
        ("nothing here", "{{7*7}}"),
    ]:
        with pytest.raises(AssertionError):
            assert_inert(body, payload, "control")
