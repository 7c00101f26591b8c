"""The SQL that makes the ledger tables append-only in the database itself (triggers refusing
UPDATE, DELETE and TRUNCATE), and the error raised when something tries. The models and the
Python-side hook that refuses such changes before any SQL is sent are in ``ledger``; the
migration that creates the tables and the test teardown that must empty them run this SQL.
"""

from __future__ import annotations


class AppendOnlyViolation(Exception):
    """Something tried to change or delete a ledger transaction or entry."""


APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_entries")

_PG_FUNCTION = """
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Correct the ledger with a reversing transaction.';
END
$$
"""


def append_only_triggers_sql(dialect: str, *, with_function: bool = True) -> list[str]:
    """The statements that make the ledger tables refuse UPDATE and DELETE (and TRUNCATE).

    Used by the migration that creates the tables and by the test teardown that must empty
    them; kept here so both run exactly the same SQL.
    """
    statements = []
    if dialect == "postgresql":
        if with_function:
            statements.append(_PG_FUNCTION)
        for table in APPEND_ONLY_TABLES:
            statements.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
            )
            statements.append(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
            )
    elif dialect == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'{table} is append-only: {operation} refused'); END"
                )
    else:
        raise NotImplementedError(f"no append-only triggers for {dialect}")
    return statements


def drop_append_only_triggers_sql(dialect: str, *, with_function: bool = True) -> list[str]:
    """The reverse of ``append_only_triggers_sql``."""
    statements = []
    if dialect == "postgresql":
        for table in APPEND_ONLY_TABLES:
            statements.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            statements.append(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        if with_function:
            statements.append("DROP FUNCTION IF EXISTS ledger_append_only()")
    elif dialect == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for operation in ("update", "delete"):
                statements.append(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    else:
        raise NotImplementedError(f"no append-only triggers for {dialect}")
    return statements
