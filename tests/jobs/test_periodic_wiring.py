"""The periodic jobs of the sales channels, groups and phone messages run from the queue
as their commands do: a departure short of its minimum is cancelled by the job, and each
job finishes (commits its own work) on a quiet site."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tourism.jobs import periodic, queue
from tourism.jobs.worker import Worker
from tourism.models import Departure, DepartureStatus, JobState

from .conftest import jobs_by_key

NEW_KINDS = ("send-messages", "deliver-webhooks", "offer-waitlist", "check-minimums")


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_each_job_is_scheduled_and_finishes_on_a_quiet_site(session, kind):
    assert kind in {entry.name for entry in periodic.PERIODIC}
    queue.enqueue(session, kind, {}, key=f"{kind}@test")
    session.commit()
    worker = Worker(session, kinds={kind})
    worker.run(burst=True)
    assert jobs_by_key(session)[f"{kind}@test"].state == JobState.DONE


def test_the_check_minimums_job_cancels_a_short_departure(session, make):
    experience = make.experience()
    experience.min_participants, experience.min_cutoff_hours = 4, 48
    short = make.departure(experience, starts_in=timedelta(hours=40))
    make.booking(short, quantities={"adult": 1})
    enough = make.departure(experience, starts_in=timedelta(hours=41))
    make.booking(enough, quantities={"adult": 4})
    session.commit()
    short_id, enough_id = short.id, enough.id

    queue.enqueue(session, "check-minimums", {}, key="check-minimums@test")
    session.commit()
    Worker(session, kinds={"check-minimums"}).run(burst=True)

    assert jobs_by_key(session)["check-minimums@test"].state == JobState.DONE
    session.expire_all()
    assert session.get(Departure, short_id).status == DepartureStatus.CANCELLED
    assert session.get(Departure, enough_id).status == DepartureStatus.SCHEDULED
