"""The ceiling of the hold POST over HTTP: the app's four statements and commit, sent by
psycopg from the thinnest WSGI app, under the same gunicorn.

``bench/http_bench.py`` serves it beside the app (target ``raw hold WSGI``) and posts it the
same form bodies with a new email and client address each, so the app's hold can be read as
a ratio of it: what Flask, the form, CSRF, the session, the rate limit, the response cache and
the ORM cost on top of the database work no implementation can skip.

The statements are those the app sends for a one-ticket pay-on-arrival hold (captured from
``tourism/services/booking``), with the same locks and checks:
1. the departure with its experience, association and active prices;
2. the booking and its line, the caps' advisory locks, the confirmation email's notification
   and its job, all in one statement;
3. the departure locked, the caps' counts read under the lock;
4. the seats claimed only if they fit beside the live holds.
What it leaves out is everything that is not SQL: form checks, CSRF, the session cookie, the
rate limit and the response cache's Redis round trips, the email address's normalisation.
Outside benchmarks nothing uses it.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qs

import psycopg

READ_DEPARTURE = (
    "SELECT d.id, d.starts_at, d.status, d.capacity, d.seats_confirmed, d.group_request_id,"
    " e.id, e.status, e.association_id, a.code, e.currency, e.max_tickets_per_booking,"
    " e.deposit_percent, e.payment_options, pc.id, pc.code, pc.price_cents, pc.position"
    " FROM departures d JOIN experiences e ON e.id = d.experience_id"
    " JOIN associations a ON a.id = e.association_id"
    " LEFT JOIN price_categories pc ON pc.experience_id = e.id AND pc.is_active IS true"
    " WHERE d.id = %(dep)s ORDER BY pc.position, pc.id"
)
INSERT_BOOKING = (
    "WITH new_booking AS (INSERT INTO bookings (departure_id, reference, manage_token,"
    " held_from, submission_key, status, hold_expires_at, payment_method, online_due_cents,"
    " contact_name, contact_email, contact_phone, country, language, special_needs, total_cents,"
    " currency, created_at, confirmed_at, cancel_reason, split_rule_id) VALUES (%(dep)s,"
    " %(reference)s, %(token)s, %(address)s, %(submission)s, 'confirmed', NULL, 'on_arrival', 0,"
    " %(name)s, %(email)s,"
    " %(phone)s, %(country)s, %(language)s, '', %(price)s, %(currency)s, %(now)s, %(now)s, '',"
    " (SELECT id FROM split_rules WHERE experience_id = %(experience)s"
    " AND effective_from <= %(now)s ORDER BY effective_from DESC, version DESC LIMIT 1))"
    " ON CONFLICT DO NOTHING RETURNING id, split_rule_id, contact_email, language),"
    " queued AS (INSERT INTO notifications (key, kind, booking_id, recipient, language,"
    " context, created_at, attempts, last_error) SELECT 'booking:' || CAST(id AS VARCHAR)"
    " || ':confirmed', 'confirmed', id, contact_email, language, '{}', %(now)s, 0, ''"
    " FROM new_booking ON CONFLICT (key) DO NOTHING RETURNING id, key),"
    " enqueued AS (INSERT INTO jobs (kind, key, payload, state, run_at, attempts,"
    " max_attempts, locked_by, last_error, created_at) SELECT 'send-email', 'email:' || key,"
    " '{\"notification_id\": ' || CAST(queued.id AS VARCHAR) || '}', 'queued', %(now)s, 0, 5,"
    " '', '', %(now)s FROM queued ON CONFLICT (key) DO NOTHING RETURNING id),"
    " caps_locks AS (SELECT pg_advisory_xact_lock(1128353793, hashtext(%(email)s)) AS e,"
    " pg_advisory_xact_lock(1128353794, hashtext(%(address)s)) AS a)"
    " INSERT INTO booking_lines (booking_id, price_category_id, quantity, unit_price_cents)"
    " SELECT new_booking.id, %(category)s, 1, %(price)s FROM new_booking JOIN caps_locks ON true"
    " RETURNING booking_lines.id, booking_lines.booking_id,"
    " (SELECT id FROM queued), (SELECT id FROM enqueued)"
)
_OPEN_UNPAID = (
    "(b.status = 'held' AND b.hold_expires_at > %(now)s OR b.status = 'confirmed'"
    " AND b.payment_method = 'on_arrival' AND c.starts_at > %(now)s) AND b.id != %(booking)s"
)
LOCK_AND_COUNT = (
    "SELECT d.status, d.starts_at, d.capacity,"
    " (SELECT count(*) FROM (SELECT b.id FROM bookings b JOIN departures c"
    f" ON b.departure_id = c.id WHERE lower(b.contact_email) = %(email)s AND {_OPEN_UNPAID}"
    " LIMIT 3) x),"
    " (SELECT count(*) FROM (SELECT b.id FROM bookings b JOIN departures c"
    f" ON b.departure_id = c.id WHERE b.held_from = %(address)s AND {_OPEN_UNPAID}"
    " LIMIT 10) y)"
    " FROM departures d WHERE d.id = %(dep)s FOR NO KEY UPDATE"
)
CLAIM = (
    "UPDATE departures SET seats_confirmed = seats_confirmed + 1 WHERE id = %(dep)s"
    " AND seats_confirmed + 1 + coalesce((SELECT sum(l.quantity) FROM booking_lines l"
    " JOIN bookings b ON l.booking_id = b.id WHERE b.departure_id = %(dep)s"
    " AND b.status = 'held' AND b.hold_expires_at > %(now)s), 0) <= capacity RETURNING id"
)
_connection: psycopg.Connection | None = None


def _database() -> psycopg.Connection:
    global _connection  # one connection per gunicorn worker, opened on its first request
    if _connection is None or _connection.closed:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _connection = psycopg.connect(url)
    return _connection


def _hold(form: dict[str, str], address: str) -> str:
    now = datetime.now(UTC).replace(tzinfo=None)
    conn = _database()
    with conn.transaction():
        rows = conn.execute(READ_DEPARTURE, {"dep": int(form["departure"])}).fetchall()
        if not rows:
            raise LookupError("no such departure")
        first = rows[0]
        category = next(row for row in rows if f"qty_{row[14]}" in form)
        params = {
            "dep": first[0],
            "experience": first[6],
            "currency": first[10],
            "category": category[14],
            "price": category[16],
            "reference": first[9] + "-" + secrets.token_hex(5).upper(),
            "token": secrets.token_urlsafe(32),
            "address": address,
            "submission": form.get("submission"),
            "name": form["name"],
            "email": form["email"].strip().lower(),
            "phone": form["phone"],
            "country": form["country"],
            "language": form["language"],
            "now": now,
        }
        line = conn.execute(INSERT_BOOKING, params).fetchone()
        params["booking"] = line[1]
        status, starts_at, capacity, by_email, by_address = conn.execute(
            LOCK_AND_COUNT, params
        ).fetchone()
        if status == "cancelled" or starts_at <= now or by_email >= 3 or by_address >= 10:
            raise LookupError("closed or over a cap")
        if conn.execute(CLAIM, params).fetchone() is None:
            raise LookupError("sold out")
    return params["token"]


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":  # the harness's check that the server is up
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"ok"]
    size = int(environ.get("CONTENT_LENGTH") or 0)
    fields = parse_qs(environ["wsgi.input"].read(size).decode())
    form = {name: values[0] for name, values in fields.items()}
    form["departure"] = environ["PATH_INFO"].split("/")[2]
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR", ""))
    try:
        token = _hold(form, address)
    except LookupError as error:
        start_response("409 Conflict", [("Content-Type", "text/plain; charset=utf-8")])
        return [str(error).encode()]
    start_response("303 See Other", [("Location", f"/bookings/{token}")])
    return [b""]
