"""A worker SIGKILLed in the middle of sending an email, then restarted, sends it once.

The worker is a real ``flask worker`` process on the test database with ``CHAKRA_FAULT``
(``tourism.faults``) stopping it where the email job has claimed its job (leased) and built
the message, about to hand it to the mail server. The test kills it there: the email is not
sent, the job stays leased. Once the lease (2 s here) runs out, a new worker takes the job
and sends the email: exactly one in the outbox folder.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from bench.gunicorn_harness import BIN, ROOT, flask, node_environment
from tests.factories import Factories
from tourism.extensions import db
from tourism.models import Job, JobState, Notification
from tourism.services.messages import outbox

pytestmark = pytest.mark.slow

FAULT = "email.sending"


def test_a_worker_killed_mid_send_and_restarted_sends_exactly_one(app, database_url, tmp_path):
    booking = Factories(db.session).booking(contact_email="mid-send@example.org")
    notification = outbox.queue(db.session, booking, "confirmed")
    db.session.commit()
    env = node_environment(database_url, tmp_path, JOBS_LEASE_SECONDS="2")
    mail = tmp_path / "outbox"
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(  # noqa: S603
            [str(BIN / "flask"), "worker", "--poll", "0.2"],
            cwd=ROOT,
            env=env | {"CHAKRA_FAULT": f"{FAULT}:60"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        pattern = re.compile(rf"CHAKRA_FAULT {re.escape(FAULT)} reached in pid (\d+)")
        deadline = time.monotonic() + 60
        while not (found := pattern.search(log_path.read_text())):
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        os.kill(int(found.group(1)), signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)

    db.session.rollback()
    job = db.session.scalar(select(Job).where(Job.kind == outbox.SEND_EMAIL))
    assert job.state == JobState.RUNNING and job.attempts == 1  # leased by the dead worker
    assert not list(mail.glob("*.eml"))
    assert db.session.get(Notification, notification.id).sent_at is None

    time.sleep(2.5)  # the lease runs out
    restarted = flask("worker", "--burst", env=env)
    assert "Ran 1 job(s); 0 failed." in restarted.stdout, restarted.stdout + restarted.stderr
    assert len(list(mail.glob("*.eml"))) == 1
    db.session.rollback()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE and job.attempts == 2
    sent = db.session.get(Notification, notification.id)
    assert sent.sent_at is not None and sent.attempts == 1  # the killed try left no trace
    # Another worker later finds nothing to do.
    assert "Ran 0 job(s)" in flask("worker", "--burst", env=env).stdout
    assert len(list(mail.glob("*.eml"))) == 1
