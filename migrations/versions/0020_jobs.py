"""jobs: the durable job queue (emails and scheduled work), see tourism/jobs/

A new table only; no existing row changes meaning.

Revision ID: e20c0de50020
Revises: d19c0de50019
Create Date: 2026-12-04 12:50:00

"""
from alembic import op
import sqlalchemy as sa

import tourism.database


# revision identifiers, used by Alembic.
revision = 'e20c0de50020'
down_revision = 'd19c0de50019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'dead', name='jobstate', native_enum=False, length=20), nullable=False),
    sa.Column('run_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_by', sa.String(length=120), nullable=False),
    sa.Column('locked_until', tourism.database.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', tourism.database.UTCDateTime(), nullable=False),
    sa.Column('finished_at', tourism.database.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key'))
    )
    op.create_index('ix_jobs_state_run_at', 'jobs', ['state', 'run_at'], unique=False)


def downgrade():
    op.drop_index('ix_jobs_state_run_at', table_name='jobs')
    op.drop_table('jobs')
