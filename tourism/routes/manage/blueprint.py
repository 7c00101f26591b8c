"""The ``manage`` blueprint and what its views share: the acting user, objects looked up through
tenancy (another association's object is simply not found: 404), pages with their error and
status, and redirects after a change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ...errors import DomainError
from ...extensions import db
from ...i18n import current_locale
from ...services.access import tenancy

bp = Blueprint("manage", __name__, url_prefix="/manage")

ID = "int(max=2147483647)"
#: Empty stop rows a new or edited experience starts with; "Add a stop" gives more.
BLANK_STOP_ROWS = 1


@bp.context_processor
def _titles() -> dict:
    return {"experience_title": experience_title}


def experience_title(experience) -> str:
    """An experience's title in the visitor's language (Spanish when missing), never its
    web address: headings are for people."""
    text = experience.text(current_locale())
    return text.title if text else experience.slug


def acting_user():
    return current_user._get_current_object()


def scoped(model, object_id: int, roles=tenancy.MANAGERS):
    return tenancy.get_scoped(db.session, model, object_id, acting_user(), roles)


def page(template: str, status: int = 200, error: DomainError | str | None = None, **context):
    return render_template(template, error=str(error) if error else None, **context), status


def done(message: str, endpoint: str, **values):
    flash(message)
    return redirect(url_for(endpoint, **values), code=303)
