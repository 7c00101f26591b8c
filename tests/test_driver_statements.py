"""Statements run through the driver's cursor (``driver_statements``) give what
``Connection.execute`` gives: the same rows and conversions, the same listeners, the same
errors, the response cache told of writes. On SQLite they go through ``Connection.execute``
itself; the PostgreSQL run is the one that exercises the driver's path."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Integer, bindparam, create_engine, literal, select, text, update
from sqlalchemy import exc as sa_exc

from tests.conftest import is_postgres
from tests.sql_log import statements_run
from tourism.driver_statements import DriverStatement
from tourism.models import Departure, DepartureStatus
from tourism.response_cache import SESSION_TOUCHED_KEY

DEPARTURES = Departure.__table__

READ = DriverStatement(
    select(
        DEPARTURES.c.id,
        DEPARTURES.c.status,
        DEPARTURES.c.starts_at,
        DEPARTURES.c.capacity,
        literal("fixed").label("constant"),
    ).where(DEPARTURES.c.id == bindparam("departure_id"))
)
MOVE_ON = DriverStatement(
    update(DEPARTURES)
    .where(DEPARTURES.c.id == bindparam("departure_id"))
    .values(capacity=DEPARTURES.c.capacity + bindparam("more", type_=Integer))
    .returning(DEPARTURES.c.capacity, DEPARTURES.c.status)
)


def test_rows_are_those_sqlalchemy_gives(session, make):
    departure = make.departure(capacity=7)
    session.commit()
    params = {"departure_id": departure.id}

    rows = READ.run(session, params)
    expected = session.connection().execute(READ.statement, params).all()

    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    row = rows[0]
    # The enum comes back as the enum, the date as the model's dates are, the literal's
    # value sent although the caller did not give it.
    assert row.status is DepartureStatus.SCHEDULED
    assert row.starts_at == departure.starts_at
    assert (row.id, row.capacity, row.constant) == (departure.id, 7, "fixed")
    assert READ.first(session, {"departure_id": departure.id + 1000}) is None


def test_a_write_with_returning_is_in_the_transaction_and_tells_the_cache(session, make):
    departure = make.departure(capacity=7)
    session.commit()
    session.info.pop(SESSION_TOUCHED_KEY, None)

    READ.run(session, {"departure_id": departure.id})
    assert SESSION_TOUCHED_KEY not in session.info  # a read moves nothing on

    written = MOVE_ON.first(session, {"departure_id": departure.id, "more": 3})
    assert written.capacity == 10 and written.status is DepartureStatus.SCHEDULED
    assert session.info[SESSION_TOUCHED_KEY] is True
    session.rollback()
    assert READ.first(session, {"departure_id": departure.id}).capacity == 7

    MOVE_ON.run(session, {"departure_id": departure.id, "more": 1})
    session.commit()
    assert READ.first(session, {"departure_id": departure.id}).capacity == 8


def test_the_engines_listeners_see_each_statement(session, make):
    departure_id = make.departure().id
    session.commit()
    with statements_run(session) as run:
        READ.run(session, {"departure_id": departure_id})
        MOVE_ON.run(session, {"departure_id": departure_id, "more": 1})
    run = [statement for statement in run if not statement.startswith("BEGIN")]
    assert len(run) == 2
    assert run[0].lstrip().upper().startswith("SELECT")
    assert run[1].lstrip().upper().startswith("UPDATE")


def test_the_sql_log_shows_the_statement_and_hides_its_parameters(session, make, caplog):
    departure_id = make.departure().id
    session.commit()
    secret = "token-" + "s3cr3t" * 4
    read = DriverStatement(
        select(DEPARTURES.c.id).where(
            DEPARTURES.c.id == bindparam("departure_id"), literal(secret) != bindparam("other")
        )
    )
    engine_logger = logging.getLogger("sqlalchemy.engine")
    saved = engine_logger.level
    engine_logger.setLevel(logging.INFO)
    caplog.set_level(logging.INFO)
    try:
        read.run(session, {"departure_id": departure_id, "other": secret + "x"})
    finally:
        engine_logger.setLevel(saved)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "FROM departures" in logged
    assert secret not in logged


def test_a_missing_parameter_is_refused_before_anything_is_sent(session):
    with statements_run(session) as run, pytest.raises(sa_exc.SQLAlchemyError):
        READ.run(session, {})
    assert [statement for statement in run if not statement.startswith("BEGIN")] == []


def test_driver_errors_are_sqlalchemys(session, make):
    first, second = make.departure(), make.departure()
    session.commit()
    taken = DriverStatement(
        update(DEPARTURES)
        .where(DEPARTURES.c.id == bindparam("departure_id"))
        .values(id=bindparam("new_id", type_=Integer))
        .returning(DEPARTURES.c.id)
    )
    with pytest.raises(sa_exc.IntegrityError):
        taken.run(session, {"departure_id": first.id, "new_id": second.id})
    session.rollback()
    assert READ.first(session, {"departure_id": first.id}).id == first.id


@pytest.mark.skipif(not is_postgres(), reason="statements are compiled once on PostgreSQL only")
def test_parameters_rendered_per_execution_are_refused(session):
    listed = DriverStatement(
        select(DEPARTURES.c.id).where(DEPARTURES.c.id.in_(bindparam("ids", expanding=True)))
    )
    with pytest.raises(sa_exc.ArgumentError):
        listed.run(session, {"ids": [1, 2]})


@pytest.mark.skipif(not is_postgres(), reason="a lost server connection, on PostgreSQL")
def test_a_lost_connection_is_invalidated_and_the_next_one_works(session, make):
    departure = make.departure()
    session.commit()
    READ.run(session, {"departure_id": departure.id})
    backend = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    url = session.get_bind().url.render_as_string(hide_password=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        admin.dispose()

    with pytest.raises(sa_exc.OperationalError) as raised:
        READ.run(session, {"departure_id": departure.id})
    assert raised.value.connection_invalidated
    session.rollback()
    assert READ.first(session, {"departure_id": departure.id}).id == departure.id
