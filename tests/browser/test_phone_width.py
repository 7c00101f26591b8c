"""Every page fits a 360-pixel phone: no sideways scrolling on any management, guide or public
page. The test walks the app's own routes (``app.url_map``, so a page added later is walked
too) with the demo data's ids, anonymously and signed in as each demo role, in Spanish (the
longer words), and measures the page's width in Chromium."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import select

from tests.route_walk import placeholder_url, routes
from tourism.database import utcnow, write_transactions
from tourism.demo import DEMO_PASSWORD
from tourism.demo.routes import ROUTE
from tourism.extensions import db
from tourism.models import (
    Association,
    Booking,
    BookingStatus,
    DepartureGuide,
    Experience,
    Family,
    GroupRequest,
    Membership,
    Payout,
    Role,
    Route,
    Schedule,
    User,
)
from tourism.services.booking.lifecycle import DEFAULT_CUTOFF, ContactDetails
from tourism.services.routes import availability
from tourism.services.routes import booking as route_booking
from tourism.services.treasury import statements
from tourism.timefmt import local_today

pytestmark = pytest.mark.browser

WIDTH = 360
route_slug = ROUTE["slug"]
PHONE = {"width": WIDTH, "height": 740}

#: Not pages: files, feeds, JSON, redirects only, form posts.
NOT_PAGES = {
    "static",
    "media.photo",
    "public.health",
    "public.ready",
    "public.set_language",
    "guide.feed",
    "guide.service_worker",
    "treasury.chart_styles",
    "treasury.receipt",
    "webhooks.stripe_event",
}


@dataclass(frozen=True)
class Walker:
    name: str
    email: str | None
    #: Which endpoints this person is walked through (their blueprint, or exact names).
    prefixes: tuple[str, ...]


ROLES = [
    Walker(
        "visitor",
        None,
        (
            "public.",
            "bookings.",
            "auth.",
            "groups.",
            "treasury.family_statement",
            "itineraries.index",
        ),
    ),
    Walker("guide", "guia@kallari.demo", ("guide.", "treasury.guide_statement")),
    Walker("staff", "personal@kallari.demo", ("manage.",)),
    Walker("admin", "admin@kallari.demo", ("manage.", "treasury.")),
    Walker("treasurer", "tesoreria@kallari.demo", ("treasury.",)),
    Walker("platform", "plataforma@chakraroutes.demo", ("manage.dashboard", "manage.new_")),
]

#: Finds what sticks out: the page's width, and the deepest elements wider than the screen.
MEASURE = """(limit) => {
  const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && !el.querySelector('*:not(br)')) {
      const name = el.className ? '.' + String(el.className).split(' ').join('.') : '';
      wide.push(el.tagName.toLowerCase() + name + ' → ' + Math.round(box.right));
    }
  }
  return {width, wide: wide.slice(0, 5)};
}"""


def demo_ids(app) -> dict:
    """The demo data's ids for the routes' arguments, and the tokens of its private links
    (under ``tokens``)."""
    with app.app_context():
        kallari = db.session.scalars(select(Association).where(Association.slug == "kallari")).one()
        route = db.session.scalars(
            select(Experience).where(Experience.slug == "kallari-cacao-route")
        ).one()
        guide = db.session.scalars(select(User).where(User.email == "guia@kallari.demo")).one()
        assignment = db.session.scalars(
            select(DepartureGuide)
            .where(DepartureGuide.user_id == guide.id)
            .order_by(DepartureGuide.departure_id)
        ).first()
        booking = db.session.scalars(
            select(Booking).where(
                Booking.departure_id == assignment.departure_id,
                Booking.status == BookingStatus.CONFIRMED,
            )
        ).first()
        family = db.session.scalars(
            select(Family).where(Family.association_id == kallari.id).order_by(Family.id)
        ).first()
        payout = db.session.scalars(
            select(Payout).where(Payout.association_id == kallari.id).order_by(Payout.id)
        ).first()
        membership = db.session.scalars(
            select(Membership).where(
                Membership.association_id == kallari.id, Membership.role == Role.GUIDE
            )
        ).first()
        schedule = db.session.scalars(
            select(Schedule).where(Schedule.experience_id == route.id)
        ).first()
        # The school's request, with its thread and the quote that stands.
        group_request = db.session.scalars(
            select(GroupRequest)
            .where(GroupRequest.association_id == kallari.id, GroupRequest.quotes.any())
            .order_by(GroupRequest.id)
        ).first()
        ids = {
            "association_id": kallari.id,
            "experience_id": route.id,
            "departure_id": assignment.departure_id,
            "booking_id": booking.id,
            "family_id": family.id,
            "membership_id": membership.id,
            "schedule_id": schedule.id,
            "batch": payout.batch,
            "slug": route.slug,
            "code": "es",
            "table": "months",
            "route_id": db.session.scalars(select(Route.id).where(Route.slug == route_slug)).one(),
            "request_id": group_request.id,
        }
        ids["tokens"] = {
            "bookings": booking.manage_token,
            "treasury": statements.statement_link_token(db.session, family),
            "groups": group_request.token,
        }
        db.session.commit()
    return ids


def route_booking_token(app) -> str:
    """The private link of a booking of the demo route for two people, made for the walk."""
    with app.app_context(), write_transactions():
        route = db.session.scalars(select(Route).where(Route.slug == route_slug)).one()
        plan = availability.bookable_start_dates(
            db.session, route, local_today(), 60, 2, utcnow(), DEFAULT_CUTOFF
        )[0]
        contact = ContactDetails(
            "Visitante Demo Ruta", "ruta@example.org", "+593 99 000 1234", "EC", "es"
        )
        booked = route_booking.book_route(
            db.session,
            route_booking.RouteBookingRequest(route.id, plan.start_date, 2, contact),
            utcnow(),
            ["es", "en"],
        )
        token = booked.manage_token
        db.session.commit()
    return token


def demo_urls(app) -> dict[str, list[str]]:
    """Per role, the URL of every page it is walked through, with the demo data's ids."""
    ids = demo_ids(app)
    tokens = ids.pop("tokens")
    with app.app_context():
        urls: dict[str, list[str]] = {}
        with app.test_request_context():
            for role in ROLES:
                urls[role.name] = sorted(
                    {
                        placeholder_url(rule, ids, tokens)
                        for rule in routes(app, "GET")
                        if rule.endpoint not in NOT_PAGES
                        and rule.endpoint.startswith(role.prefixes)
                        and not rule.rule.endswith((".csv", ".json", ".ics"))
                        and not rule.endpoint.startswith("api.")
                    }
                )
            # Pages with a query that changes what they show.
            urls["staff"].append(url_for("manage.operations", view="week"))
            # The demo route's pages (their slug is not an experience's) and a booking of it.
            urls["visitor"] += [
                url_for("itineraries.route", slug=route_slug),
                url_for("itineraries.book", slug=route_slug),
                url_for("itineraries.manage", token=route_booking_token(app)),
            ]
    return urls


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.url


