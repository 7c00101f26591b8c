"""The treasury: balances owed to families and guides, recording payouts (one batch, one
transaction), the printable payout sheet, statements and CSV exports.

Management pages are for association admins (treasurers); the family statement is public
behind its private token; the guide statement shows the signed-in guide's own.
"""

from __future__ import annotations

import csv
import io
import secrets

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..forms.base import ONE_LINE
from ..forms.treasury import batch_items, period
from ..models import Association, Family, Payout, PayoutMethod, Reseller, Role
from ..money import decimal_text, parse_amount
from ..services.ledger import reseller_postings
from ..services.payments import processor_check
from ..services.treasury import (
    batches,
    payouts,
    statements,
)
from ..services.treasury import (
    exports as treasury_exports,
)
from ..services.treasury import (
    receipts as payout_receipts,
)
from ..text_input import has_control_characters
from ..unit_of_work import unit_of_work
from ..uploads import upload_dir
from .access import admins_only
from .limits import token_lookup
from .manage.blueprint import ID, acting_user, done, page, scoped

bp = Blueprint("treasury", __name__)

ADMINS = (Role.ADMIN,)


def treasurer_association(association_id: int) -> Association:
    """The association, for one of its admins (``scoped``: anyone else gets a 404)."""
    return scoped(Association, association_id, ADMINS)


