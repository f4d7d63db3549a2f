"""The reports' per-hour call figures equal a direct count over the call log, whatever mix of
calls was logged, and a rebuild gives the same rows."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import CALL_START, finished_call

_ids = itertools.count(1)

call_shape = st.fixed_dictionaries(
    {
        "direction": st.sampled_from(["inbound", "outbound", "internal"]),
        "disposition": st.sampled_from(["answered", "missed", "abandoned", "busy", "failed"]),
        "minutes": st.integers(0, 60 * 30),  # spread over 30 hours (several hours and days)
        "queue": st.sampled_from(["", "sales", "support"]),
        "extension": st.sampled_from(["101", "102", "109"]),  # 109 has no user
        "wait": st.floats(0, 90, allow_nan=False).map(lambda v: round(v, 3)),
        "talk": st.floats(0, 600, allow_nan=False).map(lambda v: round(v, 3)),
    }
)


def _log(shape: dict) -> str:
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    start = CALL_START + timedelta(minutes=shape["minutes"])
    answered = shape["disposition"] == "answered"
    linkedid = f"1700000000.{next(_ids)}"
    facts = finished_call(
        linkedid,
        direction=shape["direction"],
        disposition=shape["disposition"],
        start=start,
        queue=shape["queue"],
        rang=[shape["extension"]],
        answered_by=shape["extension"] if answered else None,
        wait_s=shape["wait"],
        talk_s=shape["talk"] if answered else 0,
        withheld=True,  # no callback tasks: this test is about the figures
        client_looked_up=True,
    )
    with session_scope() as s:
        log_call(s, facts)
    return linkedid


def _direct(db) -> dict:
    """The figures counted straight from the calls table."""
    from cti.calllog.models import Call
    from cti.daystats.service import CallFacts, aggregate, service_level_seconds

    return aggregate((CallFacts.of(c) for c in db.scalars(select(Call))), service_level_seconds())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mix=st.lists(call_shape, min_size=1, max_size=12))
def test_figures_equal_a_direct_count_after_any_mix_of_calls(db, users, mix):
    from cti.daystats.service import rebuild, stored_rows

    if "ana" not in users.created:
        users.add("ana", extension="101", team="Sales")
        users.add("bob", extension="102", team="Support")
    for shape in mix:
        _log(shape)
    db.expire_all()
    expected = _direct(db)
    assert stored_rows(db) == expected
    rebuild(db)
    assert stored_rows(db) == expected
    db.rollback()


def test_a_call_logged_twice_counts_once_and_figures_are_right(db, users):
    from cti.daystats.service import sums

    ana = users.add("ana", extension="101")
    first = _log(dict(direction="inbound", disposition="answered", minutes=0, queue="sales",
              extension="101", wait=12.5, talk=60))  # fmt: skip
    _log(dict(direction="inbound", disposition="answered", minutes=5, queue="sales",
              extension="101", wait=30, talk=40))  # fmt: skip
    _log(dict(direction="inbound", disposition="abandoned", minutes=7, queue="sales",
              extension="101", wait=45, talk=0))  # fmt: skip
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    again = finished_call(first, start=CALL_START)  # a resync repeats an old call
    with session_scope() as s:
        log_call(s, again)
    rows = sums(db, since=CALL_START, until=CALL_START + timedelta(hours=1), cut="operator")
    by_key = {r["key"]: r for r in rows}
    mine = by_key[str(ana.id)]
    assert (mine["calls"], mine["answered"], mine["answered_in_sl"]) == (2, 2, 1)
    assert (mine["wait_ms"], mine["talk_ms"]) == (42_500, 100_000)
    assert by_key[""]["abandoned"] == 1
    total = sums(db, since=CALL_START, until=CALL_START + timedelta(hours=1))[0]
    assert (total["calls"], total["answered"], total["abandoned"]) == (3, 2, 1)
