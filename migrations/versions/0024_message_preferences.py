"""message preferences: an email for families, opting a number back in after STOP

``families.email`` (empty for every existing family) is where a family's notices go when it
chose email, has no phone consent, or WhatsApp and SMS both failed. ``phone_opt_outs.opted_in_at``
records when a number that said STOP asked for messages again (START/ALTA, or the booking's
page); the row stays, so the history is kept. See docs/MESSAGES.md.

Revision ID: c24c0de50024
Revises: b23c0de50023
Create Date: 2026-12-04 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'c24c0de50024'
down_revision = 'b23c0de50023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('families', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('email', sa.String(length=254), nullable=False, server_default='')
        )

    with op.batch_alter_table('phone_opt_outs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('opted_in_at', tourism.database.UTCDateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('phone_opt_outs', schema=None) as batch_op:
        batch_op.drop_column('opted_in_at')

    with op.batch_alter_table('families', schema=None) as batch_op:
        batch_op.drop_column('email')
