"""bookings: an index on the lower-cased contact email

The cap on open unpaid bookings per email (``services/hold_caps.py``) runs on every hold and
compares emails case-insensitively; without this index it read every booking. Only an index:
no rows change.

Revision ID: 5b1d7e2a9c40
Revises: 03ebc6becc44
Create Date: 2026-11-25 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1d7e2a9c40'
down_revision = '03ebc6becc44'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_bookings_contact_email_lower',
        'bookings',
        [sa.text('lower(contact_email)')],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_bookings_contact_email_lower', table_name='bookings')
