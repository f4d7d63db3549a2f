"""administration: choice lists, labels, templates, reminder rules

Revision ID: 0015_admin_setup
Revises: 0014_admin_users
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015_admin_setup"
down_revision = "0014_admin_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
