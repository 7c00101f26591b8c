"""channel routes: routes sold by resellers through the OCTO API

A new table ``channel_route_bookings`` (the OCTO identity of a route booking a reseller
made) and a nullable ``route_sale_id`` on ``channel_bookings`` naming the sale a leg booking
belongs to: no existing row changes meaning. See ``tourism/models/channels.py`` and
docs/CHANNELS.md.

Revision ID: e26c0de50026
Revises: c24c0de50024
Create Date: 2026-12-04 15:55:00.000000

"""
import warnings

from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'e26c0de50026'
down_revision = 'c24c0de50024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_route_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_booking_id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('reseller_reference', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('prepaid', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tourism.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_channel_route_bookings_reseller_id_resellers')),
    sa.ForeignKeyConstraint(['route_booking_id'], ['route_bookings.id'], name=op.f('fk_channel_route_bookings_route_booking_id_route_bookings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_route_bookings')),
    sa.UniqueConstraint('reseller_id', 'uuid', name=op.f('uq_channel_route_bookings_reseller_id')),
    sa.UniqueConstraint('route_booking_id', name=op.f('uq_channel_route_bookings_route_booking_id'))
    )
    with op.batch_alter_table('channel_route_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_route_bookings_reseller_id'), ['reseller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_route_bookings_reseller_reference'), ['reseller_reference'], unique=False)

    # On SQLite the batch rebuilds channel_bookings, reflecting the tables it refers to: the
    # expression index on bookings cannot be reflected, and need not be (bookings is not
    # rebuilt).
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
            batch_op.add_column(sa.Column('route_sale_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f('ix_channel_bookings_route_sale_id'), ['route_sale_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_channel_bookings_route_sale_id_channel_route_bookings'), 'channel_route_bookings', ['route_sale_id'], ['id'])


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_channel_bookings_route_sale_id_channel_route_bookings'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_channel_bookings_route_sale_id'))
            batch_op.drop_column('route_sale_id')

    with op.batch_alter_table('channel_route_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_route_bookings_reseller_reference'))
        batch_op.drop_index(batch_op.f('ix_channel_route_bookings_reseller_id'))

    op.drop_table('channel_route_bookings')
