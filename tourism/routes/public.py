"""Public pages: the catalog, an experience, the privacy notice, the terms of sale, and the
language switch."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import groupby

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_login import current_user

from .. import readiness
from ..database import utcnow
from ..extensions import db
from ..forms.public import CatalogFilterForm
from ..i18n import LOCALE_COOKIE, available_locales, current_locale
from ..response_cache import cached_response
from ..services.access import accounts
from ..services.booking import availability
from ..services.booking.lifecycle import DEFAULT_CUTOFF
from ..services.catalog import photos, sellers
from ..services.catalog import search as catalog
from ..services.ledger import transparency
from ..services.payments import online as payments
from ..services.payments.stripe_gateway import current_gateway
from ..services.routes import discovery as route_discovery
from ..timefmt import display_zone, local, local_today
from ..unit_of_work import unit_of_work
from .redirects import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
@cached_response
def index():
    """The catalog: every published experience, filtered and sorted as the visitor asks."""
    form = CatalogFilterForm(request.args)
    status = 200
    entries = []
    if request.args and not form.validate():
        status = 400
    else:
        min_price, max_price = form.price_range() if request.args else (None, None)
        filters = catalog.CatalogFilters(
            province=form.province.data or None,
            theme=form.theme.data or None,
            on_date=form.date.data,
            min_price_cents=min_price,
            max_price_cents=max_price,
            sort=form.sort.data or "soonest",
            locale=current_locale(),
        )
        entries = catalog.search_experiences(db.session, filters, utcnow(), display_zone())
    covers = photos.cover_photos(db.session, [entry.experience.id for entry in entries])
    routes = route_discovery.published(db.session)
    return render_template(
        "public/index.html", form=form, entries=entries, covers=covers, routes=routes
    ), status


@bp.get("/experiences/<slug>")
@cached_response
def experience(slug: str):
    """An experience's page with the next 30 days of departures and the seats left on each."""
    experience = catalog.get_published_experience(db.session, slug)
    now = utcnow()
    zone = display_zone()
    start = datetime.combine(local_today(), time.min, tzinfo=zone)
    end = start + timedelta(days=current_app.config["AVAILABILITY_DAYS"] + 1)
    slots = availability.departures_between(db.session, experience.id, start, end, now)
    days = [
        (day, list(items))
        for day, items in groupby(slots, key=lambda s: local(s.departure.starts_at).date())
    ]
    methods = payments.offered_methods(experience, current_gateway())
    breakdown = transparency.quote_one_ticket(
        db.session,
        experience,
        now,
        methods[0] if methods else None,
        transparency.FeeEstimate.from_config(current_app.config),
    )
    return render_template(
        "public/experience.html",
        experience=experience,
        photos=photos.list_photos(db.session, experience),
        days=days,
        breakdown=breakdown,
        breakdown_ticket=transparency.default_ticket(experience),
        methods=methods,
    )


@bp.get("/privacy")
@cached_response
def privacy():
    """The privacy notice (Ecuador's LOPDP and the GDPR): what is collected, why, for how
    long, the visitor's rights, and whom to ask (each association that sells)."""
    return render_template(
        "public/privacy.html",
        sellers=sellers.sellers(db.session),
        needs_keep_days=current_app.config["SPECIAL_NEEDS_KEEP_DAYS"],
    )


@bp.get("/terms")
@cached_response
def terms_index():
    """Each association sells its own visits under its own terms: the list of them."""
    return render_template("public/terms_index.html", sellers=sellers.sellers(db.session))


@bp.get("/associations/<slug>/terms")
@cached_response
def terms(slug: str):
    """An association's terms of sale, made from its identity and its experiences' payment
    options and cancellation policies."""
    seller = sellers.seller_terms(db.session, slug)
    gateway = current_gateway()
    return render_template(
        "public/terms.html",
        association=seller.association,
        experiences=[
            (experience, payments.offered_methods(experience, gateway))
            for experience in seller.experiences
        ],
        hold_minutes=current_app.config["HOLD_MINUTES"],
        cutoff_minutes=int(DEFAULT_CUTOFF.total_seconds() // 60),
    )


@bp.get("/healthz")
def health():
    """Liveness, for process supervisors and the benchmark's ceiling: the app answers,
    nothing else is asked (``/readyz`` asks the database and Redis)."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/readyz")
def ready():
    """Readiness, for load balancers: 503 when the database does not answer; Redis that does
    not answer is reported as "degraded" (tourism.readiness)."""
    report, status = readiness.readiness()
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/language/<code>")
def set_language(code: str):
    """Remember the visitor's language in a cookie (and on their account, when signed in),
    then go back where they were."""
    if code not in available_locales():
        abort(404)
    target = safe_next(request.args.get("next")) or "/"
    if current_user.is_authenticated:
        with unit_of_work():
            accounts.remember_locale(current_user, code)
    response = make_response(redirect(target, code=303))
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
