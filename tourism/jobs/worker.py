"""Running jobs: claim one, run its handler, mark it done in the same transaction as the
handler's own writes, or record the failure (retry after a backoff, dead letter at the end).

``Worker.run()`` is the loop of ``flask worker``; ``run_now`` runs the jobs a request has
just enqueued, in the request's process, when no worker is deployed (``MAIL_DELIVERY=request``,
the default on one machine: ``make run`` needs nothing else).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import traceback
import uuid
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..database import utcnow, write_transactions
from ..extensions import db
from ..unit_of_work import run_effects
from . import registry, store

log = logging.getLogger(__name__)

#: How often a worker looks for jobs whose lease ran out on their last try (dead letters).
BURY_EVERY_SECONDS = 30.0


def worker_name(suffix: str = "") -> str:
    """Who holds a claimed job: host, process and a random part (a restarted process with
    the same pid is someone else)."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return f"{name}:{suffix}" if suffix else name


def default_lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("JOBS_LEASE_SECONDS", 600))


class Worker:
    """Claims and runs jobs of the registered kinds (or ``kinds``) one at a time."""

    def __init__(
        self,
        session: Session | None = None,
        *,
        name: str | None = None,
        kinds: Iterable[str] | None = None,
        lease: timedelta | None = None,
        batch: int = 1,
    ) -> None:
        self.session = session if session is not None else db.session
        self.name = name or worker_name()
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.lease = lease or default_lease()
        #: Jobs claimed per transaction: more saves commits when jobs are many and quick.
        self.batch = batch
        self.stopping = False
        self.done = 0
        self.failed = 0
        self._next_burial = 0.0

    def _kinds(self) -> frozenset[str]:
        return self.kinds if self.kinds is not None else frozenset(registry.HANDLERS)

    def claim(self, limit: int = 1, ids: list[int] | None = None) -> list[store.Claimed]:
        with write_transactions():
            try:
                if time.monotonic() >= self._next_burial:
                    store.bury_abandoned(self.session, utcnow())
                    self._next_burial = time.monotonic() + BURY_EVERY_SECONDS
                claimed = store.claim(
                    self.session, self.name, utcnow(), self.lease, self._kinds(), limit, ids
                )
                self.session.commit()
            except BaseException:
                self.session.rollback()
                raise
        return claimed

    def run_next(self) -> bool:
        """Claim and run due jobs (``batch`` of them at most); False when there was none."""
        claimed = self.claim(limit=self.batch)
        for job in claimed:
            self.run_claimed(job)
        return bool(claimed)

    def run_claimed(self, job: store.Claimed) -> bool:
        """Run a job this worker claimed; True if it succeeded."""
        session = self.session
        with write_transactions():
            try:
                handler = registry.registered(job.kind)
                if handler.lease is not None:
                    store.extend(session, job.id, self.name, utcnow() + handler.lease)
                    session.commit()
                handler.handler(session, job.payload, job.key)
                finished = store.finish(session, job.id, self.name, utcnow())
                session.commit()
                # What the handler's services asked to do after their commit (a worker's app
                # context never ends, so nothing else would run it).
                run_effects(session)
            except Exception as error:  # any failure: record it, retry later
                session.rollback()
                state = store.fail(session, job, self.name, _describe(error), utcnow())
                session.commit()
                self.failed += 1
                log.warning(
                    "job %s %s (try %s of %s) failed, now %s: %s",
                    job.kind,
                    job.key,
                    job.attempts,
                    job.max_attempts,
                    state.value,
                    error,
                )
                return False
        if not finished:
            log.warning("job %s %s ran after its lease ran out", job.kind, job.key)
        self.done += 1
        return True

    def run(self, *, burst: bool = False, once: bool = False, poll: float = 1.0) -> int:
        """Run jobs until stopped (SIGTERM/SIGINT: the running job finishes first); with
        ``burst`` until none is due, with ``once`` one claim. Returns how many succeeded."""
        previous = self._handle_signals()
        try:
            while not self.stopping:
                try:
                    ran = self.run_next()
                except DBAPIError:
                    if burst or once:
                        raise
                    # The database is away or busy for a moment: wait, then look again.
                    log.exception("could not claim a job; trying again shortly")
                    self.session.rollback()
                    time.sleep(max(poll, 1.0) * 5)
                    continue
                if once:
                    break
                if not ran:
                    if burst:
                        break
                    time.sleep(poll)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.done

    def _handle_signals(self) -> dict:
        previous = {}
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._stop)
        except ValueError:  # not the main thread (tests run workers in threads)
            pass
        return previous

    def _stop(self, _signum, _frame) -> None:
        self.stopping = True


def _describe(error: BaseException) -> str:
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"


def runs_inline() -> bool:
    """Whether jobs enqueued by a request run in its process once it commits
    (``MAIL_DELIVERY=request``, the default) rather than by ``flask worker``."""
    return current_app.config.get("MAIL_DELIVERY", "request") == "request"


def run_now(session: Session, ids: list[int]) -> int:
    """Run the jobs ``ids`` here and now (those still due: one a worker took is skipped);
    returns how many succeeded. For after a commit, never inside a transaction."""
    session.rollback()
    worker = Worker(session, name=worker_name("inline"))
    for job in worker.claim(limit=len(ids), ids=ids):
        worker.run_claimed(job)
    return worker.done


def drain(session: Session, kinds: Iterable[str]) -> int:
    """Run every due job of ``kinds`` here (commands use it where no worker runs)."""
    session.rollback()
    return Worker(session, name=worker_name("command"), kinds=kinds).run(burst=True)
