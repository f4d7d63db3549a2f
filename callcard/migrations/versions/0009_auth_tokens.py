"""crm_core: sessions and bearer tokens remember where they were opened

So that a user listing their sessions and tokens can tell them apart before revoking one.

Revision ID: 0009_auth_tokens
Revises: 0008_core_search_refresh_cause
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_auth_tokens"
down_revision = "0008_core_search_refresh_cause"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("address")
