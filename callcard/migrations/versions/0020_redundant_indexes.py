"""clients, audit_log: no index that another one begins with

``ix_clients_category`` and ``ix_clients_status`` are the first column of
``ix_clients_category_name`` and ``ix_clients_status_name``, and ``ix_audit_entity`` the first
two of ``ix_audit_record_at``: each lookup they served is served by the longer index, while
every new client and every audit entry paid for one more index (an import of 20,000 clients
spent a third of its client and audit inserts on them).

Revision ID: 0020_redundant_indexes
Revises: 0019_calls_indexes
"""

from alembic import op

revision = "0020_redundant_indexes"
down_revision = "0019_calls_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_clients_category", table_name="clients")
    op.drop_index("ix_clients_status", table_name="clients")
    op.drop_index("ix_audit_entity", table_name="audit_log")


def downgrade() -> None:
    op.create_index("ix_audit_entity", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_index("ix_clients_status", "clients", ["status"], unique=False)
    op.create_index("ix_clients_category", "clients", ["category"], unique=False)
