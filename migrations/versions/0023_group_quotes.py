"""group quotes: an association's priced answer to a group request, on a private departure;
net rates for resellers

New table ``group_quotes``; nullable columns ``departures.group_request_id`` (a private
departure), ``reseller_rates.net_cents`` and ``channel_bookings.net_cents``: no existing row
changes meaning. See ``tourism/models/groups.py`` and docs/CHANNELS.md.

Revision ID: b23c0de50023
Revises: a22c0de50022
Create Date: 2026-12-04 15:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'b23c0de50023'
down_revision = 'a22c0de50022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_request_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_departures_group_request_id'), ['group_request_id'], unique=False
        )
        batch_op.create_foreign_key(
            op.f('fk_departures_group_request_id_group_requests'),
            'group_requests',
            ['group_request_id'],
            ['id'],
        )
    with op.batch_alter_table('reseller_rates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('net_cents', sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_reseller_rates_net_not_negative'), 'net_cents IS NULL OR net_cents >= 0'
        )
    with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('net_cents', sa.BigInteger(), nullable=True))
    op.create_table(
        'group_quotes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('departure_id', sa.Integer(), nullable=False),
        sa.Column('pricing', sa.Enum('per_person', 'total', name='quotepricing', native_enum=False, length=20), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('total_cents', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.Enum('offered', 'accepted', 'declined', name='quotestatus', native_enum=False, length=20), nullable=False),
        sa.Column('expires_at', tourism.database.UTCDateTime(), nullable=False),
        sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', tourism.database.UTCDateTime(), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('transfer_payment_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('total_cents > 0', name=op.f('ck_group_quotes_total_positive')),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_group_quotes_booking_id_bookings')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_group_quotes_created_by_id_users')),
        sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_group_quotes_departure_id_departures')),
        sa.ForeignKeyConstraint(['request_id'], ['group_requests.id'], name=op.f('fk_group_quotes_request_id_group_requests')),
        sa.ForeignKeyConstraint(['transfer_payment_id'], ['payments.id'], name=op.f('fk_group_quotes_transfer_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_quotes')),
        sa.UniqueConstraint('transfer_payment_id', name=op.f('uq_group_quotes_transfer_payment_id')),
    )
    with op.batch_alter_table('group_quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_quotes_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_group_quotes_departure_id'), ['departure_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_group_quotes_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('group_quotes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_quotes_request_id'))
        batch_op.drop_index(batch_op.f('ix_group_quotes_departure_id'))
        batch_op.drop_index(batch_op.f('ix_group_quotes_booking_id'))
    op.drop_table('group_quotes')
    with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
        batch_op.drop_column('net_cents')
    with op.batch_alter_table('reseller_rates', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reseller_rates_net_not_negative'), type_='check')
        batch_op.drop_column('net_cents')
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_departures_group_request_id_group_requests'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_departures_group_request_id'))
        batch_op.drop_column('group_request_id')
