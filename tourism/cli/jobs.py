"""``flask worker`` and ``flask scheduler``: the processes that run the job queue
(``tourism.jobs``, docs/JOBS.md), plus ``flask retry-job`` for a dead letter."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask

from ..database import utcnow
from ..extensions import db
from ..jobs import admin, periodic, schedule, store, worker
from ..services.messages import outbox  # noqa: F401  (registers the send-email handler)
from ..unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run at most one job, then exit.")
@click.option("--burst", is_flag=True, help="Run jobs until none is due, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks when idle.")
@click.option("--kind", "kinds", multiple=True, help="Only jobs of this kind (repeatable).")
@click.option(
    "--batch",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Jobs claimed per transaction (more: fewer commits, longer leases held).",
)
def worker_command(
    once: bool, burst: bool, poll: float, kinds: tuple[str, ...], batch: int
) -> None:
    """Run queued jobs (emails, scheduled work) until stopped; SIGTERM lets the running job
    finish. Start as many as you like, on any node: no job is run by two at once."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    runner = worker.Worker(kinds=kinds or None, batch=batch)
    click.echo(f"Worker {runner.name} started.", err=True)
    done = runner.run(burst=burst, once=once, poll=poll)
    click.echo(f"Ran {done} job(s); {runner.failed} failed.")


def tick(now=None) -> list[str]:
    """Enqueue the periodic jobs due now; returns the keys newly enqueued."""
    with unit_of_work():
        return schedule.enqueue_due(db.session, periodic.PERIODIC, now or utcnow())


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Enqueue what is due now, then exit.")
@click.option("--every", default=20.0, show_default=True, help="Seconds between looks.")
def scheduler_command(once: bool, every: float) -> None:
    """Enqueue each periodic job once per period (tourism/jobs/periodic.py). Safe to run on
    several nodes at once: a period's job has one key."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    while True:
        try:
            for key in tick():
                click.echo(f"Enqueued {key}")
        except Exception:  # the database may be away for a moment: try again next look
            log.exception("could not enqueue the periodic jobs")
            if once:
                raise
        if once:
            return
        time.sleep(every)


@click.command("retry-job")
@click.argument("job_id", type=int)
def retry_job_command(job_id: int) -> None:
    """Queue a dead or failing job to run again now, with its full number of tries."""
    try:
        with unit_of_work():
            job = admin.retry_job(db.session, job_id, utcnow())
    except store.NotRetriable as error:
        raise click.ClickException(f"Job {job_id} is not dead or waiting to retry.") from error
    click.echo(f"Job {job.id} ({job.kind} {job.key}) queued again.")


def register(app: Flask) -> None:
    for command in (worker_command, scheduler_command, retry_job_command):
        app.cli.add_command(command)
