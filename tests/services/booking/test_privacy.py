"""Special needs (maybe health data) are erased once the visit is past, as the privacy
notice promises; the record that consent was given stays."""

from __future__ import annotations

from datetime import timedelta

from tourism.database import utcnow
from tourism.services.booking.privacy import forget_special_needs


def test_needs_are_erased_only_after_the_visit_plus_the_days_kept(session, make):
    now = utcnow()
    long_ago = make.departure(starts_at=now - timedelta(days=40))
    recent = make.departure(starts_at=now - timedelta(days=5))
    coming = make.departure(starts_at=now + timedelta(days=5))
    old = make.booking(long_ago, special_needs="Asthma", special_needs_consent_at=now)
    kept = [
        make.booking(recent, special_needs="Vegetarian", special_needs_consent_at=now),
        make.booking(coming, special_needs="Wheelchair", special_needs_consent_at=now),
    ]
    session.commit()
    assert forget_special_needs(session, now, timedelta(days=30)) == 1
    session.commit()
    session.expire_all()
    assert old.special_needs == "" and old.special_needs_consent_at is not None
    assert [booking.special_needs for booking in kept] == ["Vegetarian", "Wheelchair"]
    assert forget_special_needs(session, now, timedelta(days=30)) == 0  # safe to run again


def test_the_command_uses_the_setting(app, session, make, runner):
    old = make.booking(
        make.departure(starts_at=utcnow() - timedelta(days=10)), special_needs="Asthma"
    )
    session.commit()
    app.config["SPECIAL_NEEDS_KEEP_DAYS"] = 30
    assert "of 0 booking(s)" in runner.invoke(args=["forget-special-needs"]).output
    result = runner.invoke(args=["forget-special-needs", "--after-days", "7"])
    assert result.exit_code == 0 and "of 1 booking(s)" in result.output
    session.expire_all()
    assert old.special_needs == ""
