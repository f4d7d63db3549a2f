"""crm_core: the search-text refresh records its cause and field apart from the English reason

So that search results and the dashboard can say, in the user's language, which field's change
is still being applied.

Revision ID: 0008_core_search_refresh_cause
Revises: 0007_notifier_outbox_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_core_search_refresh_cause"
down_revision = "0007_notifier_outbox_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_refresh_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cause", sa.String(length=20), nullable=False, server_default="other")
        )
        batch_op.add_column(
            sa.Column("field_label", sa.String(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("search_refresh_state", schema=None) as batch_op:
        batch_op.drop_column("field_label")
        batch_op.drop_column("cause")
