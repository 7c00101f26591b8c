"""CSV tables of a revenue report (``services.reports``): one table per dashboard chart.

Headers are stable, untranslated column names for spreadsheets; amounts are decimal strings
made from integer cents (as in ``treasury_exports``), percentages decimal strings too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ...money import decimal_text
from .revenue import Report, Share

CURRENCY = "USD"


def _percent(share: Share) -> str:
    return "" if share.percent is None else str(share.percent)


def _months(report: Report) -> Iterable[list]:
    for m in report.months:
        yield [
            m.month,
            decimal_text(m.gross_cents),
            decimal_text(m.refunded_cents),
            decimal_text(m.disputes_lost_cents),
            decimal_text(m.net_cents),
            CURRENCY,
        ]


def _experiences(report: Report) -> Iterable[list]:
    for e in report.experiences:
        gross, net = decimal_text(e.gross_cents), decimal_text(e.net_cents)
        yield [e.experience_id, e.title, gross, net, CURRENCY]


def _shares(shares: list[Share]) -> Iterable[list]:
    for share in shares:
        yield [share.group, decimal_text(share.cents), _percent(share), CURRENCY]


def _visitors(report: Report) -> Iterable[list]:
    for v in report.visitors:
        yield [v.month, v.bookings, v.visitors]


#: table name → (header, rows of a report)
TABLES: dict[str, tuple[list[str], Callable[[Report], Iterable[list]]]] = {
    "months": (
        ["month", "gross", "refunded", "disputes_lost", "net", "currency"],
        _months,
    ),
    "experiences": (["experience_id", "experience", "gross", "net", "currency"], _experiences),
    "beneficiaries": (
        ["beneficiary", "amount", "percent", "currency"],
        lambda report: _shares(report.beneficiaries),
    ),
    "visitors": (["month", "bookings", "visitors"], _visitors),
    "families": (
        ["representative_gender", "amount", "percent", "currency"],
        lambda report: _shares(report.families),
    ),
    "guides": (
        ["guide_age", "amount", "percent", "currency"],
        lambda report: _shares(report.guides),
    ),
}


def table(report: Report, name: str) -> tuple[list[str], Iterable[list]]:
    """The header and rows of table ``name`` (a key of ``TABLES``)."""
    header, rows = TABLES[name]
    return header, rows(report)
