"""backups: runs and verifications

Revision ID: 0018_backups
Revises: 0017_exchange
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018_backups"
down_revision = "0017_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
