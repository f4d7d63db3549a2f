"""crm_core: queue and state of the background search-text refresh

Revision ID: 0006_core_search_refresh
Revises: 0005_dashboard
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_core_search_refresh"
down_revision = "0005_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_refresh_queue",
        sa.Column("client_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_search_refresh_queue")),
    )
    op.create_table(
        "search_refresh_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_refresh_state")),
    )


def downgrade() -> None:
    op.drop_table("search_refresh_state")
    op.drop_table("search_refresh_queue")
