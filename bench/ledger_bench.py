"""Ledger benchmark: the revenue dashboard's queries and the ledger check over ~1,000,000
ledger entries on PostgreSQL.

    .venv/bin/python bench/ledger_bench.py [--entries 1000000] [--repeat 3] [--seed 7]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench]
        [--explain] [--measure-only]

(``LEDGER_BENCH_DATABASE_URL`` works too.) It drops and recreates the benchmark database
(the ledger's triggers refuse DELETE, so a rerun starts from an empty database), migrates
it with the project's migrations, then bulk-loads (COPY) several associations with hundreds
of families and dozens of guides, two years of departures and bookings, and their money:
card and cash payments split with the project's own ``split_payment``, refunds (full and
partial), disputes (won and lost), releases after each departure, monthly payouts to
families and guides, processor payouts and banked cash. Every transaction sums to zero and
names what it is about, so ``ledger-check`` finds nothing. Then it times each dashboard
query (``services.reports``) for the busiest association and the ledger check, and prints
the row counts. Not the ``test`` database: refused by name.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench"
ASSOCIATIONS, FAMILIES, GUIDES, EXPERIENCES = 5, 60, 16, 8  # the last three per association
MONTHS = 24


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop the database {name!r}")
    admin = plain(url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


class Books:
    """Ledger rows in the making: accounts by key, transactions, entries, running sums."""

    def __init__(self, created: datetime) -> None:
        from tourism.models.ledger import LedgerAccount

        self.key_for = LedgerAccount.key_for
        self.created = created
        self.accounts: dict[str, tuple] = {}
        self.keys: dict[int, str] = {}
        self.transactions: list[tuple] = []
        self.entries: list[tuple] = []
        #: (account id, "YYYY-MM") → what was released to it (minus claw-backs) that month
        self.released: dict[tuple[int, str], int] = defaultdict(int)
        #: (association, "YYYY-MM") → cents by settlement account kind moved that month
        self.settled: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def account(self, kind, association, family=None, user=None, state=None) -> int:
        key = self.key_for(kind, association, family, user, state)
        if key not in self.accounts:
            row = (len(self.accounts) + 1, key, kind, association, family, user, state)
            self.accounts[key] = row + (self.created,)
            self.keys[row[0]] = key
        return self.accounts[key][0]

    def post(self, when, kind, lines, booking=None, payment=None, refund=None, dispute=None,
             reverses=None, memo="") -> int:  # fmt: skip
        lines = [(account, cents) for account, cents in lines if cents]
        assert lines and sum(c for _, c in lines) == 0, (kind, lines)
        tid = len(self.transactions) + 1
        self.transactions.append(
            (tid, when, kind, booking, payment, refund, dispute, reverses, memo)
        )
        for account, cents in lines:
            self.entries.append((len(self.entries) + 1, tid, account, cents, "USD"))
        return tid


def build(entries_wanted: int, seed: int, now: datetime) -> dict[str, list]:
    """Every row of the benchmark, as lists of tuples per table (ids assigned here)."""
    from tourism.services.ledger.splits import Member, Party, Share, SplitRule, split_payment

    rng = random.Random(seed)
    start = now - timedelta(days=30 * MONTHS)
    books = Books(start)
    rows: dict[str, list] = defaultdict(list)
    rule = SplitRule(
        (
            Share(Party.FAMILIES, 5_000),
            Share(Party.GUIDES, 2_000, 300),
            Share(Party.ASSOCIATION_FUND, 1_500),
            Share(Party.CONSERVATION_FUND, 500),
            Share(Party.PLATFORM, 1_000),
        )
    )
    experiences = []  # (experience id, association id, price, [(family, weight)], [guides])
    family_id = user_id = experience_id = stop_id = 0
    for a in range(1, ASSOCIATIONS + 1):
        code = "B" + chr(ord("A") + a - 1) + "X"
        rows["associations"].append(
            (a, f"bench-{a}", f"Bench association {a}", code, "napo", 2000, "", "",
             f"office{a}@example.org", "", start)
        )  # fmt: skip
        families = []
        for _ in range(FAMILIES):
            family_id += 1
            gender = rng.choice(["female", "female", "male", None])
            rows["families"].append(
                (family_id, a, f"Familia {family_id}", "", True, start, "", "", "", gender,
                 True, None)
            )  # fmt: skip
            families.append(family_id)
        guides = []
        for _ in range(GUIDES):
            user_id += 1
            rows["users"].append(
                (user_id, f"guide{user_id}@example.org", f"Guide {user_id}", None, None,
                 False, True, start, None)
            )  # fmt: skip
            young = rng.choice([True, False, None])
            rows["memberships"].append(
                (user_id, user_id, a, "guide", start, "", "", "", young, None)
            )
            guides.append(user_id)
        for _ in range(EXPERIENCES):
            experience_id += 1
            price = rng.randrange(2_500, 9_001, 500)
            rows["experiences"].append(
                (experience_id, a, f"bench-route-{experience_id}", "published", "napo", 240,
                 "es,en", "USD", 10, "[]", start, "card", 30)
            )  # fmt: skip
            for locale in ("es", "en"):
                rows["experience_texts"].append(
                    (2 * experience_id - (locale == "es"), experience_id, locale,
                     f"Ruta {experience_id} ({locale})", "", "", "", "")
                )  # fmt: skip
            rows["price_categories"].append((experience_id, experience_id, "adult", price, 0, True))
            hosts = []
            for position, family in enumerate(rng.sample(families, rng.choice([2, 3]))):
                stop_id += 1
                rows["stops"].append((stop_id, experience_id, position, family, None))
                hosts.append((family, rng.choice([1, 2, 3])))
            experiences.append((experience_id, a, price, hosts, guides))

    departures = []  # (id, experience tuple, starts_at)
    for experience in experiences:
        day = start + timedelta(days=rng.randrange(3), hours=13, minutes=30)
        while day < now + timedelta(days=30):
            departures.append((len(departures) + 1, experience, day))
            rows["departures"].append(
                (len(departures), experience[0], None, day, day + timedelta(hours=4), 40,
                 "scheduled", "", start)
            )  # fmt: skip
            day += timedelta(days=rng.choice([1, 2, 3]))

    def month(moment: datetime) -> str:
        return (moment - timedelta(hours=5)).strftime("%Y-%m")  # Ecuador: UTC-5, no DST

    payment_id = refund_id = dispute_id = 0
    booking_id = 0
    while len(books.entries) < entries_wanted:
        did, (eid, a, price, hosts, guides), starts = rng.choice(departures)
        booking_id += 1
        people = rng.randint(1, 6)
        gross = people * price
        created = starts - timedelta(days=rng.uniform(1, 40))
        cash = rng.random() < 0.2
        paid_at = starts + timedelta(minutes=20) if cash else created + timedelta(minutes=5)
        if paid_at > now:
            cash, paid_at = False, created + timedelta(minutes=5)
        roll, fate = rng.random(), rng.random()
        full_refund = not cash and roll < 0.06
        half_refund = not cash and 0.06 <= roll < 0.09
        status = "refunded" if full_refund else "confirmed"
        rows["bookings"].append(
            (booking_id, did, f"BX{booking_id:010d}", f"bench-{booking_id}", status, None,
             "on_arrival" if cash else "card", "Bench Visitor", "visitor@example.org", "",
             "EC", "es", "", gross, "USD", created, created, paid_at if full_refund else None,
             None, 0 if cash else gross, "", None, None)
        )  # fmt: skip
        rows["booking_lines"].append((booking_id, booking_id, eid, people, price))

        fee = 0 if cash else gross * 39 // 1000 + 30
        payment_id += 1
        rows["payments"].append(
            (payment_id, booking_id, "cash" if cash else "stripe",
             None if cash else f"pi_bench_{payment_id}", None if cash else f"ch_bench_{payment_id}",
             1, gross, "USD", fee, "succeeded", "", created, paid_at, None, None)
        )  # fmt: skip
        crew = rng.sample(guides, rng.choice([1, 1, 2]))
        split = split_payment(
            gross, fee, people, rule,
            families=[Member(f, w) for f, w in hosts], guides=[Member(g) for g in crew],
        )  # fmt: skip
        settlement = books.account("cash_held" if cash else "stripe_clearing", a)
        fees = books.account("processor_fees", a)
        sale = Sale(a, gross, fee, books.account("association_fund", a, state="pending"))
        for p in split.portions:
            family = p.member_id if p.party == Party.FAMILIES else None
            user = p.member_id if p.party == Party.GUIDES else None
            pending, available = (
                books.account(KINDS[p.party], a, family, user, state)
                for state in ("pending", "available")
            )
            sale.shares.append((pending, available, p.cents))
            sale.held[pending] = p.cents
        books.post(
            paid_at, "cash" if cash else "payment",
            [(settlement, gross), (fees, -fee), *[(acc, -c) for acc, _, c in sale.shares]],
            booking=booking_id, payment=payment_id,
        )  # fmt: skip
        settled = books.settled[(a, month(paid_at))]
        settled["cash_held" if cash else "stripe_clearing"] += gross
        settled["processor_fees"] -= fee

        if full_refund or half_refund:
            refund_id += 1
            amount = gross if full_refund else gross // 2
            when = min(created + timedelta(days=1), starts - timedelta(hours=1))
            rows["refunds"].append(
                (refund_id, payment_id, f"re_bench_{refund_id}", amount, "tourist_cancelled",
                 "succeeded", when)
            )  # fmt: skip
            books.post(
                when, "refund", [(settlement, -amount), *claw_back(books, sale, amount, None)],
                booking=booking_id, payment=payment_id, refund=refund_id,
            )  # fmt: skip
            books.settled[(a, month(when))]["stripe_clearing"] -= amount
        if full_refund or starts + timedelta(hours=6) > now:
            continue
        released_at = starts + timedelta(hours=6)
        lines = []
        for pending, available, _ in sale.shares:
            if sale.held[pending]:
                lines += [(pending, sale.held[pending]), (available, -sale.held[pending])]
                books.released[(available, month(released_at))] += sale.held[pending]
        if lines:
            books.post(released_at, "release", lines, booking=booking_id, payment=payment_id,
                       memo=f"departure {did} started")  # fmt: skip
        if cash or fate >= 0.008 or starts + timedelta(days=45) > now:
            continue
        dispute_id += 1
        opened, closed = starts + timedelta(days=10), starts + timedelta(days=40)
        lost = fate < 0.004
        rows["disputes"].append(
            (dispute_id, payment_id, f"dp_bench_{dispute_id}", gross,
             "lost" if lost else "won", "fraudulent", opened, closed)
        )  # fmt: skip
        disputed = books.account("disputed_funds", a)
        opening = [(disputed, gross), (settlement, -gross)]
        tid = books.post(opened, "dispute", opening, booking=booking_id, payment=payment_id,
                         dispute=dispute_id)  # fmt: skip
        if lost:
            lines = [(disputed, -gross), *claw_back(books, sale, gross, month(closed))]
            books.post(
                closed, "dispute_lost", lines,
                booking=booking_id, payment=payment_id, dispute=dispute_id,
            )  # fmt: skip
            books.settled[(a, month(opened))]["stripe_clearing"] -= gross
        else:
            books.post(closed, "reversal", [(acc, -c) for acc, c in opening],
                       booking=booking_id, payment=payment_id, dispute=dispute_id,
                       reverses=tid, memo=f"dispute dp_bench_{dispute_id} won")  # fmt: skip

    _monthly(books, now, month)
    rows["ledger_accounts"] = list(books.accounts.values())
    rows["ledger_transactions"] = books.transactions
    rows["ledger_entries"] = books.entries
    return rows


KINDS = {
    "families": "family",
    "guides": "guide",
    "association_fund": "association_fund",
    "conservation_fund": "conservation_fund",
    "platform": "platform",
}


@dataclass
class Sale:
    """One payment's split as posted: (pending, available, cents) per share."""

    association: int
    gross: int
    fee: int
    fund: int
    shares: list[tuple[int, int, int]] = field(default_factory=list)
    held: dict[int, int] = field(default_factory=dict)  # pending account → still held


