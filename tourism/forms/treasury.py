"""Reading the treasurer's payout table and a statement's period from a request.

The payout table has one row per family or guide, so its fields are named after the
beneficiary (``amount-f12``, ``reference-u7``, ``receipt-f12``) rather than declared in a
WTForms class; this module turns them into ``services.batches.BatchItem``\\ s.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ..errors import InvalidRequest, NotFound
from ..models import Association
from ..money import parse_amount
from ..services.treasury import batches, payouts
from ..services.treasury import receipts as payout_receipts
from ..text_input import has_control_characters
from ..timefmt import local_to_utc


class AmountNotValid(InvalidRequest):
    default_message = _l("The amount for %(name)s is not a valid amount, e.g. 25.50.")


class ReferenceNotOneLine(InvalidRequest):
    default_message = _l(
        "The reference for %(name)s must be on one line, without special characters."
    )


def batch_items(
    session: Session,
    association: Association,
    form: MultiDict,
    files: MultiDict,
    upload_dir: str | Path,
    stored: list[str],
) -> list[batches.BatchItem]:
    """The selected rows as batch items. Receipt photos are stored as they are read and
    their keys appended to ``stored``, so the caller can remove them if the batch fails."""
    items = []
    known = {
        line.beneficiary.key: line.beneficiary
        for line in payouts.beneficiary_balances(session, association)
    }
    for key in dict.fromkeys(form.getlist("pay")):
        who = known.get(key)
        if who is None:
            raise NotFound()
        try:
            amount = parse_amount(form.get(f"amount-{key}", ""))
        except ValueError as exc:
            raise AmountNotValid(name=who.name) from exc
        reference = form.get(f"reference-{key}", "")
        if has_control_characters(reference):  # it ends up in the ledger's and CSVs' lines
            raise ReferenceNotOneLine(name=who.name)
        receipt = files.get(f"receipt-{key}")
        receipt_key = None
        if receipt is not None and receipt.filename:
            receipt_key = payout_receipts.store_receipt(receipt.stream, upload_dir)
            stored.append(receipt_key)
        items.append(batches.BatchItem(who, amount, reference, receipt_key))
    return items


#: The days a report may start or end on; the day after the last one must exist too.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or FIRST_DAY <= day <= LAST_DAY else None


def period(args: MultiDict) -> tuple[tuple[datetime | None, datetime | None], dict]:
    """The ``from`` and ``until`` days (inclusive, in the association's time zone) as a
    UTC [start, end) period, and the days themselves for the form; bad dates are ignored."""
    first, last = _day(args.get("from")), _day(args.get("until"))
    start = local_to_utc(first, time(0)) if first else None
    end = local_to_utc(last + timedelta(days=1), time(0)) if last else None
    return (start, end), {"from": first, "until": last}
