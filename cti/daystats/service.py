"""Keep :class:`CallHourStat` exact: one upsert per cut when a call is logged, a rebuild from the
call log for existing data (``callcard reports rebuild``), and the reading side's sums.

A call counts in the UTC hour it started. Reports in any whole-hour time zone sum hours into
local days exactly. The service level counts answered calls that waited at most
``service_level_seconds`` (setting, default 20): after changing it, rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cti.calllog.models import Call
from cti.daystats.models import CallHourStat

COUNTS = ("calls", "answered", "missed", "abandoned", "busy", "failed", "answered_in_sl")
SUMS = ("wait_ms", "talk_ms")
FIGURES = COUNTS + SUMS
DISPOSITION_COUNTS = ("answered", "missed", "abandoned", "busy", "failed")


def service_level_seconds() -> int:
    from crm_core.config import get_settings

    return int(getattr(get_settings(), "service_level_seconds", 20))


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class CallFacts:
    """The few fields of a call the figures depend on."""

    started_at: datetime
    direction: str
    disposition: str
    queue: str
    answered_user_id: int | None
    team_id: int | None
    wait_s: float
    talk_s: float

    @classmethod
    def of(cls, call: Any) -> CallFacts:
        return cls(
            call.started_at,
            call.direction,
            call.disposition,
            call.queue or "",
            call.answered_user_id,
            call.team_id,
            float(call.wait_s or 0),
            float(call.talk_s or 0),
        )


def figures(facts: CallFacts, sl_seconds: int) -> dict[str, int]:
    """What one call adds to each of its rows."""
    answered = facts.disposition == "answered"
    out = {name: int(facts.disposition == name) for name in DISPOSITION_COUNTS}
    out["calls"] = 1
    out["answered_in_sl"] = int(answered and facts.wait_s <= sl_seconds)
    out["wait_ms"] = int(round(facts.wait_s * 1000))
    out["talk_ms"] = int(round(facts.talk_s * 1000))
    return out


def keys(facts: CallFacts) -> list[tuple[str, str]]:
    """The (cut, key) rows a call counts in: every call, its answerer, its queue, its team."""
    return [
        ("total", ""),
        ("operator", str(facts.answered_user_id or "")),
        ("queue", facts.queue[:80]),
        ("team", str(facts.team_id or "")),
    ]


def record_call(db: Session, call: Call) -> None:
    """Add a just-logged call to its rows, in the caller's transaction (an upsert per cut, so
    concurrent loggers never lose a count)."""
    facts = CallFacts.of(call)
    adds = figures(facts, service_level_seconds())
    hour = hour_of(facts.started_at)
    upsert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = CallHourStat.__table__
    for cut, key in keys(facts):
        stmt = upsert(CallHourStat).values(
            hour=hour, direction=facts.direction, cut=cut, key=key, **adds
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["hour", "direction", "cut", "key"],
            set_={name: table.c[name] + stmt.excluded[name] for name in FIGURES},
        )
        db.execute(stmt)


def aggregate(calls: Iterable[CallFacts], sl_seconds: int) -> dict[tuple, dict[str, int]]:
    """The rows for a set of calls, computed in memory (rebuild and tests)."""
    rows: dict[tuple, dict[str, int]] = {}
    for facts in calls:
        adds = figures(facts, sl_seconds)
        hour = hour_of(facts.started_at)
        for cut, key in keys(facts):
            row = rows.setdefault((hour, facts.direction, cut, key), dict.fromkeys(FIGURES, 0))
            for name, value in adds.items():
                row[name] += value
    return rows


def _all_call_facts(db: Session, batch: int = 20_000) -> Iterator[CallFacts]:
    columns = (
        Call.started_at,
        Call.direction,
        Call.disposition,
        Call.queue,
        Call.answered_user_id,
        Call.team_id,
        Call.wait_s,
        Call.talk_s,
    )
    result = db.execute(select(*columns).execution_options(yield_per=batch))
    for row in result:
        yield CallFacts.of(row)


def rebuild(db: Session) -> int:
    """Recompute every row from the call log (in the caller's transaction); returns the rows.

    Run it once after upgrading, after importing calls by other means, or after changing
    ``service_level_seconds``.
    """
    rows = aggregate(_all_call_facts(db), service_level_seconds())
    db.execute(delete(CallHourStat))
    items = [
        {"hour": h, "direction": d, "cut": c, "key": k, **values}
        for (h, d, c, k), values in rows.items()
    ]
    for start in range(0, len(items), 5000):
        db.execute(insert(CallHourStat), items[start : start + 5000])
    db.flush()
    return len(items)


def stored_rows(db: Session) -> dict[tuple, dict[str, int]]:
    """Every stored row as ``aggregate`` returns them (tests compare the two)."""
    out = {}
    for row in db.scalars(select(CallHourStat)):
        out[(row.hour, row.direction, row.cut, row.key)] = {n: getattr(row, n) for n in FIGURES}
    return out


def sums(
    db: Session,
    *,
    since: datetime,
    until: datetime,
    cut: str = "total",
    directions: tuple[str, ...] = ("inbound",),
    by_hour: bool = False,
) -> list[dict[str, Any]]:
    """Figures of the hours in [since, until): per key of ``cut`` (and per hour if asked)."""
    group = [CallHourStat.key] + ([CallHourStat.hour] if by_hour else [])
    query = (
        select(*group, *(func.sum(getattr(CallHourStat, n)).label(n) for n in FIGURES))
        .where(
            CallHourStat.cut == cut,
            CallHourStat.hour >= hour_of(since),
            CallHourStat.hour < until,
            CallHourStat.direction.in_(directions),
        )
        .group_by(*group)
    )
    return [
        {**row._mapping, **{n: int(row._mapping[n] or 0) for n in FIGURES}}
        for row in db.execute(query)
    ]
