"""administration: users, teams and wall tokens

Each user's own time zone (empty: the company's), and the indexes the audit log and the call
log screens page through (newest first, keyset: ``(at, id)`` / ``(started_at, id)``).

Revision ID: 0014_admin_users
Revises: 0013_sales_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_admin_users"
down_revision = "0013_sales_documents"
branch_labels = None
depends_on = None

AUDIT_INDEXES = {
    "ix_audit_actor_at": ["actor_id", "at", "id"],
    "ix_audit_action_at": ["action", "at", "id"],
    "ix_audit_entity_at": ["entity", "at", "id"],
    "ix_audit_record_at": ["entity", "entity_id", "at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name, columns in AUDIT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_queue_started", ["queue", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_queue_started")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        for name in AUDIT_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
