"""payment_checks: what the processor received, when it is not what we asked for

A payment whose PaymentIntent carries another amount or currency than the one we asked for is
kept as a ``mismatch`` (a new value of the non-native ``paymentstatus`` enum, which needs no
DDL) with what was actually received. Two nullable columns: no existing row changes.

Revision ID: 9d1e5a7c3f20
Revises: 5d2e8a41c9f0
Create Date: 2026-12-03 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d1e5a7c3f20'
down_revision = '5d2e8a41c9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('received_currency', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('received_currency')
        batch_op.drop_column('received_cents')