def claw_back(books: Books, sale: Sale, amount: int, released_in: str | None) -> list:
    """Mirror of ``postings._claw_back`` for one refund (before the release) or lost dispute
    (after it, ``released_in`` that month: taken from the available accounts)."""
    from tourism.money import allocate

    part = allocate(amount, [sale.gross - sale.fee, sale.fee])[0] if sale.fee else amount
    back = allocate(part, [cents for _, _, cents in sale.shares])
    lines = []
    for (pending, available, _), cents in zip(sale.shares, back, strict=True):
        lines.append((available if released_in else pending, cents))
        sale.held[pending] -= cents
        if released_in:
            books.released[(available, released_in)] -= cents
    lines.append((sale.fund, amount - part))
    return lines


def _monthly(books: Books, now: datetime, month) -> None:
    """Payouts of what was released each month, processor payouts and banked cash, posted
    on the 3rd of the next month (when that is already past)."""
    by_month: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (account, when), cents in books.released.items():
        key = books.keys[account]
        if cents > 0 and key.split("/")[0] in ("family", "guide"):
            by_month[when].append((key, cents))
    for when in sorted(by_month):
        paid_on = datetime.strptime(when + "-03", "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(
            days=31
        )
        paid_on = paid_on.replace(day=3, hour=15)
        if paid_on > now:
            continue
        per_association: dict[int, list] = defaultdict(list)
        for key, cents in sorted(by_month[when]):
            association = int(key.split("/")[1][1:])
            per_association[association].append((books.accounts[key][0], cents))
        for association, lines in per_association.items():
            bank = books.account("bank", association)
            total = sum(c for _, c in lines)
            books.post(paid_on, "payout", [*lines, (bank, -total)], memo=f"payouts {when}")
    for (association, when), sums in sorted(books.settled.items()):
        moved = datetime.strptime(when + "-28", "%Y-%m-%d").replace(hour=20, tzinfo=UTC)
        if moved > now:
            continue
        bank = books.account("bank", association)
        card = sums["stripe_clearing"] + sums["processor_fees"]
        if card > 0:
            clearing = books.account("stripe_clearing", association)
            books.post(moved, "transfer", [(clearing, -card), (bank, card)], memo="processor")
        if sums["cash_held"] > 0:
            held = books.account("cash_held", association)
            books.post(moved, "transfer", [(held, -sums["cash_held"]), (bank, sums["cash_held"])],
                       memo="cash banked")  # fmt: skip


