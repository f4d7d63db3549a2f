"""data in and out: import jobs and calendar feeds

Revision ID: 0017_exchange
Revises: 0016_reports
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017_exchange"
down_revision = "0016_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