def csv_response(filename: str, header: list[str], rows) -> Response:
    """A CSV download; amounts in ``rows`` are already decimal strings, and text that a
    spreadsheet would run as a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([treasury_exports.spreadsheet_safe(cell) for cell in row] for row in rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# The treasurer's page -------------------------------------------------------------------------


def _overview(association, status=200, error=None, form=None):
    return page(
        "treasury/overview.html",
        status,
        error,
        association=association,
        lines=payouts.beneficiary_balances(db.session, association),
        recent=payouts.association_payouts(db.session, association)[:20],
        mismatches=processor_check.mismatched_payments(db.session, association.id),
        methods=list(PayoutMethod),
        submitted=form,
        batch=batches.shown_batch_id(form.get("batch") if form else None),
        max=max,
    )


@bp.get(f"/manage/associations/<{ID}:association_id>/treasury")
@admins_only
def overview(association_id: int):
    return _overview(treasurer_association(association_id))


@bp.post(f"/manage/associations/<{ID}:association_id>/payouts")
@admins_only
def record_payouts(association_id: int):
    association = treasurer_association(association_id)
    stored: list[str] = []
    try:
        with unit_of_work():
            items = batch_items(
                db.session, association, request.form, request.files, upload_dir(), stored
            )
            batch, made = batches.settle_batch(
                db.session,
                association,
                items,
                request.form.get("method", ""),
                acting_user(),
                utcnow(),
                batch=request.form.get("batch"),
            )
    except batches.BatchSentAgain as sent:
        payout_receipts.remove_receipts(upload_dir(), stored)
        return done(
            str(sent), "treasury.payout_sheet", association_id=association.id, batch=sent.batch
        )
    except DomainError as error:
        payout_receipts.remove_receipts(upload_dir(), stored)
        if error.status_code == 404:
            raise
        return _overview(association, error.status_code, error, request.form)
    except BaseException:
        payout_receipts.remove_receipts(upload_dir(), stored)
        raise
    message = ngettext("%(num)s payout was recorded.", "%(num)s payouts were recorded.", len(made))
    return done(message, "treasury.payout_sheet", association_id=association.id, batch=batch)


@bp.get(f"/manage/associations/<{ID}:association_id>/payouts/<batch>/sheet")
@admins_only
def payout_sheet(association_id: int, batch: str):
    association = treasurer_association(association_id)
    made = batches.batch_payouts(db.session, association, batch)
    return page(
        "treasury/sheet.html",
        association=association,
        payouts=made,
        batch=batch,
        total_cents=sum(p.amount_cents for p in made),
    )


@bp.get(f"/manage/payouts/<{ID}:payout_id>/receipt")
@admins_only
def receipt(payout_id: int):
    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.receipt_key is None:
        abort(404)
    treasurer_association(payout.association_id)
    # Read whole (a receipt is one small WebP) rather than streamed: nothing is left open.
    path = upload_dir() / payout_receipts.receipt_file_name(payout.receipt_key)
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype="image/webp")
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.post(f"/manage/families/<{ID}:family_id>/statement-link")
@admins_only
def family_statement_link(family_id: int):
    with unit_of_work():
        family = scoped(Family, family_id, ADMINS)
        statements.statement_link_token(db.session, family)
        name, association_id = family.name, family.association_id
    return done(
        _("The statement link of %(name)s is ready.", name=name),
        "treasury.overview",
        association_id=association_id,
    )


# CSV exports ----------------------------------------------------------------------------------


@bp.get(f"/manage/associations/<{ID}:association_id>/ledger.csv")
@admins_only
def ledger_csv(association_id: int):
    association = treasurer_association(association_id)
    rows = treasury_exports.ledger_rows(db.session, association)
    return csv_response(
        f"ledger-{association.slug}.csv",
        treasury_exports.LEDGER_HEADER,
        ([*row[:-2], decimal_text(row[-2]), row[-1]] for row in rows),
    )


@bp.get(f"/manage/associations/<{ID}:association_id>/payouts.csv")
@admins_only
def payouts_csv(association_id: int):
    association = treasurer_association(association_id)
    return csv_response(
        f"payouts-{association.slug}.csv",
        treasury_exports.PAYOUT_HEADER,
        treasury_exports.payout_rows(payouts.association_payouts(db.session, association)),
    )


# Statements -----------------------------------------------------------------------------------


def _statement_csv(result: statements.Statement, filename: str) -> Response:
    return csv_response(
        filename, treasury_exports.STATEMENT_HEADER, treasury_exports.statement_rows(result)
    )


@bp.get("/statements/families/<token>")
@token_lookup
def family_statement(token: str):
    family = statements.family_by_statement_token(db.session, token)
    span, days = period(request.args)
    who = payouts.as_beneficiary(family.association, family)
    result = statements.statement(db.session, who, span)
    return page("treasury/statement.html", statements=[result], days=days, token=token)


@bp.get("/statements/families/<token>/statement.csv")
@token_lookup
def family_statement_csv(token: str):
    family = statements.family_by_statement_token(db.session, token)
    span, _days = period(request.args)
    who = payouts.as_beneficiary(family.association, family)
    result = statements.statement(db.session, who, span)
    return _statement_csv(result, f"statement-family-{family.id}.csv")


def _guide_statements(span):
    user = acting_user()
    return [
        statements.statement(db.session, payouts.as_beneficiary(association, user), span)
        for association in statements.guide_associations(db.session, user)
    ]


@bp.get("/guide/statement")
@login_required
def guide_statement():
    span, days = period(request.args)
    return page("treasury/guide_statement.html", statements=_guide_statements(span), days=days)


@bp.get(f"/guide/statement/<{ID}:association_id>/statement.csv")
@login_required
def guide_statement_csv(association_id: int):
    span, _days = period(request.args)
    for result in _guide_statements(span):
        if result.beneficiary.association.id == association_id:
            return _statement_csv(
                result,
                f"statement-guide-{current_user.id}-{result.beneficiary.association.slug}.csv",
            )
    abort(404)


# Prepaid resellers ----------------------------------------------------------------------------


def _reseller_statement(reseller: Reseller, status=200, error=None, submitted=None):
    return page(
        "treasury/reseller_statement.html",
        status,
        error,
        reseller=reseller,
        association=reseller.association,
        statement=reseller_postings.statement(db.session, reseller),
        # One token per form shown: sending the same form twice records one receipt.
        token=(submitted or {}).get("token") or secrets.token_urlsafe(24),
        submitted=submitted or {},
    )


@bp.get(f"/manage/resellers/<{ID}:reseller_id>/statement")
@admins_only
def reseller_statement(reseller_id: int):
    return _reseller_statement(scoped(Reseller, reseller_id, ADMINS))


@bp.get(f"/manage/resellers/<{ID}:reseller_id>/statement.csv")
@admins_only
def reseller_statement_csv(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    result = reseller_postings.statement(db.session, reseller)
    rows = [
        [
            line.reference,
            line.reseller_reference or "",
            line.starts_at.isoformat(),
            line.status,
            decimal_text(line.price_cents),
            decimal_text(line.commission_cents),
            decimal_text(line.owed_cents),
            "" if line.net_rate_cents is None else decimal_text(line.net_rate_cents),
        ]
        for line in result.lines
    ]
    rows += [
        [
            "",
            receipt.reference,
            receipt.received_at.isoformat(),
            "received",
            "",
            "",
            decimal_text(-receipt.amount_cents),
            "",
        ]
        for receipt in result.receipts
    ]
    rows.append(["", "", "", "owed", "", "", decimal_text(result.owed_cents), ""])
    return csv_response(
        f"reseller-{reseller.id}-statement.csv",
        reseller_postings.STATEMENT_HEADER,
        rows,
    )


@bp.post(f"/manage/resellers/<{ID}:reseller_id>/receipts")
@admins_only
def record_reseller_receipt(reseller_id: int):
    reseller = scoped(Reseller, reseller_id, ADMINS)
    form = request.form
    try:
        amount = parse_amount(form.get("amount", ""))
    except ValueError:
        message = _("The amount is not a valid amount, e.g. 25.50.")
        return _reseller_statement(reseller, 422, message, form)
    reference = form.get("reference", "")
    if len(reference) > reseller_postings.REFERENCE_LIMIT:
        message = _("The reference is too long.")
        return _reseller_statement(reseller, 422, message, form)
    if has_control_characters(reference):
        return _reseller_statement(reseller, 422, str(ONE_LINE), form)
    try:
        with unit_of_work():
            reseller_postings.record_receipt(
                db.session,
                acting_user(),
                reseller,
                amount,
                reference,
                form.get("token", ""),
                utcnow(),
            )
    except DomainError as error:
        return _reseller_statement(reseller, error.status_code, error, form)
    return done(
        _("The payment from the reseller was recorded."),
        "treasury.reseller_statement",
        reseller_id=reseller.id,
    )
