"""departure_seats_confirmed: the confirmed tickets of each departure on its row

A hold counts the departure's confirmed seats from this counter and only its live holds from
the bookings, so its cost no longer grows with the bookings on the departure (see
``tourism/models/seat_counter.py``). The counter is filled from the bookings here;
``flask seat-check`` recounts it at any time.

Revision ID: 5d2e8a41c9f0
Revises: 8c4f2b61d7e3
Create Date: 2026-12-03 23:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8a41c9f0'
down_revision = '8c4f2b61d7e3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('seats_confirmed', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE departures SET seats_confirmed = COALESCE(("
        " SELECT SUM(booking_lines.quantity) FROM bookings"
        " JOIN booking_lines ON booking_lines.booking_id = bookings.id"
        " WHERE bookings.departure_id = departures.id AND bookings.status = 'confirmed'"
        "), 0)"
    )


def downgrade():
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_column('seats_confirmed')
