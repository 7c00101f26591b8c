"""/manage/jobs: platform admins see dead letters and failing jobs and retry them; nobody
else reaches the page (404)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, ES, login
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import AuditEvent, Job, JobState

#: Fixtures shared with the other management tests (found by pytest under these names).
admin, app, kallari, make = shared.admin, shared.app, shared.kallari, shared.make


def _job(key: str, state: JobState, last_error: str = "", attempts: int = 0) -> Job:
    now = utcnow()
    job = Job(
        kind="send-email",
        key=key,
        payload="{}",
        state=state,
        run_at=now + timedelta(minutes=4),
        attempts=attempts,
        max_attempts=5,
        last_error=last_error,
        finished_at=now if state in (JobState.DEAD, JobState.DONE) else None,
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_a_platform_admin_sees_failing_jobs_and_retries_a_dead_letter(client, make):
    dead = _job("email:dead", JobState.DEAD, "EmailNotSent: 550 mailbox unavailable", 5)
    _job("email:waiting", JobState.QUEUED, "EmailNotSent: timed out", 2)
    _job("email:fine", JobState.QUEUED)
    _job("email:done", JobState.DONE, attempts=1)
    login(client, make.user(password="", is_platform_admin=True))
    html = client.get("/manage/jobs", headers=EN).get_data(as_text=True)
    assert "email:dead" in html and "550 mailbox unavailable" in html and "Dead letter" in html
    assert "email:waiting" in html and "Next try" in html and "2 of 5" in html
    assert "email:fine" not in html and "email:done" not in html
    assert "Trabajos en segundo plano" in client.get("/manage/jobs", headers=ES).get_data(
        as_text=True
    )

    response = client.post(f"/manage/jobs/{dead.id}/retry", headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/jobs")
    db.session.expire_all()
    job = db.session.get(Job, dead.id)
    assert job.state == JobState.QUEUED and job.attempts == 0 and job.run_at <= utcnow()
    page = client.get("/manage/jobs", headers=EN).get_data(as_text=True)
    assert "will run again now" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.retried")).one()
    assert event.target == f"jobs:{dead.id}" and event.detail == "send-email email:dead"
    assert event.actor_id is not None


def test_a_done_or_unknown_job_cannot_be_retried(client, make):
    done = _job("email:done", JobState.DONE, attempts=1)
    login(client, make.user(password="", is_platform_admin=True))
    assert client.post(f"/manage/jobs/{done.id}/retry").status_code == 404
    assert client.post("/manage/jobs/999999/retry").status_code == 404
    assert db.session.get(Job, done.id).state == JobState.DONE
    html = client.get("/manage/jobs", headers=EN).get_data(as_text=True)
    assert "No failing jobs" in html


def test_association_admins_do_not_reach_the_jobs(client, admin):
    dead = _job("email:dead", JobState.DEAD, "x", 5)
    assert client.get("/manage/jobs").status_code == 404
    assert client.post(f"/manage/jobs/{dead.id}/retry").status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(Job.state)) == JobState.DEAD
