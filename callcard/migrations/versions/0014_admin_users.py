"""administration: users, teams and wall tokens

Revision ID: 0014_admin_users
Revises: 0013_sales_documents
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014_admin_users"
down_revision = "0013_sales_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