COLUMNS = {
    "associations": "id, slug, name, code, province, founded_year, description_es, "
    "description_en, contact_email, contact_phone, created_at",
    "families": "id, association_id, name, community, is_demo, created_at, contact_name, "
    "contact_phone, languages, representative_gender, is_active, statement_token",
    "users": "id, email, name, password_hash, locale, is_platform_admin, is_active_account, "
    "created_at, session_token",
    "memberships": "id, user_id, association_id, role, created_at, phone, community, languages, "
    "under_30, ical_token",
    "experiences": "id, association_id, slug, status, province, duration_minutes, languages, "
    "currency, max_tickets_per_booking, cancellation_policy, created_at, payment_options, "
    "deposit_percent",
    "experience_texts": "id, experience_id, locale, title, summary, description, what_to_bring, "
    "meeting_point",
    "price_categories": "id, experience_id, code, price_cents, position, is_active",
    "stops": "id, experience_id, position, family_id, duration_minutes",
    "departures": "id, experience_id, schedule_id, starts_at, ends_at, capacity, status, "
    "cancel_reason, created_at",
    "bookings": "id, departure_id, reference, manage_token, status, hold_expires_at, "
    "payment_method, contact_name, contact_email, contact_phone, country, language, "
    "special_needs, total_cents, currency, created_at, confirmed_at, cancelled_at, "
    "checked_in_at, online_due_cents, cancel_reason, no_show_at, split_rule_id",
    "booking_lines": "id, booking_id, price_category_id, quantity, unit_price_cents",
    "payments": "id, booking_id, provider, provider_ref, charge_ref, attempt, amount_cents, "
    "currency, fee_cents, status, failure_message, created_at, succeeded_at, collected_by_id, "
    "client_ref",
    "refunds": "id, payment_id, provider_ref, amount_cents, reason, status, created_at",
    "disputes": "id, payment_id, provider_ref, amount_cents, status, reason, created_at, closed_at",
    "ledger_accounts": "id, key, kind, association_id, family_id, user_id, state, created_at",
    "ledger_transactions": "id, created_at, kind, booking_id, payment_id, refund_id, "
    "dispute_id, reverses_id, memo",
    "ledger_entries": "id, transaction_id, account_id, amount_cents, currency",
}


