"""groups: minimum participants per experience, the once-only minimum check per departure,
waiting lists on sold-out departures, private group requests and their messages

Revision ID: d19c0de50019
Revises: c18c0de50018
Create Date: 2026-12-04 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'd19c0de50019'
down_revision = 'c18c0de50018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('experiences', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('min_participants', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('min_cutoff_hours', sa.Integer(), server_default='48', nullable=False)
        )
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('minimum_checked_at', tourism.database.UTCDateTime(), nullable=True)
        )
    op.create_table(
        'waitlist_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('departure_id', sa.Integer(), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'waiting', 'offered', 'accepted', 'lapsed', 'closed',
                name='waitliststatus', native_enum=False, length=20,
            ),
            nullable=False,
        ),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('offered_at', tourism.database.UTCDateTime(), nullable=True),
        sa.Column('offer_expires_at', tourism.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id']),
        sa.ForeignKeyConstraint(['departure_id'], ['departures.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('booking_id'),
    )
    op.create_index(
        'ix_waitlist_entries_departure_status',
        'waitlist_entries',
        ['departure_id', 'status'],
        unique=False,
    )

    op.create_table(
        'group_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('association_id', sa.Integer(), nullable=False),
        sa.Column('experience_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column(
            'status',
            sa.Enum('open', 'closed', name='grouprequeststatus', native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            'requester_kind',
            sa.Enum(
                'school', 'agency', 'family', 'other',
                name='requesterkind', native_enum=False, length=20,
            ),
            nullable=False,
        ),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('group_size', sa.Integer(), nullable=False),
        sa.Column('date_from', sa.Date(), nullable=False),
        sa.Column('date_to', sa.Date(), nullable=False),
        sa.Column('needs', sa.Text(), nullable=False),
        sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['association_id'], ['associations.id']),
        sa.ForeignKeyConstraint(['experience_id'], ['experiences.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index(
        'ix_group_requests_association_id', 'group_requests', ['association_id'], unique=False
    )
    op.create_index(
        'ix_group_requests_experience_id', 'group_requests', ['experience_id'], unique=False
    )
    op.create_table(
        'group_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('from_requester', sa.Boolean(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.ForeignKeyConstraint(['request_id'], ['group_requests.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_group_messages_request_id', 'group_messages', ['request_id'], unique=False
    )


def downgrade():
    op.drop_index('ix_group_messages_request_id', table_name='group_messages')
    op.drop_table('group_messages')
    op.drop_index('ix_group_requests_experience_id', table_name='group_requests')
    op.drop_index('ix_group_requests_association_id', table_name='group_requests')
    op.drop_table('group_requests')
    op.drop_index('ix_waitlist_entries_departure_status', table_name='waitlist_entries')
    op.drop_table('waitlist_entries')
    with op.batch_alter_table('departures', schema=None) as batch_op:
        batch_op.drop_column('minimum_checked_at')
    with op.batch_alter_table('experiences', schema=None) as batch_op:
        batch_op.drop_column('min_cutoff_hours')
        batch_op.drop_column('min_participants')
