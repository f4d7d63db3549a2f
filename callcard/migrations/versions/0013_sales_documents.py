"""sales: print forms and company details

Revision ID: 0013_sales_documents
Revises: 0012_sales_invoices
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sales_documents"
down_revision = "0012_sales_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_form", sa.String(length=40), nullable=False),
        sa.Column("tax_id", sa.String(length=40), nullable=False),
        sa.Column("kpp", sa.String(length=20), nullable=False),
        sa.Column("registration_no", sa.String(length=60), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("bank_account", sa.String(length=60), nullable=False),
        sa.Column("bank_code", sa.String(length=40), nullable=False),
        sa.Column("correspondent_account", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("director", sa.String(length=200), nullable=False),
        sa.Column("accountant", sa.String(length=200), nullable=False),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("vat_payer", sa.Boolean(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_content_type", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_profile")),
    )
    op.create_table(
        "document_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("format", sa.String(length=5), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_document_templates_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_templates")),
        sa.UniqueConstraint("kind", "language", "format", name="uq_document_templates"),
    )


def downgrade() -> None:
    op.drop_table("document_templates")
    op.drop_table("company_profile")