def load(url: str, rows: dict[str, list]) -> None:
    """COPY every table, in foreign-key order, then move the id sequences past the rows."""
    import psycopg

    def naive(value):
        return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value

    with psycopg.connect(plain(url)) as conn, conn.cursor() as cur:
        for table, columns in COLUMNS.items():
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row([naive(v) for v in row])
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")


def migrate(url: str):
    """The app on the benchmark database, migrated by the project's own migrations."""
    from flask_migrate import upgrade

    from tourism import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-only"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def timed(label: str, repeat: int, call, results: list) -> object:
    from tourism.extensions import db

    times, value = [], None
    for _ in range(repeat):
        db.session.rollback()
        began = time.perf_counter()
        value = call()
        times.append((time.perf_counter() - began) * 1000)
    results.append((label, times[0], statistics.median(times)))
    print(f"  {label:<44} first {times[0]:8.1f} ms   median {statistics.median(times):8.1f} ms")
    return value


def explain(statements: list[tuple[str, object]]) -> None:
    from tourism.extensions import db

    for sql, params in statements:
        plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(row[0] for row in plan))
        print()


def measure(app, repeat: int, show_plans: bool) -> list:
    from sqlalchemy import event, func, select, text

    from tourism.extensions import db
    from tourism.models import Experience
    from tourism.models.ledger import LedgerAccount, LedgerEntry
    from tourism.money import to_decimal
    from tourism.report_charts import charts

    draw = app.jinja_env.get_template("_charts.html").module.chart
    from tourism.services.ledger import checks as ledger_checks
    from tourism.services.reports import revenue as reports
    from tourism.services.reports.periods import default_period

    results: list = []
    with app.test_request_context(headers={"Accept-Language": "en"}):
        session = db.session
        busiest = session.execute(
            select(LedgerAccount.association_id, func.count())
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .where(LedgerAccount.association_id.is_not(None))
            .group_by(LedgerAccount.association_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        association = session.get(Experience.association.property.mapper.class_, busiest[0])
        print(f"\nThe busiest association: {association.slug} ({busiest[1]:,} ledger entries)")
        today = datetime.now(UTC).date()
        now = datetime.now(UTC)
        default = default_period(today)
        periods = {
            "12 months": default,
            "24 months": reports.Period(default.first.replace(year=default.first.year - 1),
                                        default.last),
        }  # fmt: skip
        captured: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many):
            captured.append((statement, parameters))

        for name, period in periods.items():
            print(f"\nDashboard queries over {name} ({period.months[0]} to {period.months[-1]}):")
            calls = {
                "revenue per month": lambda p=period: reports.revenue_by_month(
                    session, association, p
                ),
                "revenue per experience": lambda p=period: reports.revenue_by_experience(
                    session, association, p, "en"
                ),
                "revenue per beneficiary type": lambda p=period: reports.revenue_by_beneficiary(
                    session, association, p
                ),
                "families by gender": lambda p=period: reports.families_by_gender(
                    session, association, p
                ),
                "guides by age": lambda p=period: reports.guides_by_age(session, association, p),
                "visitors per month": lambda p=period: reports.visitors_by_month(
                    session, association, p, now
                ),
            }
            for label, call in calls.items():
                timed(f"{label} ({name})", repeat, call, results)
                if show_plans and name == "12 months":
                    captured.clear()
                    event.listen(db.engine, "before_cursor_execute", capture)
                    call()
                    event.remove(db.engine, "before_cursor_execute", capture)
                    explain(captured)
            report = timed(
                f"whole report ({name})",
                repeat,
                lambda p=period: reports.revenue_report(session, association, p, "en", now),
                results,
            )
            timed(
                f"the six SVG charts ({name})",
                repeat,
                lambda r=report: [draw(c) for c in charts(r).values()],
                results,
            )
            net, families = to_decimal(report.net_cents), to_decimal(report.families_cents)
            print(f"  net {net} USD, to families {families} USD")

        print("\nLedger check (all associations):")
        problems = timed("ledger check", max(1, repeat - 1), lambda: ledger_checks.check(session),
                         results)  # fmt: skip
        print(f"  {len(problems)} problem(s)" + (f": {problems[:3]}" if problems else ""))
        print("\nRows:")
        for table in COLUMNS:
            count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            print(f"  {table:<22} {count:>10,}")
        size = session.execute(
            text("SELECT pg_size_pretty(pg_total_relation_size('ledger_entries'))")
        ).scalar_one()
        print(f"  ledger_entries on disk (with indexes): {size}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the query plans too")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="time the queries on the database a previous run loaded (e.g. to try an index)",
    )
    options = parser.parse_args()
    if options.measure_only:
        from tourism import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": options.database_url, "SECRET_KEY": "bench"})
        measure(app, options.repeat, options.explain)
        return

    now = datetime.now(UTC).replace(microsecond=0)
    began = time.perf_counter()
    rows = build(options.entries, options.seed, now)
    built = time.perf_counter()
    print(f"Generated {len(rows['ledger_entries']):,} entries in {built - began:.1f} s")
    recreate_database(options.database_url)
    app = migrate(options.database_url)
    migrated = time.perf_counter()
    load(options.database_url, rows)
    print(
        f"Migrated in {migrated - built:.1f} s, loaded (COPY, then VACUUM ANALYZE) "
        f"in {time.perf_counter() - migrated:.1f} s"
    )
    del rows
    measure(app, options.repeat, options.explain)


if __name__ == "__main__":
    main()
