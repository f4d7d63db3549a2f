"""What is left of a search-text refresh: the clients still to recompute, and its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base


class SearchRefreshQueue(Base):
    """A client whose ``search_text`` is to be recomputed (a searchable custom field changed).

    No foreign key: a queued id whose client is gone is simply dropped by the refresh."""

    __tablename__ = "search_refresh_queue"

    client_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class SearchRefreshState(Base):
    """One row (id 1): why the last refresh was asked for, its size, heartbeat and last error."""

    __tablename__ = "search_refresh_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    #: what asked for it, for clients that word it themselves (``crm_core.search.refresh.Cause``)
    cause: Mapped[str] = mapped_column(String(20), default="other")
    #: the label of the custom field changed, '' when not one field (a rebuild, several changes)
    field_label: Mapped[str] = mapped_column(String(120), default="")
    requested_at: Mapped[datetime | None]
    #: clients queued since the queue was last empty (progress = total - still queued)
    total: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime | None]
