"""The revenue dashboard's six charts (``services.reports.revenue``), drawn by
``tourism.charts`` as plain SVG: no script, no inline style, each chart repeating a table the
page shows under it. Values stay integer cents; only the labels are formatted as money."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .charts import Chart, bar_chart, donut_chart, horizontal_bar_chart
from .charts import stylesheet as chart_stylesheet
from .money import format_money
from .services.reports.revenue import Report, Share
from .timefmt import fmt_month

#: Labels of the report's groups (beneficiary types, genders, ages).
GROUP_LABELS = {
    "family": _l("Families"),
    "guide": _l("Guides"),
    "association_fund": _l("Association fund"),
    "conservation_fund": _l("Conservation fund"),
    "platform": _l("Platform commission"),
    "processor_fees": _l("Card processing fees"),
    "female": _l("Represented by a woman"),
    "male": _l("Represented by a man"),
    "other": _l("Other"),
    "not_recorded": _l("Not recorded"),
    "unassigned": _l("Not assigned yet"),
    "under_30": _l("Under 30"),
    "30_or_over": _l("30 or over"),
}

#: The dashboard's charts, keyed like the CSV tables they repeat.
KEYS = ("months", "experiences", "beneficiaries", "visitors", "families", "guides")


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def percent_label(value: Decimal | None) -> str:
    """``75,0 %`` / ``75.0 %`` in the visitor's locale; a dash when there is nothing to share."""
    return "—" if value is None else format_decimal(value, format="#,##0.0") + " %"


def _money(cents: int) -> str:
    return format_money(int(cents))


def _people(count: int) -> str:
    return format_decimal(count, format="#,##0")


def _shares(key: str, title: str, shares: list[Share]) -> Chart:
    items = [(group_label(share.group), share.cents) for share in shares]
    return donut_chart(key, title, items, _money, _("No data for these months"))


def charts(report: Report) -> dict[str, Chart]:
    """The dashboard's charts, keyed like the CSV tables they repeat."""
    months = [fmt_month(m.month, "short") for m in report.months]
    empty = _("No data for these months")
    return {
        "months": bar_chart(
            "months",
            _("Revenue per month"),
            months,
            {
                _("Gross"): [m.gross_cents for m in report.months],
                _("Net of refunds and lost disputes"): [m.net_cents for m in report.months],
            },
            _money,
            empty,
        ),
        "experiences": horizontal_bar_chart(
            "experiences",
            _("Net revenue per experience"),
            [(e.title, e.net_cents) for e in report.experiences],
            _money,
            empty,
        ),
        "beneficiaries": _shares("beneficiaries", _("Where the money went"), report.beneficiaries),
        "visitors": bar_chart(
            "visitors",
            _("Visitors per month"),
            months,
            {_("Visitors"): [v.visitors for v in report.visitors]},
            _people,
            empty,
            whole=True,
        ),
        "families": _shares("families", _("Families' income by representative"), report.families),
        "guides": _shares("guides", _("Guides' income by age"), report.guides),
    }


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The charts' CSS, served from our origin (a strict CSP refuses inline styles)."""
    return chart_stylesheet(KEYS)
