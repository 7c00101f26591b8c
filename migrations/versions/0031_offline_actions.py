"""offline actions: the ids of the guide's queued actions already applied

``offline_actions`` keeps, per guide, the id the phone drew for each action it sent from its
offline queue (check-in, not come, cash, stop visited) once applied. The same action sent
again, after a reply lost to bad signal, is answered "unchanged" instead of being applied a
second time, even if it was undone in between. See
``tourism/services/operations/checkin.py`` (``apply_offline_actions``).

Revision ID: d31c0de50031
Revises: c30c0de50030
Create Date: 2026-12-05 20:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

from tourism.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = "d31c0de50031"
down_revision = "c30c0de50030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "offline_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_offline_actions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_actions")),
        sa.UniqueConstraint("user_id", "action_id", name=op.f("uq_offline_actions_user_id")),
    )


def downgrade():
    op.drop_table("offline_actions")
