"""backup_runs.alive_at: a run in progress tells itself apart from one whose process died

A run killed with its process (a restart during a backup) stayed "running", and "Run now"
answered "a backup is already running" for twelve hours. The working run now touches
``alive_at`` every 20 seconds; one untouched for two minutes is marked interrupted.

Revision ID: 0021_backup_alive
Revises: 0020_redundant_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_backup_alive"
down_revision = "0020_redundant_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("backup_runs") as batch:
        batch.add_column(sa.Column("alive_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backup_runs") as batch:
        batch.drop_column("alive_at")