#: Undoes the phone layout of management tables (manage.css), for the negative control.
TABLES_AS_TABLES = """
.manage-table{display:table!important}
.manage-table thead{display:table-header-group!important;position:static!important}
.manage-table tbody{display:table-row-group!important}
.manage-table tr{display:table-row!important}
.manage-table td,.manage-table th{display:table-cell!important;width:auto!important}
"""


def test_the_measure_sees_a_page_wider_than_the_phone(live_site, browser):
    """Negative controls: the measure finds something 600 pixels wide put in a page, and the
    split rules page (923 pixels before) is too wide again once its tables are tables."""
    context = browser.new_context(viewport=PHONE, locale="es-EC", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(live_site.url + "/login")
        assert page.evaluate(MEASURE, WIDTH)["width"] <= WIDTH
        page.evaluate(
            "() => { const d = document.createElement('p'); d.textContent = 'x'; "
            "d.setAttribute('class', 'too-wide'); d.style.width = '600px'; "
            "document.querySelector('main').appendChild(d); }"
        )
        measured = page.evaluate(MEASURE, WIDTH)
        assert measured["width"] >= 600
        assert any(line.startswith("p.too-wide") for line in measured["wide"]), measured

        sign_in(page, live_site.url, "admin@kallari.demo")
        experience_id = demo_ids(live_site.app)["experience_id"]
        page.goto(f"{live_site.url}/manage/experiences/{experience_id}/split-rules")
        assert page.evaluate(MEASURE, WIDTH)["width"] <= WIDTH
        page.add_style_tag(content=TABLES_AS_TABLES)
        assert page.evaluate(MEASURE, WIDTH)["width"] > 500
    finally:
        context.close()


def test_every_page_fits_a_360_pixel_phone(live_site, browser, shoot):
    urls = demo_urls(live_site.app)
    assert len(urls["admin"]) >= 20 and len(urls["visitor"]) >= 8, urls
    # The demo school's request with its live quote: the staff page (the forms to change or
    # withdraw the quote) and the requester's private page (the form to accept it).
    ids = demo_ids(live_site.app)
    assert f"/manage/group-requests/{ids['request_id']}" in urls["staff"]
    assert f"/group-requests/{ids['tokens']['groups']}" in urls["visitor"]
    too_wide: list[str] = []
    walked = 0
    for role in ROLES:
        context = browser.new_context(viewport=PHONE, locale="es-EC")
        page = context.new_page()
        try:
            if role.email:
                sign_in(page, live_site.url, role.email)
            for path in urls[role.name]:
                response = page.goto(live_site.url + path)
                assert response is not None
                if "text/html" not in (response.headers.get("content-type") or ""):
                    continue
                assert response.status < 500, (role.name, path, response.status)
                page.wait_for_load_state()
                walked += 1
                measured = page.evaluate(MEASURE, WIDTH)
                if measured["width"] > WIDTH:
                    shoot(page, f"too-wide-{role.name}-{len(too_wide)}")
                    too_wide.append(
                        f"{role.name} {path}: {measured['width']} px {measured['wide']}"
                    )
        finally:
            context.close()
    assert walked >= 60, walked
    assert not too_wide, "\n".join(too_wide)


def test_a_message_written_as_one_long_word_wraps(live_site, browser):
    """A pasted address in a group's message (one word of 1,900 letters) wrapped nowhere
    and made the request's page 20,000 pixels wide."""
    token = demo_ids(live_site.app)["tokens"]["groups"]
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        page.goto(f"{live_site.url}/group-requests/{token}")
        page.fill("textarea[name=body]", "https://example.com/" + "q" * 1900)
        page.click("form[novalidate] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("article.message p", has_text="qqqq").count() == 1
        measured = page.evaluate(MEASURE, WIDTH)
        assert measured["width"] <= WIDTH, measured
    finally:
        context.close()


def test_long_words_typed_by_visitors_wrap_on_the_guides_manifest(live_site, browser):
    """A name of 110 letters and needs written as one word made the manifest 1,773 px wide;
    a booking reference of 30 letters typed in the scan form, 423."""
    ids = demo_ids(live_site.app)
    app = live_site.app
    with app.app_context():
        booking = db.session.get(Booking, ids["booking_id"])
        kept = booking.contact_name, booking.special_needs, booking.special_needs_consent_at
        booking.contact_name = "A" * 110
        booking.special_needs = "Alergia_" + "x" * 200
        booking.special_needs_consent_at = utcnow()
        db.session.commit()
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        sign_in(page, live_site.url, "guia@kallari.demo")
        page.goto(f"{live_site.url}/guide/departures/{ids['departure_id']}")
        assert page.locator("text=Alergia_xxx").count() >= 1
        assert page.evaluate(MEASURE, WIDTH)["width"] <= WIDTH
    finally:
        context.close()
        with app.app_context():
            booking = db.session.get(Booking, ids["booking_id"])
            booking.contact_name, booking.special_needs, booking.special_needs_consent_at = kept
            db.session.commit()
