"""submission keys: a booking remembers the booking form that made it

``bookings`` and ``route_bookings`` gain ``submission_key``, the random key of the form page
a booking was sent from, unique when set: the same form sent twice (a double click, a slow
connection) finds the booking the first sending made instead of making a second one.
Existing bookings, and bookings made other than through the booking forms, have none. See
``tourism/services/booking/new_bookings.py`` (``unless_sent_before``) and
``tourism/services/routes/booking.py``.

Revision ID: b29c0de50029
Revises: a28c0de50028
Create Date: 2026-12-05 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b29c0de50029'
down_revision = 'a28c0de50028'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column and an index: no table rebuild on SQLite, where a rebuild would
    # lose the expression index on the contact email.
    for table in ('bookings', 'route_bookings'):
        op.add_column(table, sa.Column('submission_key', sa.String(length=32), nullable=True))
        op.create_index(f'ix_{table}_submission_key', table, ['submission_key'], unique=True)


def downgrade():
    for table in ('route_bookings', 'bookings'):
        op.drop_index(f'ix_{table}_submission_key', table_name=table)
        # Both databases drop a column in place (SQLite since 3.35): no rebuild here either.
        op.execute(f'ALTER TABLE {table} DROP COLUMN submission_key')
