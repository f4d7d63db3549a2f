"""Wall counters: what the big screen shows, applied event by event (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.wall.counters import FinishedCall, WallCounters

TZ = ZoneInfo("Europe/Bucharest")
NOON = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 12:00 in Bucharest


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def counters(now: datetime = NOON) -> tuple[WallCounters, Clock]:
    clock = Clock(now)
    return WallCounters(TZ, clock), clock


def call(call_id: str, phase: str, **extra) -> dict:
    message = {
        "type": "wall.call",
        "call_id": call_id,
        "phase": phase,
        "direction": "inbound",
        "queue": "",
        "extensions": ["101"],
        "started_at": NOON.isoformat(),
        "at": NOON.isoformat(),
    }
    message.update(extra)
    return message


def test_ringing_then_answered_then_ended_moves_between_now_and_today():
    wall, _ = counters()
    wall.apply(call("c1", "ringing"))
    assert wall.snapshot()["now"]["ringing"] == 1
    wall.apply(call("c1", "answered", answered_by="101"))
    now = wall.snapshot()["now"]
    assert (now["ringing"], now["in_progress"]) == (0, 1)
    wall.apply(call("c1", "ended", disposition="answered", answered_by="101", wait_s=8, talk_s=120))
    snap = wall.snapshot()
    assert snap["now"]["in_progress"] == 0
    assert snap["today"]["inbound_answered"] == 1
    assert snap["today"]["service_level"] == 1.0
    assert snap["today"]["avg_wait_s"] == 8
    assert snap["today"]["avg_talk_s"] == 120
    tile = next(op for op in snap["operators"] if op["extension"] == "101")
    assert tile["calls_today"] == 1 and tile["avg_talk_s"] == 120


def test_service_level_counts_calls_answered_within_20_seconds_of_all_offered():
    wall, _ = counters()
    wall.apply(call("a", "ended", disposition="answered", wait_s=5, talk_s=30, answered_by="101"))
    wall.apply(call("b", "ended", disposition="answered", wait_s=45, talk_s=30, answered_by="101"))
    wall.apply(call("c", "ended", disposition="abandoned", wait_s=70))
    wall.apply(call("d", "ended", disposition="missed", wait_s=30))
    today = wall.snapshot()["today"]
    assert (today["inbound_answered"], today["inbound_abandoned"], today["inbound_missed"]) == (
        2,
        1,
        1,
    )
    assert today["service_level"] == 0.25  # 1 of 4 offered answered within 20 s
    assert today["avg_wait_s"] == 25  # mean wait of the answered ones


def test_a_repeated_end_event_is_counted_once():
    wall, _ = counters()
    end = call("c1", "ended", disposition="missed")
    assert wall.apply(end)
    wall.apply(end)
    assert wall.snapshot()["today"]["inbound_missed"] == 1


def test_outbound_calls_count_for_the_operator_who_placed_them():
    wall, _ = counters()
    wall.apply(
        call(
            "o1",
            "ended",
            direction="outbound",
            disposition="answered",
            extensions=["102"],
            answered_by=None,
            talk_s=60,
        )
    )
    snap = wall.snapshot()
    assert snap["today"]["outbound"] == 1
    assert snap["today"]["inbound_answered"] == 0
    assert next(o for o in snap["operators"] if o["extension"] == "102")["calls_today"] == 1


def test_waiting_per_queue_and_longest_wait():
    wall, _ = counters()
    early = (NOON - timedelta(seconds=90)).isoformat()
    wall.apply(call("q1", "queued", queue="sales", started_at=early))
    wall.apply(call("q2", "ringing", queue="sales"))
    wall.apply(call("q3", "queued", queue="support"))
    now = wall.snapshot()["now"]
    assert now["waiting"] == 3
    assert {q["queue"]: q["count"] for q in now["queues"]} == {"sales": 2, "support": 1}
    assert now["longest_since"].startswith("2026-03-10T09:58:30")
    wall.apply(call("q1", "answered", queue="sales"))
    assert wall.snapshot()["now"]["waiting"] == 2


def test_operator_state_with_time_it_began():
    wall, _ = counters()
    wall.register_operator("101", 7, "ana", "Ana Pop")
    wall.apply(
        {
            "type": "operator.state",
            "extension": "101",
            "user_id": 7,
            "username": "ana",
            "state": "in_call",
            "since": "2026-03-10T09:59:00+00:00",
        }
    )
    tile = wall.snapshot()["operators"][0]
    assert (tile["name"], tile["state"], tile["since"]) == (
        "Ana Pop",
        "in_call",
        "2026-03-10T09:59:00Z",
    )
    assert not wall.apply({"type": "operator.state", "extension": "101", "state": "dancing"})


def test_csat_today_and_last_seven_days_and_per_operator():
    wall, _ = counters()
    wall.apply({"type": "survey.rated", "rating": 5, "operator_user_id": 7, "at": NOON.isoformat()})
    wall.apply(
        {
            "type": "survey.rated",
            "rating": 3,
            "operator_user_id": 7,
            "at": (NOON - timedelta(days=3)).isoformat(),
        }
    )
    wall.apply(
        {"type": "survey.rated", "rating": 1, "at": (NOON - timedelta(days=9)).isoformat()}
    )  # too old for the wall
    wall.register_operator("101", 7, "ana", "Ana")
    snap = wall.snapshot()
    assert snap["csat"]["today"] == {"avg": 5.0, "count": 1}
    assert snap["csat"]["week"] == {"avg": 4.0, "count": 2}
    assert snap["operators"][0]["rating"] == {"avg": 4.0, "count": 2}
    assert not wall.apply({"type": "survey.rated", "rating": 9})


def test_a_new_local_day_starts_from_zero_but_keeps_live_calls():
    wall, clock = counters(datetime(2026, 3, 10, 21, 50, tzinfo=UTC))  # 23:50 local
    wall.apply(call("x", "ended", disposition="missed", started_at=clock.now.isoformat()))
    wall.apply(call("live", "answered", started_at=clock.now.isoformat()))
    assert wall.snapshot()["today"]["inbound_missed"] == 1
    clock.now = datetime(2026, 3, 10, 22, 5, tzinfo=UTC)  # 00:05 local, next day
    assert wall.roll_day()
    snap = wall.snapshot()
    assert snap["today"]["inbound_missed"] == 0
    assert snap["now"]["in_progress"] == 1
    # the call that started yesterday ends today: it belongs to yesterday's figures
    wall.apply(
        call("live", "ended", disposition="answered", started_at="2026-03-10T21:55:00+00:00")
    )
    assert wall.snapshot()["today"]["inbound_answered"] == 0


def test_no_sales_tiles_without_sales():
    wall, _ = counters()
    assert wall.snapshot()["sales"] is None


finished = st.builds(
    FinishedCall,
    call_id=st.text("abcdef0123456789.", min_size=1, max_size=6),
    direction=st.sampled_from(["inbound", "outbound", "internal"]),
    disposition=st.sampled_from(["answered", "missed", "abandoned", "busy", "failed"]),
    started_at=st.just(NOON),
    wait_s=st.floats(0, 600),
    talk_s=st.floats(0, 3600),
    extension=st.sampled_from([None, "101", "102"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(finished, max_size=40))
def test_totals_always_add_up(calls):
    """Whatever arrives (repeats included): offered = answered + missed + abandoned over distinct
    inbound calls, the service level is a share, and operators never count more calls than
    there were answered or outbound calls."""
    wall, _ = counters()
    for c in calls:
        wall.add_finished(c)
        wall.add_finished(c)
    today = wall.snapshot()["today"]
    first = {}
    for c in calls:
        first.setdefault(c.call_id, c)
    inbound = [c for c in first.values() if c.direction == "inbound"]
    assert today["offered"] == len(inbound)
    assert today["inbound_answered"] == sum(c.disposition == "answered" for c in inbound)
    assert today["outbound"] == sum(c.direction == "outbound" for c in first.values())
    if today["service_level"] is not None:
        assert 0 <= today["service_level"] <= 1
    per_operator = sum(op["calls_today"] for op in wall.snapshot()["operators"])
    assert per_operator <= today["inbound_answered"] + today["outbound"]
