"""Flask commands: demo data once, departures from schedules, sweeping holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tourism.database import utcnow
from tourism.models import (
    Association,
    Booking,
    BookingStatus,
    Departure,
    DepartureGuide,
    Experience,
    ExperienceStatus,
    GroupRequest,
    GuideRole,
    LedgerTransaction,
    Notification,
    Photo,
    ScheduleGuide,
    SplitRule,
)
from tourism.services.ledger import checks


def test_seed_demo_loads_the_three_associations_once(runner, session):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    names = set(session.scalars(select(Association.slug)))
    assert {"kallari", "winak", "asopromas"} <= names
    published = session.scalar(
        select(func.count(Experience.id)).where(Experience.status == ExperienceStatus.PUBLISHED)
    )
    assert published >= 3
    assert session.scalar(select(func.count(Departure.id))) > 0
    # Every published experience has a split rule, and the replayed visits left a sound
    # ledger with money released to families and a payout settlement.
    ruled = session.scalar(select(func.count(func.distinct(SplitRule.experience_id))))
    assert ruled == published
    kinds = dict(
        session.execute(
            select(LedgerTransaction.kind, func.count(LedgerTransaction.id)).group_by(
                LedgerTransaction.kind
            )
        ).all()
    )
    for kind in ("payment", "cash", "refund", "release", "payout"):
        assert kinds.get(kind, 0) > 0, kind
    assert checks.check(session) == []
    # Demo photos went through the photo service into the uploads folder.
    stored = session.scalars(select(Photo)).all()
    assert len(stored) >= 5
    folder = Path(runner.app.config["UPLOAD_DIR"])
    for photo in stored:
        assert photo.alt_es and photo.alt_en
        for width in photo.widths.split(","):
            assert (folder / f"{photo.key}-{width}.webp").is_file()
    # Two group requests, one quoted; the requester's private link is printed, since no
    # email carries it (the demo sends none).
    assert session.scalar(select(func.count(GroupRequest.id))) == 2
    assert session.scalar(select(func.count(Notification.id))) == 0
    school = session.scalars(select(GroupRequest).where(GroupRequest.quotes.any())).one()
    assert f"/group-requests/{school.token}" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "nothing to do" in again.output
    assert f"/group-requests/{school.token}" in again.output
    assert session.scalar(select(func.count(GroupRequest.id))) == 2


def test_generate_departures_is_idempotent(runner, session, make):
    make.schedule()
    session.commit()
    first = runner.invoke(args=["generate-departures", "--days", "30"])
    assert first.exit_code == 0, first.output
    count = session.scalar(select(func.count(Departure.id)))
    assert count > 0
    runner.invoke(args=["generate-departures", "--days", "30"])
    assert session.scalar(select(func.count(Departure.id))) == count


def test_expire_holds_command(runner, session, make):
    stale = make.booking(status=BookingStatus.HELD)
    stale.hold_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    session.expire_all()
    assert session.get(Booking, stale.id).status == BookingStatus.EXPIRED


def test_seed_demo_refuses_production_settings_without_the_explicit_flag(runner, session):
    runner.app.config["CHAKRA_ENV"] = "production"
    try:
        refused = runner.invoke(args=["seed-demo"])
        assert refused.exit_code == 1
        assert "Refusing to load the demo data: CHAKRA_ENV is production" in refused.output
        assert "--i-know-this-is-production" in refused.output
        assert session.scalar(select(func.count(Association.id))) == 0
        session.rollback()  # end the test's read, as a separate process would have none
        allowed = runner.invoke(args=["seed-demo", "--i-know-this-is-production"])
        assert allowed.exit_code == 0, allowed.output
        assert session.scalar(select(func.count(Association.id))) > 0
    finally:
        runner.app.config["CHAKRA_ENV"] = "development"


def test_generate_departures_gives_the_schedules_default_guides(runner, session, make):
    schedule = make.schedule()
    guide = make.guide(schedule.experience.association)
    session.add(ScheduleGuide(schedule=schedule, user=guide, role=GuideRole.LEAD))
    session.commit()
    result = runner.invoke(args=["generate-departures", "--days", "14"])
    assert result.exit_code == 0, result.output
    coming = session.scalar(select(func.count(Departure.id)).where(Departure.starts_at > utcnow()))
    assert coming > 0
    # Every departure still to come has the guide (one earlier today has already started).
    assert (
        session.scalar(
            select(func.count(DepartureGuide.id)).where(DepartureGuide.user_id == guide.id)
        )
        == coming
    )
