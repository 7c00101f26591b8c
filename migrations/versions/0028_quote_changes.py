"""quote changes: withdrawn and revised group quotes, pay on arrival, bank-transfer refunds

``group_quotes`` gains ``group_size`` (filled from its request: what every existing quote
was for), ``pay_on_arrival`` (false for existing quotes), ``replaces_id`` (the quote a
revision supersedes) and ``withdrawn_at``. ``refunds`` gains ``paid_on``,
``bank_reference`` and ``recorded_by_id``, set only on a refund the treasurer paid back by
bank transfer. The quote statuses ``withdrawn`` and ``superseded`` are new values of a
non-native enum: no DDL. No existing row changes meaning. See
``tourism/services/groups/quote_changes.py`` and ``transfers.py``.

Revision ID: a28c0de50028
Revises: e26c0de50026
Create Date: 2026-12-04 18:30:00.000000

"""
import warnings

from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'a28c0de50028'
down_revision = 'e26c0de50026'
branch_labels = None
depends_on = None


def _quietly(step):
    """On SQLite a batch rebuilds the table, reflecting the tables it refers to: the
    expression index on bookings cannot be reflected, and need not be (it is not rebuilt)."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        step()


def upgrade():
    _quietly(_upgrade)


def _upgrade():
    with op.batch_alter_table('group_quotes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_size', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('pay_on_arrival', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('withdrawn_at', tourism.database.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_group_quotes_replaces_id_group_quotes'),
            'group_quotes',
            ['replaces_id'],
            ['id'],
        )
    op.execute(
        'UPDATE group_quotes SET group_size = (SELECT group_requests.group_size FROM '
        'group_requests WHERE group_requests.id = group_quotes.request_id)'
    )
    with op.batch_alter_table('group_quotes', schema=None) as batch_op:
        batch_op.alter_column('group_size', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('bank_reference', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_refunds_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id']
        )


def downgrade():
    _quietly(_downgrade)


def _downgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refunds_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('bank_reference')
        batch_op.drop_column('paid_on')
    with op.batch_alter_table('group_quotes', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_group_quotes_replaces_id_group_quotes'), type_='foreignkey'
        )
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('pay_on_arrival')
        batch_op.drop_column('group_size')
