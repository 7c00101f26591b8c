"""Periodic jobs: each declared once (``periodic.PERIODIC``) with a period and an offset, and
enqueued once per period whatever the number of schedulers.

The key of a period's job is ``<name>@<period start>``: two ``flask scheduler`` processes (on
two nodes, or an old and a new one during a release) enqueue the same key, and the unique key
keeps one. A scheduler that was down catches up with the current period only (every periodic
job is safe to run late; none needs each missed period replayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from . import queue

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Periodic:
    """Run the job ``name`` (its kind: register a handler under the same name) every
    ``every``, ``at`` past the start of each period (UTC): ``every=1 day, at=13 h`` is daily
    at 13:00 UTC, 08:00 in Ecuador."""

    name: str
    every: timedelta
    at: timedelta = timedelta(0)
    description: str = ""

    def __post_init__(self) -> None:
        if self.every <= timedelta(0) or not timedelta(0) <= self.at < self.every:
            raise ValueError(f"{self.name}: need every > 0 and 0 <= at < every")

    def period_start(self, now: datetime) -> datetime:
        """The start of the period ``now`` is in."""
        periods = (now - EPOCH - self.at) // self.every
        return EPOCH + self.at + periods * self.every

    def key(self, now: datetime) -> str:
        return f"{self.name}@{self.period_start(now).strftime('%Y-%m-%dT%H:%MZ')}"


def enqueue_due(session: Session, periodic: tuple[Periodic, ...], now: datetime) -> list[str]:
    """Enqueue each periodic job for the period ``now`` is in, unless it is already there;
    returns the keys newly enqueued. The caller commits."""
    added = []
    for entry in periodic:
        key = entry.key(now)
        payload = {"period": key.partition("@")[2]}
        if queue.enqueue(session, entry.name, payload, key=key, run_at=now):
            added.append(key)
    return added
