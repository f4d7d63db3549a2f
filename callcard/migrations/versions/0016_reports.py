"""reports: per-day call figures and scheduled reports

Revision ID: 0016_reports
Revises: 0015_admin_setup
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016_reports"
down_revision = "0015_admin_setup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
