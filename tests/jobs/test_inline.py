"""Where no worker runs (``MAIL_DELIVERY=request``, ``make run``) a request's jobs run in its
process right after its commit; with ``worker`` they wait for ``flask worker``."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import Factories
from tests.routes.test_payments import form_for
from tourism.extensions import db
from tourism.models import Job, JobState


def _book(app) -> None:
    departure = Factories(db.session).departure(capacity=8)
    response = app.test_client().post(
        f"/departures/{departure.id}/book", data=form_for(departure, "on_arrival")
    )
    assert response.status_code == 303


def test_a_request_runs_its_email_job_after_its_commit(make_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox), MAIL_DELIVERY="request")
    with app.app_context():
        _book(app)
        db.session.expire_all()
        jobs = db.session.scalars(select(Job)).all()
        assert [(job.kind, job.state, job.attempts) for job in jobs] == [
            ("send-email", JobState.DONE, 1)
        ]
        assert len(list(outbox.glob("*.eml"))) == 1


def test_with_workers_the_request_only_enqueues(make_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox), MAIL_DELIVERY="worker")
    with app.app_context():
        _book(app)
        db.session.expire_all()
        job = db.session.scalars(select(Job)).one()
        assert job.state == JobState.QUEUED and not list(outbox.glob("*.eml"))
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        assert "Ran 1 job(s); 0 failed." in result.output
        assert len(list(outbox.glob("*.eml"))) == 1
        db.session.expire_all()
        assert db.session.get(Job, job.id).state == JobState.DONE
