"""reseller money: commission per experience, prepaid resellers and their receipts

A reseller may have its own commission on an experience (``reseller_rates``) and may collect
the guests' money itself (``resellers.prepaid``); money received from it is a
``reseller_receipts`` row with its ledger transaction. Ledger accounts may name a reseller
(its commission owed, or what it owes us). A reseller may give a webhook address; each post
to it is a ``webhook_deliveries`` row, retried until delivered or given up. New tables and nullable or defaulted columns only:
no existing row changes meaning.

Revision ID: c18c0de50018
Revises: a16c0de50016
Create Date: 2026-12-04 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'c18c0de50018'
down_revision = 'a16c0de50016'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (a batch would copy the table on SQLite for nothing).
    op.add_column('resellers', sa.Column('prepaid', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('resellers', sa.Column('webhook_url', sa.String(length=500), nullable=True))
    op.add_column('resellers', sa.Column('webhook_secret', sa.String(length=80), nullable=True))
    # Plain ADD COLUMN (a batch would copy the table on SQLite for nothing).
    op.add_column('channel_bookings', sa.Column('prepaid', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('reseller_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('experience_id', sa.Integer(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('updated_at', tourism.database.UTCDateTime(), nullable=False),
    sa.CheckConstraint('commission_bp >= 0 AND commission_bp <= 10000', name=op.f('ck_reseller_rates_commission_within_price')),
    sa.ForeignKeyConstraint(['experience_id'], ['experiences.id'], name=op.f('fk_reseller_rates_experience_id_experiences')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_reseller_rates_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reseller_rates')),
    sa.UniqueConstraint('reseller_id', 'experience_id', name=op.f('uq_reseller_rates_reseller_id'))
    )
    with op.batch_alter_table('reseller_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reseller_rates_experience_id'), ['experience_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reseller_rates_reseller_id'), ['reseller_id'], unique=False)

    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reseller_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_accounts_reseller_id'), ['reseller_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_accounts_reseller_id_resellers'), 'resellers', ['reseller_id'], ['id'])

    op.create_table('reseller_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('received_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_reseller_receipts_amount_positive')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_reseller_receipts_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_reseller_receipts_reseller_id_resellers')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_reseller_receipts_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reseller_receipts')),
    sa.UniqueConstraint('token', name=op.f('uq_reseller_receipts_token')),
    sa.UniqueConstraint('transaction_id', name=op.f('uq_reseller_receipts_transaction_id'))
    )
    with op.batch_alter_table('reseller_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reseller_receipts_reseller_id'), ['reseller_id'], unique=False)


    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', tourism.database.UTCDateTime(), nullable=True),
    sa.Column('last_attempt_at', tourism.database.UTCDateTime(), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', tourism.database.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_webhook_deliveries_booking_id_bookings')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_webhook_deliveries_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('event_id', name=op.f('uq_webhook_deliveries_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_reseller_id'), ['reseller_id'], unique=False)


def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_reseller_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_booking_id'))
        batch_op.drop_index('ix_webhook_deliveries_due')
    op.drop_table('webhook_deliveries')

    with op.batch_alter_table('reseller_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reseller_receipts_reseller_id'))
    op.drop_table('reseller_receipts')

    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_accounts_reseller_id_resellers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_accounts_reseller_id'))
        batch_op.drop_column('reseller_id')

    with op.batch_alter_table('reseller_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reseller_rates_reseller_id'))
        batch_op.drop_index(batch_op.f('ix_reseller_rates_experience_id'))
    op.drop_table('reseller_rates')

    with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
        batch_op.drop_column('prepaid')
    with op.batch_alter_table('resellers', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret')
        batch_op.drop_column('webhook_url')
        batch_op.drop_column('prepaid')
