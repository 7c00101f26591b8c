"""resellers: sales channels that book through the OCTO API, and their bookings

A reseller belongs to one association, holds an API key (only its SHA-256 is stored) and a
commission, and may sell the experiences it was given. A channel booking links one of our
bookings to the reseller's OCTO uuid and reference. New tables only: no existing row changes.

Revision ID: 3e9a5c1f7b20
Revises: 9d1e5a7c3f20
Create Date: 2026-12-04 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = '3e9a5c1f7b20'
down_revision = '9d1e5a7c3f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('resellers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=True),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('key_revoked_at', tourism.database.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_resellers_association_id_associations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resellers')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_resellers_key_hash'))
    )
    with op.batch_alter_table('resellers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resellers_association_id'), ['association_id'], unique=False)

    op.create_table('reseller_experiences',
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('experience_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['experience_id'], ['experiences.id'], name=op.f('fk_reseller_experiences_experience_id_experiences')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_reseller_experiences_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('reseller_id', 'experience_id', name=op.f('pk_reseller_experiences'))
    )
    op.create_table('channel_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('reseller_id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('reseller_reference', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tourism.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_channel_bookings_booking_id_bookings')),
    sa.ForeignKeyConstraint(['reseller_id'], ['resellers.id'], name=op.f('fk_channel_bookings_reseller_id_resellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_bookings')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_channel_bookings_booking_id')),
    sa.UniqueConstraint('reseller_id', 'uuid', name=op.f('uq_channel_bookings_reseller_id'))
    )
    with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_bookings_reseller_id'), ['reseller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_channel_bookings_reseller_reference'), ['reseller_reference'], unique=False)


def downgrade():
    with op.batch_alter_table('channel_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_bookings_reseller_reference'))
        batch_op.drop_index(batch_op.f('ix_channel_bookings_reseller_id'))

    op.drop_table('channel_bookings')
    op.drop_table('reseller_experiences')
    with op.batch_alter_table('resellers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resellers_association_id'))

    op.drop_table('resellers')
