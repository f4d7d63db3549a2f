"""reports: per-hour call figures and scheduled reports

Revision ID: 0016_reports
Revises: 0015_admin_setup
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_reports"
down_revision = "0015_admin_setup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_hour_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("cut", sa.String(10), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("busy", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), nullable=False),
        sa.Column("wait_ms", sa.BigInteger(), nullable=False),
        sa.Column("talk_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_hour_stats"),
        sa.UniqueConstraint("hour", "direction", "cut", "key", name="uq_call_hour_stats_key"),
    )
    op.create_index("ix_call_hour_stats_cut_hour", "call_hour_stats", ["cut", "hour"])
    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(10), nullable=False),
        sa.Column("last_period", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_report_subscriptions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_subscriptions"),
        sa.UniqueConstraint("user_id", name="uq_report_subscriptions_user_id"),
    )


def downgrade() -> None:
    op.drop_table("report_subscriptions")
    op.drop_index("ix_call_hour_stats_cut_hour", table_name="call_hour_stats")
    op.drop_table("call_hour_stats")
