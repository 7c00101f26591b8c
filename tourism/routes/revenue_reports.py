"""An association's revenue reports: the dashboard with its charts, the charts' stylesheet
and each table as CSV. Part of ``treasury.bp``."""

from __future__ import annotations

from flask import Response, request

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import current_locale
from ..models import Association
from ..report_charts import charts, group_label, percent_label, stylesheet
from ..services.reports import exports as report_exports
from ..services.reports import periods
from ..services.reports import revenue as reports
from ..timefmt import display_zone, local_today
from .access import admins_only
from .manage.blueprint import ID, page
from .treasury import bp, csv_response, treasurer_association

REPORT_TABLES = "any(" + ", ".join(report_exports.TABLES) + ")"


def _report(association: Association) -> reports.Report:
    """The report for the months in the query string; ``InvalidPeriod`` (400) when bad."""
    span = periods.parse_period(
        request.args.get("from"), request.args.get("to"), local_today(), display_zone()
    )
    return reports.revenue_report(db.session, association, span, current_locale(), utcnow())


@bp.get(f"/manage/associations/<{ID}:association_id>/reports")
@admins_only
def reports_dashboard(association_id: int):
    association = treasurer_association(association_id)
    context = dict(
        association=association,
        label=group_label,
        percent=percent_label,
        default=periods.default_period(local_today(), display_zone()),
    )
    try:
        report = _report(association)
    except DomainError as error:
        return page("treasury/reports.html", error.status_code, error, report=None, **context)
    return page("treasury/reports.html", report=report, charts=charts(report), **context)


@bp.get("/manage/reports/charts.css")
def chart_styles():
    """The charts' CSS (no data in it): a stylesheet, since the CSP refuses inline styles."""
    response = Response(stylesheet(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get(f"/manage/associations/<{ID}:association_id>/reports/<{REPORT_TABLES}:table>.csv")
@admins_only
def reports_csv(association_id: int, table: str):
    association = treasurer_association(association_id)
    try:
        report = _report(association)
    except DomainError as error:
        return Response(str(error), status=error.status_code, mimetype="text/plain")
    header, rows = report_exports.table(report, table)
    span = report.period.months
    return csv_response(f"{table}-{association.slug}-{span[0]}-{span[-1]}.csv", header, rows)
