"""schedule_guides: the default guides of a weekly schedule

The departures a schedule generates are given its default guides (a lead, assistants) where
each guide is free; see ``services/operations/assignments.py``. A new table only: no existing
row changes.

Revision ID: 8c4f2b61d7e3
Revises: 7c4e1a9d2b10
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = '8c4f2b61d7e3'
down_revision = '7c4e1a9d2b10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('schedule_guides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'assistant', name='guiderole', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_schedule_guides_schedule_id_schedules')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_guides_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_guides')),
    sa.UniqueConstraint('schedule_id', 'user_id', name=op.f('uq_schedule_guides_schedule_id'))
    )
    with op.batch_alter_table('schedule_guides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_guides_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedule_guides_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('schedule_guides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_guides_user_id'))
        batch_op.drop_index(batch_op.f('ix_schedule_guides_schedule_id'))

    op.drop_table('schedule_guides')
