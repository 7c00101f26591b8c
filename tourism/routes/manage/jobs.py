"""The job queue's trouble list for platform admins: dead letters and jobs waiting to retry
after a failure, each with a "retry" button (docs/JOBS.md)."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from ...database import utcnow
from ...extensions import db
from ...jobs import admin, store
from ...unit_of_work import unit_of_work
from ..access import platform_admin_required
from .blueprint import ID, acting_user, bp, done, page


@bp.get("/jobs")
@platform_admin_required
def jobs():
    return page("manage/jobs.html", jobs=store.failing(db.session), now=utcnow())


@bp.post(f"/jobs/<{ID}:job_id>/retry")
@platform_admin_required
def retry_job(job_id: int):
    try:
        with unit_of_work():
            job = admin.retry_job(db.session, job_id, utcnow(), acting_user())
            kind, key = job.kind, job.key
    except store.NotRetriable:
        abort(404)
    message = _("The job %(kind)s (%(key)s) will run again now.", kind=kind, key=key)
    return done(message, "manage.jobs")
