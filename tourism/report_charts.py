"""Server-side SVG charts of a revenue report (``services.reports``), drawn with pygal.

The charts are inline ``<svg>`` that need no JavaScript: pygal's tooltip scripts are turned
off (``js=[]``) and its inline configuration ``<script>`` is removed from the tree. Its
``<style>`` is removed too and served as a stylesheet (``stylesheet``), so the site's
Content-Security-Policy (no inline scripts or styles) holds. Values stay integer cents; only the
labels are formatted as money. Each chart repeats a table the page shows under it.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from functools import lru_cache

import pygal
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from pygal.style import Style

from .money import format_money
from .services.reports.revenue import Report, Share

# pygal registers an import hook for its map plugins (``pygal.maps.*``, unused here) that
# only has the legacy ``find_module``: from then on every import the other finders miss
# warns (ImportWarning), which breaks unrelated lazy imports under ``-W error``.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

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

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=16,
    colors=("#2f6b3a", "#b5651d", "#3a6ea5", "#8c4f8f", "#c9a227", "#6b6b6b"),
)


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def percent_label(value: Decimal | None) -> str:
    """``75,0 %`` / ``75.0 %`` in the visitor's locale; a dash when there is nothing to share."""
    return "—" if value is None else format_decimal(value, format="#,##0.0") + " %"


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Inline:
    """pygal's xml filter: give the chart a fixed id (``chart-<key>``), keep its CSS aside
    (``css``) and drop everything inline that a strict Content-Security-Policy refuses: the
    ``<style>`` and ``<script>`` elements, and the JavaScript tooltip with its ``style``."""

    def __init__(self, key: str) -> None:
        self.key, self.css = key, ""

    def __call__(self, tree):
        generated = tree.get("id", "")
        tree.set("id", f"chart-{self.key}")
        for parent in list(tree.iter()):
            for child in list(parent):
                name = _local(child.tag)
                if name == "style":
                    self.css += (child.text or "").replace(generated, f"chart-{self.key}")
                if name in ("style", "script") or "tooltip" in child.get("class", "").split():
                    parent.remove(child)
            parent.attrib.pop("style", None)
        return tree


def _config(title: str, **overrides) -> dict:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 360,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "no_data_text": _("No data for these months"),
        "value_formatter": lambda cents: format_money(int(cents)),
        **overrides,
    }


def _render(chart, key: str) -> Markup:
    chart.add_xml_filter(_Inline(key))
    # pygal builds the tree with ElementTree, which escapes every label it is given.
    return Markup(chart.render(is_unicode=True))  # noqa: S704


def _bars(
    key: str, title: str, labels: list[str], series: dict[str, list[int]], **overrides
) -> Markup:
    chart = pygal.Bar(**_config(title, x_label_rotation=30 if len(labels) > 8 else 0, **overrides))
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return _render(chart, key)


def _pie(key: str, title: str, shares: list[Share]) -> Markup:
    """A pie of the positive shares (a pie cannot show a negative one; the table does)."""
    chart = pygal.Pie(**_config(title, inner_radius=0.45))
    for share in shares:
        if share.cents > 0:
            chart.add(group_label(share.group), share.cents)
    return _render(chart, key)


#: Each chart's type and the most series it can have (its CSS has a colour per series).
KINDS = {
    "months": (pygal.Bar, 2),
    "experiences": (pygal.HorizontalBar, 1),
    "beneficiaries": (pygal.Pie, 6),
    "visitors": (pygal.Bar, 1),
    "families": (pygal.Pie, 5),
    "guides": (pygal.Pie, 4),
}


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS of every chart, served from our origin (a strict CSP refuses inline styles).

    Made by pygal itself for each chart's fixed id, type and largest number of series, so it
    follows whatever pygal version is installed."""
    parts = []
    for key, (kind, series) in KINDS.items():
        chart = kind(**_config(key, value_formatter=str))
        for n in range(series):
            chart.add(str(n), [1])
        keeper = _Inline(key)
        chart.add_xml_filter(keeper)
        chart.render(is_unicode=True)
        parts.append(keeper.css)
    return "\n".join(parts) + "\n"


def _whole_numbers(top: int) -> list[int]:
    """About ten whole-number ticks from 0 to at least ``top`` (people come whole)."""
    step = max(1, -(-top // 10))
    return list(range(0, max(top, 1) + step, step))


def charts(report: Report) -> dict[str, Markup]:
    """The dashboard's charts, keyed like the CSV tables they repeat."""
    months = [m.month for m in report.months]
    visitors = [v.visitors for v in report.visitors]
    experiences = pygal.HorizontalBar(**_config(_("Net revenue per experience"), show_legend=False))
    experiences.x_labels = [e.title for e in report.experiences]
    experiences.add(_("Net"), [e.net_cents for e in report.experiences])
    return {
        "months": _bars(
            "months",
            _("Revenue per month"),
            months,
            {
                _("Gross"): [m.gross_cents for m in report.months],
                _("Net of refunds and lost disputes"): [m.net_cents for m in report.months],
            },
        ),
        "experiences": _render(experiences, "experiences"),
        "beneficiaries": _pie("beneficiaries", _("Where the money went"), report.beneficiaries),
        "visitors": _bars(
            "visitors",
            _("Visitors per month"),
            months,
            {_("Visitors"): visitors},
            value_formatter=lambda n: format_decimal(n, format="#,##0"),
            y_labels=_whole_numbers(max(visitors, default=0)),
            show_legend=False,
        ),
        "families": _pie("families", _("Families' income by representative"), report.families),
        "guides": _pie("guides", _("Guides' income by age"), report.guides),
    }
