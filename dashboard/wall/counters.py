"""Running counters for the wall: applied event by event, never recomputed from tables per refresh.

Everything here is plain state and arithmetic (no I/O) so it can be checked in isolation; the
service in :mod:`dashboard.wall.service` feeds it from the hub and rebuilds it from the
database at start (:mod:`dashboard.wall.rebuild`).

Definitions (the same on the wall, in the docs and in the tests):

- a call belongs to the local day (``Settings.timezone``) it started in;
- inbound *offered* = answered + missed + abandoned; *service level* = inbound calls answered
  within ``SERVICE_LEVEL_S`` seconds of waiting / offered;
- *average wait* = mean wait of answered inbound calls; *average talk* = mean talk time of
  answered calls (inbound and outbound);
- a call is counted once, when it ends (``wall.call`` phase ``ended``); a repeated end event
  or one already loaded from the database is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.events import (
    BusEvent,
    Message,
    OperatorState,
    SurveyRated,
    WallCall,
    WallCountersPushed,
)

SERVICE_LEVEL_S = 20
CSAT_DAYS = 7
OPERATOR_STATES = ("available", "ringing", "in_call", "paused", "offline")
LIVE_PHASES = ("ringing", "queued", "answered")


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


#: the bus messages the counters follow
WALL_EVENTS: dict[str, type[BusEvent]] = {
    cls.type: cls for cls in (WallCall, OperatorState, SurveyRated)
}


def wall_event(message: Message) -> BusEvent | None:
    """The typed event of a message the wall follows; None for the others (popups, ...)."""
    cls = WALL_EVENTS.get(message.get("type"))  # type: ignore[arg-type]
    return cls.parse(message) if cls is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass
class LiveCall:
    call_id: str
    phase: str
    direction: str
    queue: str
    started_at: datetime
    extensions: list[str] = field(default_factory=list)


@dataclass
class Today:
    inbound_answered: int = 0
    inbound_missed: int = 0
    inbound_abandoned: int = 0
    answered_within_sl: int = 0
    wait_total: float = 0.0
    wait_count: int = 0
    talk_total: float = 0.0
    talk_count: int = 0
    outbound: int = 0

    @property
    def offered(self) -> int:
        return self.inbound_answered + self.inbound_missed + self.inbound_abandoned

    def as_dict(self) -> dict[str, Any]:
        return {
            "inbound_answered": self.inbound_answered,
            "inbound_missed": self.inbound_missed,
            "inbound_abandoned": self.inbound_abandoned,
            "offered": self.offered,
            "service_level": (self.answered_within_sl / self.offered) if self.offered else None,
            "avg_wait_s": (self.wait_total / self.wait_count) if self.wait_count else None,
            "avg_talk_s": (self.talk_total / self.talk_count) if self.talk_count else None,
            "outbound": self.outbound,
        }


@dataclass
class OperatorTile:
    extension: str
    user_id: int | None = None
    username: str = ""
    name: str = ""
    state: str = "offline"
    since: datetime | None = None
    calls_today: int = 0
    talk_total: float = 0.0
    talk_count: int = 0


@dataclass
class RatingSum:
    total: int = 0
    count: int = 0

    def add(self, rating: int) -> None:
        self.total += rating
        self.count += 1

    def merged(self, other: RatingSum) -> RatingSum:
        return RatingSum(self.total + other.total, self.count + other.count)

    def as_dict(self) -> dict[str, Any]:
        return {"avg": (self.total / self.count) if self.count else None, "count": self.count}


@dataclass
class FinishedCall:
    """What the counters need of one finished call (from an event or from the call log)."""

    call_id: str
    direction: str
    disposition: str
    started_at: datetime
    wait_s: float = 0.0
    talk_s: float = 0.0
    extension: str | None = None  # who answered (or placed, for outbound)


def _finished(event: WallCall, started: datetime) -> FinishedCall:
    """An ended call's figures; an outbound call is counted for the extension that placed it."""
    answered_by = event.answered_by
    direction = event.direction or "inbound"
    if not answered_by and direction == "outbound" and event.extensions:
        answered_by = event.extensions[0]
    return FinishedCall(
        call_id=event.call_id,
        direction=direction,
        disposition=event.disposition or "missed",
        started_at=started,
        wait_s=event.wait_s,
        talk_s=event.talk_s,
        extension=str(answered_by) if answered_by else None,
    )


