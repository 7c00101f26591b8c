"""associations: legal name, tax id and address; bookings: consent to the special-needs field

Who sells a visit (the association's registered name, its RUC and address) is shown to
tourists on every public and booking page and in emails. Existing associations get empty
values and pages show what there is. ``special_needs_consent_at`` records when a visitor
agreed that the association may use what they wrote about their health; bookings made before
have none.

Revision ID: 7c4e1a9d2b10
Revises: 5b1d7e2a9c40
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = '7c4e1a9d2b10'
down_revision = '5b1d7e2a9c40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('identity_is_demo', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('special_needs_consent_at', tourism.database.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('special_needs_consent_at')

    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.drop_column('identity_is_demo')
        batch_op.drop_column('address')
        batch_op.drop_column('tax_id')
        batch_op.drop_column('legal_name')
