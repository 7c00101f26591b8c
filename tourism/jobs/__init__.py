"""A durable job queue on the application's own database (docs/JOBS.md).

* ``queue.enqueue(session, kind, payload, key=...)`` adds a job in the caller's transaction;
* ``registry.job("kind")`` registers the handler that runs it;
* ``worker.Worker`` claims due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock
  on SQLite) with a lease, retries failures with exponential backoff and makes dead letters
  after ``max_attempts``;
* ``schedule`` enqueues the periodic jobs declared in ``periodic`` once per period.

Import the modules themselves (``from ..jobs import queue``): this package imports nothing,
so services can enqueue without an import circle.
"""
