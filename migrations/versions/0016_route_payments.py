"""route payments: one card payment (one PaymentIntent) for a whole route

A new table ``route_payments`` and a nullable ``payments.route_payment_id`` (a leg's part
of a route's card payment): no existing row changes meaning. See docs/ROUTES.md.

Revision ID: a16c0de50016
Revises: 700d5b27b765
Create Date: 2026-12-04 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'a16c0de50016'
down_revision = '700d5b27b765'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('route_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_booking_id', sa.Integer(), nullable=False),
    sa.Column('provider_ref', sa.String(length=100), nullable=False),
    sa.Column('charge_ref', sa.String(length=100), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee_cents', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'succeeded', 'failed', 'canceled', 'mismatch', name='paymentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('failure_message', sa.String(length=300), nullable=False),
    sa.Column('returned_ref', sa.String(length=100), nullable=True),
    sa.Column('returned_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('succeeded_at', tourism.database.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['route_booking_id'], ['route_bookings.id'], name=op.f('fk_route_payments_route_booking_id_route_bookings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_payments')),
    sa.UniqueConstraint('provider_ref', name=op.f('uq_route_payments_provider_ref'))
    )
    with op.batch_alter_table('route_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_payments_charge_ref'), ['charge_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_payments_route_booking_id'), ['route_booking_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        # A plain ADD COLUMN with its foreign key inline: SQLite allows it for a nullable
        # column, and ``payments`` is not rebuilt (a rebuild reflects ``bookings``, whose
        # expression index SQLAlchemy cannot reflect).
        op.execute(
            'ALTER TABLE payments ADD COLUMN route_payment_id INTEGER '
            'CONSTRAINT fk_payments_route_payment_id_route_payments '
            'REFERENCES route_payments (id)'
        )
    else:
        op.add_column('payments', sa.Column('route_payment_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_payments_route_payment_id_route_payments'), 'payments', 'route_payments', ['route_payment_id'], ['id'])
    op.create_index(op.f('ix_payments_route_payment_id'), 'payments', ['route_payment_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_payments_route_payment_id'), table_name='payments')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE payments DROP COLUMN route_payment_id')
    else:
        op.drop_constraint(op.f('fk_payments_route_payment_id_route_payments'), 'payments', type_='foreignkey')
        op.drop_column('payments', 'route_payment_id')

    with op.batch_alter_table('route_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_payments_route_booking_id'))
        batch_op.drop_index(batch_op.f('ix_route_payments_charge_ref'))

    op.drop_table('route_payments')
