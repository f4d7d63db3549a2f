"""sales: contracts, invoices and payments

Revision ID: 0012_sales_invoices
Revises: 0011_sales_catalog_orders
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012_sales_invoices"
down_revision = "0011_sales_catalog_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
