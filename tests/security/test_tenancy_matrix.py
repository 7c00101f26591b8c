"""Every route, every role, against another association's objects.

Walks ``app.url_map``: each endpoint must be classified below (a new route fails this test
until someone decides who may use it). Then anonymous visitors, a guide, a staff member and
an admin of association A request every route with the ids of association B's objects, with
every method the route accepts. They must get 404 (or, when not signed in, the way to the
sign-in page), must not see B's data, and must change nothing in the database. A platform
admin, who looks after every association, must not be turned away.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from tests.factories import Factories
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    AccountKind,
    GroupQuote,
    GroupRequest,
    GuideTimeOff,
    HomestayBlackout,
    Job,
    JobState,
    Membership,
    Photo,
    QuotePricing,
    QuoteStatus,
    RequesterKind,
    Role,
    Schedule,
    TransactionKind,
)
from tourism.services.access.accounts import start_session
from tourism.services.ledger import journal as ledger
from tourism.services.treasury import batches, payouts, statements
from tourism.services.treasury import receipts as payout_receipts

#: Routes anyone may use; secrets in their URLs (manage tokens, feed tokens) are the key.
PUBLIC = {
    "static",
    "public.health",
    "public.ready",
    "public.index",
    "public.experience",
    "public.set_language",
    "api.experiences",
    "api.experience_availability",
    "api.routes",
    "api.route",
    "api.route_availability",
    "api.booking_status",
    "api.openapi",
    "webhooks.stripe_event",
    # WhatsApp/SMS callbacks: signed by the provider (tests/routes/test_messaging.py).
    "webhooks.whatsapp_check",
    "webhooks.whatsapp_event",
    "webhooks.sms_status",
    "webhooks.sms_inbound",
    "media.photo",
    "media.share_photo",
    "public.privacy",
    "public.terms",
    "public.terms_index",
    "bookings.calendar",
    "bookings.new",
    "bookings.manage",
    "bookings.pay",
    "bookings.pay_with_card",
    "bookings.processing",
    "bookings.cancel",
    "bookings.resume_messages",
    "waitlist.join",
    "waitlist.offer",
    "groups.new",
    "groups.thread",
    # The requester's answer to a quote: the request's secret link is the key.
    "groups.accept_quote",
    "groups.decline_quote",
    "itineraries.index",
    "itineraries.route",
    "itineraries.book",
    "itineraries.manage",
    "itineraries.cancel",
    "itineraries.pay",
    "itineraries.pay_with_card",
    "itineraries.processing",
    "itineraries.move_leg",
    "auth.login",
    "auth.logout",
    "auth.forgot_password",
    "auth.forgot_password_sent",
    "auth.reset_password",
    "auth.accept_invitation",
    "guide.feed",
    "guide.service_worker",
    "treasury.family_statement",
    "treasury.family_statement_csv",
    "treasury.chart_styles",
    # The OCTO API: a reseller's key is the credential; which reseller sees what is
    # tests/security/test_reseller_tenancy.py.
    "octo.supplier",
    "octo.product_list",
    "octo.product_detail",
    "octo.availability_calendar",
    "octo.availability",
    "octo.reserve",
    "octo.update_booking",
    "octo.confirm_booking",
    "octo.extend_booking",
    "octo.cancel_booking",
    "octo.get_booking",
    "octo.list_bookings",
}
#: Signed-in pages without an object in the URL: they must show only the user's own data.
PERSONAL = {
    "manage.dashboard",
    "manage.operations",
    "manage.new_association",
    "manage.platform_routes",
    "manage.new_platform_route",
    "manage.jobs",
    "manage.retry_job",
    "guide.schedule",
    "guide.time_off",
    "guide.calendar",
    "guide.sync",
    "treasury.guide_statement",
}
#: Pages about one object of an association.
TENANT = {
    "manage.archive_experience",
    "manage.experience_minimum",
    "manage.group_requests_page",
    "manage.group_request",
    "manage.close_group_request",
    "manage.quote_group_request",
    "manage.group_transfer_received",
    "manage.group_transfer_refund",
    "manage.change_group_quote",
    "manage.withdraw_group_quote",
    "manage.assign_departures",
    "manage.schedule_guides",
    "manage.reseller_list",
    "manage.new_reseller",
    "manage.edit_reseller",
    "manage.revoke_reseller_key",
    "manage.new_reseller_key",
    "manage.reseller_rates",
    "manage.set_reseller_rate",
    "manage.reseller_webhook",
    "manage.set_reseller_webhook",
    "manage.remove_reseller_webhook",
    "treasury.reseller_statement",
    "treasury.reseller_statement_csv",
    "treasury.record_reseller_receipt",
    "manage.cancel_departure",
    "manage.delete_photo",
    "manage.edit_association",
    "manage.edit_departure",
    "manage.edit_experience",
    "manage.edit_family",
    "manage.edit_guide",
    "manage.experience_photos",
    "manage.experiences",
    "manage.families",
    "manage.route_bookings",
    "manage.record_route_cash",
    "manage.routes",
    "manage.new_route",
    "manage.edit_route",
    "manage.add_route_activity",
    "manage.add_route_night",
    "manage.remove_route_leg",
    "manage.move_route_leg",
    "manage.publish_route",
    "manage.withdraw_route",
    "manage.answer_route",
    "manage.family_homestays",
    "manage.new_homestay",
    "manage.edit_homestay",
    "manage.retire_homestay",
    "manage.extras_list",
    "manage.new_extra",
    "manage.edit_extra",
    "manage.retire_extra",
    "manage.add_homestay_blackout",
    "manage.remove_homestay_blackout",
    "manage.homestay_coordinates",
    "manage.stop_places",
    "manage.stop_coordinates",
    "manage.family_guests",
    "manage.message_log_page",
    "manage.booking_messages",
    "manage.change_booking_date",
    "manage.cancel_booking",
    "manage.generate_departures",
    "manage.guides",
    "manage.invite",
    "manage.new_experience",
    "manage.new_family",
    "manage.new_schedule",
    "manage.publish_experience",
    "manage.schedules",
    "manage.split_rules_page",
    "guide.assign",
    "guide.cash",
    "guide.check_in",
    "guide.manifest",
    "guide.no_show",
    "guide.scan",
    "guide.stop_visited",
    "guide.unassign",
    "guide.undo_check_in",
    "guide.undo_no_show",
    "treasury.family_statement_link",
    "treasury.ledger_csv",
    "treasury.overview",
    "treasury.payout_sheet",
    "treasury.payouts_csv",
    "treasury.receipt",
    "treasury.record_payouts",
    "treasury.reports_csv",
    "treasury.reports_dashboard",
}
#: A guide's own things: nobody else may touch them, platform admins included.
OWN = {"guide.rotate_calendar", "guide.remove_time_off", "treasury.guide_statement_csv"}

SECRETS = ("B SECRET ROUTE", "Familia Secreta B", "Visitante Secreto B", "guide-b@example.org")


@pytest.fixture
def world(make_app, tmp_path):
    app = make_app(
        UPLOAD_DIR=str(tmp_path / "uploads"),
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    with app.app_context():
        make = Factories(db.session)
        a = make.association(province="napo")
        b = make.association(province="pastaza")
        for association in (a, b):
            experience = make.experience(association)
            make.departure(experience, starts_in=timedelta(days=2))
        exp_b = make.experience(b)
        exp_b.texts[0].title = exp_b.texts[1].title = "B SECRET ROUTE"
        family_b = make.family(b, name="Familia Secreta B")
        stop_b = make.stop(exp_b, family=family_b)
        departure_b = make.departure(exp_b, starts_in=timedelta(hours=1))
        booking_b = make.booking(departure_b, contact_name="Visitante Secreto B")
        make.schedule(exp_b)
        guide_b = make.user(email="guide-b@example.org", password="", memberships=[(b, Role.GUIDE)])
        membership_b = db.session.scalars(
            select(Membership).where(Membership.user_id == guide_b.id)
        ).one()
        membership_b.ical_token = "b" * 43
        make.assign(departure_b, guide_b)
        now = utcnow()
        time_off_b = GuideTimeOff(
            user_id=guide_b.id,
            association_id=b.id,
            starts_at=now + timedelta(days=9),
            ends_at=now + timedelta(days=10),
        )
        photo_b = Photo(
            experience_id=exp_b.id, key="bsecretphoto", widths="320", width=320, height=200
        )
        group_b = GroupRequest(
            association_id=b.id,
            experience_id=exp_b.id,
            token="g" * 43,
            requester_kind=RequesterKind.SCHOOL,
            name="Visitante Secreto B",
            email="b@example.org",
            language="es",
            group_size=30,
            date_from=(now + timedelta(days=30)).date(),
            date_to=(now + timedelta(days=30)).date(),
        )
        db.session.add_all([time_off_b, photo_b, group_b])
        db.session.flush()
        quote_b = GroupQuote(
            request_id=group_b.id,
            departure_id=departure_b.id,
            pricing=QuotePricing.TOTAL,
            amount_cents=90_000,
            total_cents=90_000,
            group_size=30,
            status=QuoteStatus.OFFERED,
            expires_at=now + timedelta(days=20),
        )
        db.session.add(quote_b)
        payout_b = _payout(app, b, family_b, guide_b, tmp_path)
        reseller_b, _key = make.reseller(association=b, experiences=[exp_b])
        # A route booking whose one leg is ``booking_b``, of a route B curates (platform
        # routes: tests/routes/test_manage_route_composing.py).
        route_booking_b = make.route_booking_of(
            booking_b,
            slug="route-b",
            contact_name="Visitante Secreto B",
            contact_email="b@example.org",
            contact_phone="+593 99 000 0000",
        )
        homestay_b = make.homestay(family_b, name="Casa de la Familia Secreta B")
        extra_b = make.route_extra(b, family=family_b, name_es="Almuerzo Secreto B")
        blackout_b = HomestayBlackout(night=now.date() + timedelta(days=20))
        homestay_b.blackouts.append(blackout_b)
        dead_job = Job(
            kind="send-email",
            key=f"email:booking:{booking_b.id}:confirmed",
            payload="{}",
            state=JobState.DEAD,
            run_at=now,
            attempts=5,
            max_attempts=5,
            last_error="EmailNotSent: refused",
            finished_at=now,
        )
        db.session.add(dead_job)
        users = {
            "guide_a": make.user(password="", memberships=[(a, Role.GUIDE)]),
            "staff_a": make.user(password="", memberships=[(a, Role.STAFF)]),
            "admin_a": make.user(password="", memberships=[(a, Role.ADMIN)]),
            "platform": make.user(password="", is_platform_admin=True),
        }
        db.session.commit()
        ids = {
            "departure_id": departure_b.id,
            "booking_id": booking_b.id,
            "request_id": group_b.id,
            "quote_id": quote_b.id,
            "experience_id": exp_b.id,
            "family_id": family_b.id,
            "membership_id": membership_b.id,
            "photo_id": photo_b.id,
            "association_id": b.id,
            "time_off_id": time_off_b.id,
            "route_booking_id": route_booking_b.id,
            "route_id": route_booking_b.route_id,
            "leg_id": route_booking_b.legs[0].leg_id,
            "homestay_id": homestay_b.id,
            "extra_id": extra_b.id,
            "blackout_id": blackout_b.id,
            "stop_id": stop_b.id,
            "user_id": guide_b.id,
            "schedule_id": db.session.scalars(select(Schedule.id)).first(),
            "slug": exp_b.slug,
            "code": "es",
            "key": "bsecretphoto",
            "width": 320,
            "filename": "css/site.css",
            "batch": payout_b.batch,
            "payout_id": payout_b.id,
            "table": "experiences",
            "reseller_id": reseller_b.id,
            "product_id": exp_b.slug,
            "booking_uuid": "b" * 36,
            "job_id": dead_job.id,
        }
        tokens = {
            "bookings": booking_b.manage_token,
            # B's booking is no waiting-list offer: its link must be simply not found.
            "waitlist": booking_b.manage_token,
            "groups": group_b.token,
            "api": booking_b.manage_token,
            "itineraries": "r" * 43,
            "guide.feed": "b" * 43,
            "auth": "not-a-real-token",
            "treasury": statements.statement_link_token(db.session, family_b),
        }
        yield app, ids, tokens, users


def _payout(app, association, family, recorder, tmp_path):
    """A paid settlement of ``association``, with a receipt photo on disk."""
    account = ledger.account
    available = account(db.session, AccountKind.FAMILY, family=family, state="available")
    bank = account(db.session, AccountKind.BANK, association)
    ledger.post(db.session, kind=TransactionKind.ADJUSTMENT, lines=[(bank, 500), (available, -500)])
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(image, format="PNG")
    image.seek(0)
    receipt = payout_receipts.store_receipt(image, tmp_path / "uploads")
    item = batches.BatchItem(payouts.as_beneficiary(association, family), 500, "B-1", receipt)
    _batch, (payout,) = batches.settle_batch(
        db.session, association, [item], "cash", recorder, utcnow()
    )
    return payout


def _client(app, user):
    client = app.test_client()
    if user is None:
        return client
    token = start_session(user)
    db.session.commit()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session["_id"] = identifier
    return client


def _url(rule, ids, tokens) -> str:
    values = {}
    for name in rule.arguments:
        if name == "token":
            prefix = rule.endpoint.split(".")[0]
            values[name] = tokens.get(rule.endpoint) or tokens[prefix]
        else:
            values[name] = ids[name]
    with db.session.no_autoflush:
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _dump() -> list:
    """Every row of every table but the audit log (which records the refused attempts, as
    it should; tests/test_audit.py checks it): the database, as a value."""
    db.session.rollback()
    rows = []
    for table in db.metadata.sorted_tables:
        if table.name == "audit_events":
            continue
        rows.append(sorted(map(tuple, db.session.execute(select(table)).all()), key=repr))
    db.session.rollback()
    return rows


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_classified(world):
    app, *_ = world
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    classified = PUBLIC | PERSONAL | TENANT | OWN
    assert sorted(endpoints - classified) == [], "classify these routes in the matrix"
    assert sorted(classified - endpoints) == [], "these routes no longer exist"


@pytest.mark.parametrize("role", [None, "guide_a", "staff_a", "admin_a"])
def test_no_route_leaks_another_associations_objects(world, role):
    app, ids, tokens, users = world
    client = _client(app, users.get(role))
    failures = []
    with app.test_request_context():
        checks = [
            (rule, method, _url(rule, ids, tokens))
            for rule, method in _routes(app)
            if rule.endpoint in TENANT | PERSONAL | OWN
        ]
    assert len(checks) > 40
    for rule, method, url in checks:
        before = _dump()
        response = client.open(url, method=method, data={})
        body = response.get_data(as_text=True)
        after = _dump()
        status = response.status_code
        where = f"{role or 'anonymous'} {method} {url} ({rule.endpoint})"
        if status >= 500:
            failures.append(f"{where}: {status}")
        if before != after:
            failures.append(f"{where}: changed the database")
        if any(secret in body for secret in SECRETS):
            failures.append(f"{where}: shows association B's data")
        if role is None:
            if not (
                status in (301, 302, 303)
                and "/login" in response.headers.get("Location", "")
                or status == 404
            ):
                failures.append(f"{where}: {status} instead of the sign-in page")
        elif rule.endpoint in TENANT | OWN and status != 404:
            failures.append(f"{where}: {status} instead of 404")
    assert failures == []


def test_platform_admins_reach_every_association(world):
    app, ids, tokens, users = world
    client = _client(app, users["platform"])
    refused = []
    with app.test_request_context():
        urls = [
            (rule, _url(rule, ids, tokens))
            for rule, method in _routes(app)
            if rule.endpoint in TENANT and method == "GET"
        ]
    for rule, url in urls:
        status = client.get(url).status_code
        if status in (403, 404) or status >= 500:
            refused.append(f"GET {url} ({rule.endpoint}): {status}")
    assert refused == []


def test_public_routes_never_fail_on_another_associations_ids(world):
    app, ids, tokens, users = world
    client = _client(app, users["guide_a"])
    errors = []
    with app.test_request_context():
        checks = [
            (rule, method, _url(rule, ids, tokens))
            for rule, method in _routes(app)
            if rule.endpoint in PUBLIC
        ]
    for rule, method, url in checks:
        response = client.open(url, method=method, data={})
        status = response.status_code
        response.close()
        if status >= 500:
            errors.append(f"{method} {url} ({rule.endpoint}): {status}")
    assert errors == []


def test_each_route_has_one_class():
    classes = (PUBLIC, PERSONAL, TENANT, OWN)
    assert sum(len(c) for c in classes) == len(set().union(*classes))
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", e) for e in set().union(*classes))
