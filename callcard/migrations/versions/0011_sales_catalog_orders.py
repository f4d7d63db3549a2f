"""sales: catalog, price lists and orders

Revision ID: 0011_sales_catalog_orders
Revises: 0010_cti_call_shapes
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_sales_catalog_orders"
down_revision = "0010_cti_call_shapes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