class WallCounters:
    def __init__(self, tz: ZoneInfo, clock: Callable[[], datetime] | None = None) -> None:
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))
        self.day: date = self.local_day(self.clock())
        self.live: dict[str, LiveCall] = {}
        self.today = Today()
        self.counted: set[str] = set()
        self.operators: dict[str, OperatorTile] = {}
        self.ratings: dict[date, RatingSum] = {}
        self.operator_ratings: dict[int, dict[date, RatingSum]] = {}
        self.overdue: list[dict[str, Any]] = []
        self.sales: dict[str, Any] | None = None  # dashboard.wall.sales; None: no ledger
        self.version = 0

    # --- time ---------------------------------------------------------------------------

    def local_day(self, when: datetime) -> date:
        return when.astimezone(self.tz).date()

    def day_start(self) -> datetime:
        """Midnight of the current local day, in UTC."""
        return datetime.combine(self.day, datetime.min.time(), self.tz).astimezone(UTC)

    def roll_day(self) -> bool:
        """Start a new day's figures at local midnight; live calls and states carry over."""
        today = self.local_day(self.clock())
        if today == self.day:
            return False
        self.day = today
        self.today = Today()
        self.counted.clear()
        for tile in self.operators.values():
            tile.calls_today = 0
            tile.talk_total = 0.0
            tile.talk_count = 0
        oldest = today - timedelta(days=CSAT_DAYS - 1)
        self.ratings = {d: r for d, r in self.ratings.items() if d >= oldest}
        for per_day in self.operator_ratings.values():
            for d in [d for d in per_day if d < oldest]:
                del per_day[d]
        self.version += 1
        return True

    # --- events ---------------------------------------------------------------------------

    def apply(self, message: BusEvent | Message) -> bool:
        """Update the counters from one bus message; True when something visible changed."""
        event = message if isinstance(message, BusEvent) else wall_event(message)
        if isinstance(event, WallCall):
            changed = self._on_call(event)
        elif isinstance(event, OperatorState):
            changed = self._on_state(event)
        elif isinstance(event, SurveyRated):
            changed = self._on_rating(event)
        else:
            return False
        if changed:
            self.version += 1
        return changed

    def _on_call(self, event: WallCall) -> bool:
        call_id, phase = event.call_id, event.phase
        if not call_id or phase not in (*LIVE_PHASES, "ended"):
            return False
        started = parse_time(event.started_at) or parse_time(event.at) or self.clock()
        if phase == "ended":
            self.live.pop(call_id, None)
            self.roll_day()
            self.add_finished(_finished(event, started))
            return True
        live = self.live.get(call_id)
        if live is None:
            live = LiveCall(
                call_id=call_id,
                phase=phase,
                direction=event.direction or "inbound",
                queue=event.queue or "",
                started_at=started,
            )
            self.live[call_id] = live
        live.phase = phase
        live.queue = event.queue or live.queue
        live.extensions = list(event.extensions or live.extensions)
        return True

    def add_finished(self, call: FinishedCall) -> bool:
        """Count one finished call of today (once); False when already counted or not today."""
        if call.call_id in self.counted or self.local_day(call.started_at) != self.day:
            return False
        self.counted.add(call.call_id)
        if call.direction == "internal":
            return False
        today = self.today
        answered = call.disposition == "answered"
        if call.direction == "outbound":
            today.outbound += 1
        elif answered:
            today.inbound_answered += 1
            today.wait_total += call.wait_s
            today.wait_count += 1
            if call.wait_s <= SERVICE_LEVEL_S:
                today.answered_within_sl += 1
        elif call.disposition == "abandoned":
            today.inbound_abandoned += 1
        else:  # missed, busy, failed: offered and not answered by anyone
            today.inbound_missed += 1
        if answered:
            today.talk_total += call.talk_s
            today.talk_count += 1
        if call.extension and (answered or call.direction == "outbound"):
            tile = self.operators.setdefault(call.extension, OperatorTile(call.extension))
            tile.calls_today += 1
            if answered:
                tile.talk_total += call.talk_s
                tile.talk_count += 1
        return True

    def _on_state(self, event: OperatorState) -> bool:
        extension, state = event.extension, event.state
        if not extension or state not in OPERATOR_STATES:
            return False
        tile = self.operators.setdefault(extension, OperatorTile(extension))
        tile.state = state
        tile.since = parse_time(event.since) or self.clock()
        if event.user_id is not None:
            tile.user_id = event.user_id
        if event.username:
            tile.username = event.username
            tile.name = tile.name or event.username
        return True

    def add_rating(self, rating: int, at: datetime, operator_user_id: int | None) -> bool:
        day = self.local_day(at)
        if not 1 <= rating <= 5 or (self.day - day).days >= CSAT_DAYS or day > self.day:
            return False
        self.ratings.setdefault(day, RatingSum()).add(rating)
        if operator_user_id is not None:
            self.operator_ratings.setdefault(operator_user_id, {}).setdefault(day, RatingSum()).add(
                rating
            )
        return True

    def _on_rating(self, event: SurveyRated) -> bool:
        self.roll_day()
        try:
            rating = int(event.rating)
        except (TypeError, ValueError):
            return False
        at = parse_time(event.at) or self.clock()
        operator = event.operator_user_id
        return self.add_rating(rating, at, int(operator) if operator is not None else None)

    def set_overdue(self, rows: list[dict[str, Any]]) -> bool:
        if rows == self.overdue:
            return False
        self.overdue = rows
        self.version += 1
        return True

    def set_sales(self, figures: dict[str, Any] | None) -> bool:
        if figures == self.sales:
            return False
        self.sales = figures
        self.version += 1
        return True

    def day_end(self) -> datetime:
        return datetime.combine(
            self.day + timedelta(days=1), datetime.min.time(), self.tz
        ).astimezone(UTC)

    def register_operator(
        self, extension: str, user_id: int | None, username: str, name: str
    ) -> OperatorTile:
        tile = self.operators.setdefault(extension, OperatorTile(extension))
        tile.user_id = user_id
        tile.username = username
        tile.name = name or username
        tile.since = tile.since or self.clock()
        return tile

    # --- output ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What the wall shows now (the page's first snapshot)."""
        return self.snapshot_event().to_message()

    def _operator_tiles(self) -> list[dict[str, Any]]:
        tiles = []
        for tile in sorted(self.operators.values(), key=lambda t: (t.name or t.extension).lower()):
            rated = RatingSum()
            for rating in self.operator_ratings.get(tile.user_id or -1, {}).values():
                rated = rated.merged(rating)
            tiles.append(
                {
                    "extension": tile.extension,
                    "user_id": tile.user_id,
                    "name": tile.name or tile.username or tile.extension,
                    "state": tile.state,
                    "since": _iso(tile.since),
                    "calls_today": tile.calls_today,
                    "avg_talk_s": (tile.talk_total / tile.talk_count) if tile.talk_count else None,
                    "rating": rated.as_dict(),
                }
            )
        return tiles

    def snapshot_event(self, events: list[list[Any]] | None = None) -> WallCountersPushed:
        """The snapshot as the ``wall.counters`` message; ``events``: what changed since the
        last push (a pushed snapshot carries them)."""
        waiting: dict[str, list[datetime]] = {}
        ringing = in_progress = 0
        for call in self.live.values():
            if call.phase == "answered":
                in_progress += 1
                continue
            if call.phase == "ringing":
                ringing += 1
            if call.direction == "inbound" and (call.queue or call.phase == "queued"):
                waiting.setdefault(call.queue or "—", []).append(call.started_at)
        queues = [
            {"queue": name, "count": len(times), "longest_since": _iso(min(times))}
            for name, times in sorted(waiting.items())
        ]
        all_waiting = [t for times in waiting.values() for t in times]
        week = RatingSum()
        for day, rating in self.ratings.items():
            if (self.day - day).days < CSAT_DAYS:
                week = week.merged(rating)
        return WallCountersPushed(
            version=self.version,
            at=_iso(self.clock()),
            day=self.day.isoformat(),
            now={
                "ringing": ringing,
                "in_progress": in_progress,
                "waiting": sum(q["count"] for q in queues),
                "queues": queues,
                "longest_since": _iso(min(all_waiting)) if all_waiting else None,
            },
            today=self.today.as_dict(),
            operators=self._operator_tiles(),
            csat={
                "today": self.ratings.get(self.day, RatingSum()).as_dict(),
                "week": week.as_dict(),
            },
            overdue=self.overdue,
            sales=self.sales,  # None without the sales ledger: no revenue tiles
            events=events,
        )
