"""extras and nights on single experiences: extras offered per experience, a per-departure
stock option, and the extras and homestay nights a booking adds to its tickets

New tables, plus ``extras.stock_per_departure`` (false for every existing extra: their
stock keeps meaning a total). See ``tourism/models/addons.py`` and docs/ROUTES.md.

Revision ID: a22c0de50022
Revises: f21c0de50021
Create Date: 2026-12-04 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a22c0de50022'
down_revision = 'f21c0de50021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('extras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock_per_departure', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('experience_extras',
    sa.Column('experience_id', sa.Integer(), nullable=False),
    sa.Column('extra_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['experience_id'], ['experiences.id'], name=op.f('fk_experience_extras_experience_id_experiences')),
    sa.ForeignKeyConstraint(['extra_id'], ['extras.id'], name=op.f('fk_experience_extras_extra_id_extras')),
    sa.PrimaryKeyConstraint('experience_id', 'extra_id', name=op.f('pk_experience_extras'))
    )
    op.create_table('booking_extras',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('extra_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_extras_booking_id_bookings')),
    sa.ForeignKeyConstraint(['extra_id'], ['extras.id'], name=op.f('fk_booking_extras_extra_id_extras')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_extras')),
    sa.UniqueConstraint('booking_id', 'extra_id', name=op.f('uq_booking_extras_booking_id'))
    )
    with op.batch_alter_table('booking_extras', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_extras_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_extras_extra_id'), ['extra_id'], unique=False)

    op.create_table('booking_nights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('homestay_id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('side', sa.Enum('before', 'after', name='nightside', native_enum=False, length=10), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_nights_booking_id_bookings')),
    sa.ForeignKeyConstraint(['homestay_id'], ['homestays.id'], name=op.f('fk_booking_nights_homestay_id_homestays')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_nights')),
    sa.UniqueConstraint('booking_id', 'night', name=op.f('uq_booking_nights_booking_id'))
    )
    with op.batch_alter_table('booking_nights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_nights_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_booking_nights_homestay_night', ['homestay_id', 'night'], unique=False)


def downgrade():
    with op.batch_alter_table('booking_nights', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_nights_homestay_night')
        batch_op.drop_index(batch_op.f('ix_booking_nights_booking_id'))

    op.drop_table('booking_nights')
    with op.batch_alter_table('booking_extras', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_extras_extra_id'))
        batch_op.drop_index(batch_op.f('ix_booking_extras_booking_id'))

    op.drop_table('booking_extras')
    op.drop_table('experience_extras')
    with op.batch_alter_table('extras', schema=None) as batch_op:
        batch_op.drop_column('stock_per_departure')
