"""administration: choice lists, labels, templates, reminder rules

Per-language labels of the choice list items, and the quiet hours an admin sets in the browser.

Revision ID: 0015_admin_setup
Revises: 0014_admin_users
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_admin_setup"
down_revision = "0014_admin_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "choice_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["choice_items.id"],
            name=op.f("fk_choice_labels_item_id_choice_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_labels")),
        sa.UniqueConstraint("item_id", "language", name=op.f("uq_choice_labels_item_id")),
    )
    op.create_table(
        "quiet_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_hour", sa.Integer(), nullable=False),
        sa.Column("end_hour", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_quiet_hours_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiet_hours")),
    )


def downgrade() -> None:
    op.drop_table("quiet_hours")
    op.drop_table("choice_labels")
