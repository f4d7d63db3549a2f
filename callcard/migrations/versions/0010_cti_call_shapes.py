"""cti: the call log says where a call went when no operator took it

A call forwarded to an outside number records that number (answered there); a caller who left a
voicemail message is recorded as such, with the message's duration and file where Asterisk
reports them, so the calls to return can show it.

Revision ID: 0010_cti_call_shapes
Revises: 0008_core_search_refresh_cause
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_cti_call_shapes"
down_revision = "0009_auth_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("forwarded_to", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("voicemail_left", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("voicemail_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("voicemail_file", sa.String(length=255), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("voicemail_file")
        batch_op.drop_column("voicemail_s")
        batch_op.drop_column("voicemail_left")
        batch_op.drop_column("forwarded_to")
