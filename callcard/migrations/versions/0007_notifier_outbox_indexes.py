"""notifier: fewer outbox indexes to update per inserted message

``purpose`` loses its index (only the admin outbox page filters on it, newest first by id) and
``provider_id`` is indexed only where set (messages waiting to be sent have none): scheduling
reminders for 100,000 events inserts 200,000 rows, and each index is one more B-tree to update.

Revision ID: 0007_notifier_outbox_indexes
Revises: 0006_core_search_refresh
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_notifier_outbox_indexes"
down_revision = "0006_core_search_refresh"
branch_labels = None
depends_on = None

_SET = sa.text("provider_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_purpose"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_provider_id"))
        batch_op.create_index(
            "ix_outbox_messages_provider_id",
            ["provider_id"],
            unique=False,
            postgresql_where=_SET,
            sqlite_where=_SET,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_messages_provider_id", postgresql_where=_SET, sqlite_where=_SET
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_messages_purpose"), ["purpose"], unique=False)
