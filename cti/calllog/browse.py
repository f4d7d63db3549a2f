"""The call log screen's queries: filters, one page newest first, totals, export rows.

Every query starts from :func:`cti.calllog.service.visible_calls` (operators: their team's
clients' calls and the calls that rang them; managers and admins: all). Pages go by keyset on
``(started_at, id)`` so that a page deep in a million calls costs what the first does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.errors import Invalid
from cti.calllog.finished import MISSED
from cti.calllog.models import DIRECTIONS, DISPOSITIONS, Call, CallLeg
from cti.calllog.service import visible_calls

#: most rows one export writes (an XLSX of this size is about 10 MB)
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class CallFilters:
    since: datetime | None = None
    until: datetime | None = None
    disposition: str | None = None
    extension: str | None = None
    queue: str | None = None
    client_id: int | None = None
    direction: str | None = None
    number: str | None = None


def where(actor: Principal, filters: CallFilters) -> list[Any]:
    """The WHERE clauses for ``filters`` as seen by ``actor`` (422 naming a bad filter)."""
    out: list[Any] = [visible_calls(actor)]
    if filters.since is not None:
        out.append(Call.started_at >= filters.since)
    if filters.until is not None:
        out.append(Call.started_at < filters.until)
    if filters.disposition:
        if filters.disposition not in DISPOSITIONS:
            raise Invalid("disposition", f"must be one of {', '.join(DISPOSITIONS)}")
        out.append(Call.disposition == filters.disposition)
    if filters.direction:
        if filters.direction not in DIRECTIONS:
            raise Invalid("direction", f"must be one of {', '.join(DIRECTIONS)}")
        out.append(Call.direction == filters.direction)
    if filters.extension:
        ext = filters.extension
        out.append(
            or_(
                Call.answered_extension == ext,
                exists().where(CallLeg.call_id == Call.id, CallLeg.extension == ext),
            )
        )
    if filters.queue:
        out.append(Call.queue == filters.queue)
    if filters.client_id is not None:
        out.append(Call.client_id == filters.client_id)
    if filters.number:
        from crm_core.phones import try_e164

        e164 = try_e164(filters.number)
        out.append(Call.e164 == e164 if e164 else Call.number == filters.number)
    return out


def page(
    db: Session,
    actor: Principal,
    filters: CallFilters,
    *,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> tuple[list[Call], tuple[datetime, int] | None]:
    """One page of calls, newest first, and the cursor of the next page (None: the last)."""
    query = select(Call).where(*where(actor, filters))
    if before is not None:
        query = query.where(tuple_(Call.started_at, Call.id) < tuple_(*before))
    rows = list(
        db.scalars(
            query.options(selectinload(Call.legs))
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].started_at, rows[-1].id) if more and rows else None)


@dataclass(frozen=True)
class CallTotals:
    count: int
    answered: int
    missed: int
    avg_wait_s: float | None
    avg_talk_s: float | None


def totals(db: Session, actor: Principal, filters: CallFilters) -> CallTotals:
    """How many calls match, answered and missed (missed, abandoned, busy), the average wait
    of all and the average talk of the answered ones."""
    answered = Call.disposition == "answered"
    row = db.execute(
        select(
            func.count(Call.id),
            func.sum(case((answered, 1), else_=0)),
            func.sum(case((Call.disposition.in_(MISSED), 1), else_=0)),
            func.avg(Call.wait_s),
            func.avg(case((answered, Call.talk_s), else_=None)),
        ).where(*where(actor, filters))
    ).one()
    count, n_answered, n_missed, wait, talk = row
    return CallTotals(
        count=int(count or 0),
        answered=int(n_answered or 0),
        missed=int(n_missed or 0),
        avg_wait_s=float(wait) if wait is not None else None,
        avg_talk_s=float(talk) if talk is not None else None,
    )


def client_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(select(Client.id, Client.display_name).where(Client.id.in_(ids)))
    return dict(rows.tuples().all())


def export_rows(
    db: Session, actor: Principal, filters: CallFilters, *, limit: int = EXPORT_LIMIT
) -> Iterator[tuple[Call, str]]:
    """The matching calls newest first with their client's name, read in batches of 1,000."""
    before: tuple[datetime, int] | None = None
    sent = 0
    while sent < limit:
        rows, before = page(db, actor, filters, before=before, limit=min(1000, limit - sent))
        names = client_names(db, {r.client_id for r in rows if r.client_id})
        for row in rows:
            yield row, names.get(row.client_id, "") if row.client_id else ""
        sent += len(rows)
        if before is None:
            return
