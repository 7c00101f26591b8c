"""submission keys: a group's request remembers the form page that sent it

``group_requests`` gains ``submission_key``, the random key of the request form page it was
sent from, unique when set, as bookings have had since ``b29c0de50029``: the same form sent
twice (a double click, a slow connection) finds the request the first sending made instead
of making a second one, with a second confirmation email. Existing requests have none. See
``tourism/services/groups/requests.py`` (``submit_request``).

Revision ID: c30c0de50030
Revises: b29c0de50029
Create Date: 2026-12-05 17:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c30c0de50030'
down_revision = 'b29c0de50029'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column and an index: no table rebuild on SQLite.
    op.add_column(
        'group_requests', sa.Column('submission_key', sa.String(length=32), nullable=True)
    )
    op.create_index(
        'ix_group_requests_submission_key', 'group_requests', ['submission_key'], unique=True
    )


def downgrade():
    op.drop_index('ix_group_requests_submission_key', table_name='group_requests')
    # Both databases drop a column in place (SQLite since 3.35).
    op.execute('ALTER TABLE group_requests DROP COLUMN submission_key')
