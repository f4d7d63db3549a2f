"""calls: the call log's totals from one index; none on direction or disposition

A column of three or six values makes a poor index, and SQLite without statistics picked it
over ``started_at``: a month of inbound calls in the call log read two thirds of a million rows
and sorted them (606 ms p95) instead of walking the month by date. The totals of a period
(counts, average wait and talk) then read the calls' rows (144 ms for a month of a million
calls a year); with every column they touch in one index after the date, 23 ms.

Revision ID: 0019_calls_indexes
Revises: 0018_backups
"""

from alembic import op

revision = "0019_calls_indexes"
down_revision = "0018_backups"
branch_labels = None
depends_on = None

TOTALS_COLUMNS = [
    "started_at",
    "direction",
    "disposition",
    "queue",
    "answered_extension",
    "client_id",
    "answered_user_id",
    "wait_s",
    "talk_s",
]


def upgrade() -> None:
    # plain DROP INDEX on both backends (no batch: SQLite would copy the table)
    op.drop_index("ix_calls_direction", table_name="calls")
    op.drop_index("ix_calls_disposition", table_name="calls")
    op.create_index("ix_calls_started_totals", "calls", TOTALS_COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_calls_started_totals", table_name="calls")
    op.create_index("ix_calls_disposition", "calls", ["disposition"], unique=False)
    op.create_index("ix_calls_direction", "calls", ["direction"], unique=False)
