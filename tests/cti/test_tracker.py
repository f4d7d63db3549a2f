"""The call tracker on its own: flows the recordings do not cover, presence, resync, odd input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcard.settings import Settings
from cti.ami import iter_messages
from cti.tracker.call import TrackedCall
from cti.tracker.channels import ExtensionMatcher
from cti.tracker.tracker import CallTracker
from tests.cti.ami_harness import expected_calls, trace_files


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


SETTINGS = Settings()


class Recorder:
    def __init__(self, settings: Settings | None = None) -> None:
        self.events: list[tuple[str, str, str | None]] = []
        self.presence: list[tuple[str, str]] = []
        self.ended: list[TrackedCall] = []
        self.clock = Clock()
        self.tracker = CallTracker(
            settings or SETTINGS,
            on_event=self.on_event,
            on_presence=lambda ext, state: self.presence.append((ext, state)),
            clock=self.clock,
        )

    def on_event(self, kind: str, call: TrackedCall, ext: str | None) -> None:
        self.events.append((kind, call.call_id, ext))
        if kind == "ended":
            self.ended.append(call)

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(k, e) for k, _c, e in self.events]

    def feed(self, *events: dict[str, str]) -> None:
        for event in events:
            self.tracker.feed(event)


def chan(name: str, uid: str, linkedid: str, **kw: str) -> dict[str, str]:
    return {"Channel": name, "Uniqueid": uid, "Linkedid": linkedid, **kw}


def dest(name: str, uid: str, linkedid: str) -> dict[str, str]:
    return {"DestChannel": name, "DestUniqueid": uid, "DestLinkedid": linkedid}


TRUNK = chan("PJSIP/trunk-00000001", "100.1", "100.1", Context="from-pstn", Exten="0213100101")
OP101 = chan("PJSIP/101-00000002", "100.2", "100.1", Context="internal", Exten="s")
OP102 = chan("PJSIP/102-00000003", "100.3", "100.1", Context="internal", Exten="s")
OP103 = chan("PJSIP/103-00000004", "100.4", "100.1", Context="internal", Exten="s")


def d(c: dict[str, str]) -> dict[str, str]:
    return dest(c["Channel"], c["Uniqueid"], c["Linkedid"])


def inbound(rec: Recorder, number: str = "+40721234567", **extra: str) -> None:
    rec.feed(
        {"Event": "Newchannel", **TRUNK, "CallerIDNum": number, "CallerIDName": "Ion", **extra},
        {"Event": "Newchannel", **OP101, "CallerIDNum": "101"},
        {"Event": "DialBegin", **TRUNK, **d(OP101), "DialString": "101"},
    )


def hangup_all(rec: Recorder, *channels: dict[str, str]) -> None:
    for c in channels:
        rec.feed({"Event": "Hangup", **c, "Cause": "16"})


# ------------------------------------------------------------------------------ extensions


@pytest.mark.parametrize(
    "name, ext",
    [
        ("PJSIP/101-0000001a", "101"),
        ("SIP/101-0000001a", "101"),
        ("IAX2/101-1234", "101"),
        ("Local/101@agents-00000005;1", "101"),
        ("Local/101@agents-00000005;2", "101"),
        ("PJSIP/trunk-00000001", None),
        ("SIP/trunk-00000001", None),
        ("Local/0213100101@from-pstn-00000000;2", None),
        ("Local/+40311234567@pstn-out-00000021;1", None),
        ("Local/123@from-trunk-0000abcd;2", None),  # a configured trunk context with a dash
        ("Local/5834@from-internal-xfer-00000000;1", "5834"),  # FreePBX transfer leg
        ("", None),
    ],
)
def test_extension_of_a_channel(name, ext):
    s = Settings()
    matcher = ExtensionMatcher(s.extension_pattern, s.trunk_contexts, s.trunk_prefixes)
    assert matcher.channel(name) == ext


def test_extension_of_queue_interfaces_and_devices():
    s = Settings()
    matcher = ExtensionMatcher(s.extension_pattern, s.trunk_contexts, s.trunk_prefixes)
    assert matcher.interface("PJSIP/101") == "101"
    assert matcher.interface("Local/102@agents") == "102"
    assert matcher.interface("Queue:support_avail") is None


def test_custom_pattern_and_trunk_settings():
    s = Settings(
        extension_pattern=r"^PJSIP/op-(\d+)-",
        trunk_prefixes=["PJSIP/carrier"],
        trunk_contexts=["from-carrier"],
    )
    rec = Recorder(s)
    trunk = chan("PJSIP/carrier-01", "1.1", "1.1", Context="from-carrier", Exten="021")
    op = chan("PJSIP/op-205-02", "1.2", "1.1")
    rec.feed(
        {"Event": "Newchannel", **trunk, "CallerIDNum": "0744333444"},
        {"Event": "Newchannel", **op},
        {"Event": "DialBegin", **trunk, **d(op)},
        {"Event": "DialEnd", **trunk, **d(op), "DialStatus": "ANSWER"},
    )
    hangup_all(rec, trunk, op)
    (call,) = rec.ended
    assert call.direction == "inbound" and call.rang == ["205"] and call.answered_by == "205"
    assert call.remote_e164 == "+40744333444"


# ------------------------------------------------------------------------------ call flows


def test_direct_call_answered_with_timings():
    rec = Recorder()
    inbound(rec)
    rec.clock.advance(2)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "ANSWER"})
    rec.clock.advance(30)
    hangup_all(rec, TRUNK, OP101)
    (call,) = rec.ended
    assert rec.kinds() == [("ringing", "101"), ("answered", "101"), ("ended", None)]
    assert call.disposition == "answered" and call.did == "0213100101"
    assert (call.wait_s, call.ring_s, call.talk_s) == (2.0, 2.0, 30.0)
    assert call.remote_number == "+40721234567" and call.remote_name == "Ion"


def test_busy_extension():
    rec = Recorder()
    inbound(rec)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "BUSY"})
    hangup_all(rec, OP101, TRUNK)
    assert rec.kinds() == [("ringing", "101"), ("ring_stopped", "101"), ("ended", None)]
    assert rec.ended[0].disposition == "busy"


def test_unreachable_extension_is_a_failed_call():
    rec = Recorder()
    inbound(rec)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "CHANUNAVAIL"})
    hangup_all(rec, OP101, TRUNK)
    assert rec.ended[0].disposition == "failed"


def test_duplicate_dialend_closes_the_popup_once():
    rec = Recorder()
    inbound(rec)
    for _ in range(3):
        rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "CANCEL"})
    hangup_all(rec, OP101, TRUNK)
    assert rec.kinds().count(("ring_stopped", "101")) == 1
    assert rec.ended[0].disposition == "missed"


def test_leg_hung_up_without_dialend_still_stops_ringing():
    rec = Recorder()
    inbound(rec)
    hangup_all(rec, OP101, TRUNK)
    assert rec.kinds() == [("ringing", "101"), ("ring_stopped", "101"), ("ended", None)]


@pytest.mark.parametrize(
    "setup",
    [
        {"var": ("CALLER_PRES", "prohib_not_screened")},
        {"var": ("__CALLER_PRES", "prohib")},
        {"number": "anonymous"},
        {"cid_pres": "35 (Presentation Prohibited, Network Number)"},
    ],
    ids=["varset", "inherited-varset", "anonymous", "cid-callingpres"],
)
def test_withheld_caller_is_never_shown(setup):
    rec = Recorder()
    inbound(rec, number=setup.get("number", "+40722000111"))
    if "var" in setup:
        name, value = setup["var"]
        rec.feed({"Event": "VarSet", **TRUNK, "Variable": name, "Value": value})
    if "cid_pres" in setup:
        rec.feed(
            {
                "Event": "NewCallerid",
                **OP101,
                "CallerIDNum": "+40722000111",
                "CID-CallingPres": setup["cid_pres"],
            }
        )
    # later events still carry the number in clear: it must not come back
    rec.feed(
        {
            "Event": "DialEnd",
            **TRUNK,
            "CallerIDNum": "+40722000111",
            **d(OP101),
            "DialStatus": "ANSWER",
        }
    )
    hangup_all(rec, TRUNK, OP101)
    call = rec.ended[0]
    assert call.withheld is True
    assert call.remote_number is None and call.remote_e164 is None and call.remote_name is None


def test_presentation_allowed_is_not_withheld():
    rec = Recorder()
    inbound(rec)
    rec.feed(
        {"Event": "VarSet", **TRUNK, "Variable": "CALLER_PRES", "Value": "allowed_not_screened"}
    )
    rec.feed(
        {
            "Event": "NewCallerid",
            **OP101,
            "CID-CallingPres": "0 (Presentation Allowed, Not Screened)",
        }
    )
    hangup_all(rec, TRUNK, OP101)
    assert rec.ended[0].withheld is False and rec.ended[0].remote_number == "+40721234567"


def test_attended_transfer():
    rec = Recorder()
    inbound(rec)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "ANSWER"})
    consult = chan("Local/103@internal-00000009;1", "100.5", "100.1")
    consult2 = chan("Local/103@internal-00000009;2", "100.6", "100.1")
    rec.feed(
        {"Event": "Newchannel", **consult},
        {"Event": "Newchannel", **consult2},
        {"Event": "DialBegin", **OP101, **d(consult)},
        {"Event": "Newchannel", **OP103},
        {"Event": "DialBegin", **consult2, **d(OP103)},
        {"Event": "DialEnd", **consult2, **d(OP103), "DialStatus": "ANSWER"},
        {"Event": "DialEnd", **OP101, **d(consult), "DialStatus": "ANSWER"},
    )
    # consultation answered: 101 still has the customer
    assert rec.tracker.calls["100.1"].answered_by == "101"
    rec.feed(
        {
            "Event": "AttendedTransfer",
            "Result": "Success",
            "OrigTransfererChannel": OP101["Channel"],
            "OrigTransfererLinkedid": "100.1",
            "TransfereeLinkedid": "100.1",
            "TransferTargetChannel": OP103["Channel"],
        }
    )
    hangup_all(rec, OP101, consult, consult2, TRUNK, OP103)
    call = rec.ended[0]
    assert [(t["from"], t["to"], t["kind"]) for t in call.transfers] == [("101", "103", "attended")]
    assert call.answered == ["101", "103"] and call.answered_by == "103"
    kinds = rec.kinds()
    assert kinds.index(("ringing", "103")) < kinds.index(("ring_stopped", "103"))
    assert kinds.index(("transferred", "103")) < kinds.index(("answered", "103"))
    assert kinds[-1] == ("ended", None)


def test_internal_call_between_extensions():
    rec = Recorder()
    a = chan("PJSIP/101-00000010", "7.1", "7.1", Context="internal", Exten="102", CallerIDNum="101")
    b = chan("PJSIP/102-00000011", "7.2", "7.1")
    rec.feed(
        {"Event": "Newchannel", **a},
        {"Event": "Newchannel", **b},
        {"Event": "DialBegin", **a, **d(b), "DialString": "102"},
        {"Event": "DialEnd", **a, **d(b), "DialStatus": "ANSWER"},
    )
    hangup_all(rec, a, b)
    call = rec.ended[0]
    assert call.direction == "internal" and call.origin_extension == "101"
    assert call.rang == ["102"] and call.answered_by == "102" and call.disposition == "answered"


@pytest.mark.parametrize(
    "status, disposition", [("ANSWER", "answered"), ("BUSY", "busy"), ("NOANSWER", "failed")]
)
def test_outbound_call_dialed_from_a_phone(status, disposition):
    rec = Recorder()
    op = chan("PJSIP/101-00000020", "8.1", "8.1", Context="internal", Exten="+40311234567")
    far = chan("PJSIP/trunk-00000021", "8.2", "8.1", Context="from-pstn", Exten="s")
    rec.feed(
        {"Event": "Newchannel", **op},
        {"Event": "Newchannel", **far, "CallerIDNum": "<unknown>"},
        {"Event": "DialBegin", **op, **d(far), "DialString": "+40311234567@trunk"},
    )
    rec.clock.advance(3)
    rec.feed({"Event": "DialEnd", **op, **d(far), "DialStatus": status})
    rec.clock.advance(10)
    hangup_all(rec, far, op)
    call = rec.ended[0]
    assert call.direction == "outbound" and call.remote_number == "+40311234567"
    assert call.remote_e164 == "+40311234567" and call.disposition == disposition
    if status == "ANSWER":
        assert call.answered_by == "101" and call.talk_s == 10.0
    assert not call.rang  # nobody's phone rang for a call they placed themselves


def test_recording_file_name():
    rec = Recorder()
    inbound(rec)
    rec.feed({"Event": "VarSet", **TRUNK, "Variable": "MIXMONITOR_FILENAME", "Value": "/rec/a.wav"})
    hangup_all(rec, TRUNK, OP101)
    assert rec.ended[0].recording == "/rec/a.wav"


def test_events_after_the_end_do_not_bring_a_call_back():
    rec = Recorder()
    inbound(rec)
    hangup_all(rec, TRUNK, OP101)
    rec.feed(
        {"Event": "Cdr", "UniqueID": "100.1"},
        {"Event": "Newchannel", **TRUNK},
        {"Event": "DialBegin", **TRUNK, **d(OP101)},
        {"Event": "Hangup", **TRUNK},
    )
    assert [k for k, _c, _e in rec.events].count("ended") == 1 and not rec.tracker.calls


def test_keys_in_any_case():
    rec = Recorder()
    rec.feed(
        {
            k.upper(): v
            for k, v in {"Event": "Newchannel", **TRUNK, "CallerIDNum": "+40721234567"}.items()
        }
    )
    rec.feed({k.lower(): v for k, v in {"Event": "Newchannel", **OP101}.items()})
    rec.feed({"event": "DialBegin", **{k.upper(): v for k, v in {**TRUNK, **d(OP101)}.items()}})
    assert rec.kinds() == [("ringing", "101")]


def test_a_failing_handler_does_not_stop_tracking():
    def broken(kind, call, ext):
        raise RuntimeError("popup service down")

    tracker = CallTracker(Settings(), on_event=broken)
    tracker.feed({"Event": "Newchannel", **TRUNK})
    tracker.feed({"Event": "Newchannel", **OP101})
    tracker.feed({"Event": "DialBegin", **TRUNK, **d(OP101)})
    assert tracker.calls["100.1"].ringing == {"101"}


# ------------------------------------------------------------------------------ resync


def snapshot_item(c: dict[str, str], state: str, bridge: str = "", duration: str = "00:00:10"):
    code = {"Up": "6", "Ringing": "5", "Ring": "4", "Down": "0"}[state]
    return {
        "Event": "CoreShowChannel",
        **c,
        "ChannelState": code,
        "ChannelStateDesc": state,
        "BridgeId": bridge,
        "Duration": duration,
        "CallerIDNum": c.get("CallerIDNum", "+40721234567"),
    }


def test_resync_picks_up_a_call_in_progress_as_partial():
    rec = Recorder()
    rec.tracker.resync(
        [
            snapshot_item({**TRUNK, "CallerIDNum": "+40721234567"}, "Up", "b1", "00:01:05"),
            snapshot_item(OP101, "Up", "b1", "00:01:00"),
        ],
        [],
    )
    call = rec.tracker.calls["100.1"]
    assert call.partial and call.answered_by == "101" and call.direction == "inbound"
    assert call.remote_number == "+40721234567"
    assert call.started_at == rec.clock.now - timedelta(seconds=65)
    # the same snapshot again (another reconnect) changes nothing
    rec.tracker.resync([snapshot_item(TRUNK, "Up", "b1"), snapshot_item(OP101, "Up", "b1")])
    hangup_all(rec, TRUNK, OP101)
    assert rec.kinds() == [("answered", "101"), ("ended", None)]


def test_resync_ends_calls_that_finished_while_disconnected_once():
    rec = Recorder()
    inbound(rec)
    rec.tracker.resync([], [])
    assert rec.kinds() == [("ringing", "101"), ("ring_stopped", "101"), ("ended", None)]
    rec.tracker.resync([], [])
    hangup_all(rec, TRUNK, OP101)
    assert [k for k, _c, _e in rec.events].count("ended") == 1


def test_resync_sees_an_answer_that_happened_during_the_gap():
    rec = Recorder()
    inbound(rec)
    rec.tracker.resync([snapshot_item(TRUNK, "Up", "b1"), snapshot_item(OP101, "Up", "b1")])
    assert rec.kinds() == [("ringing", "101"), ("answered", "101")]
    assert not rec.tracker.calls["100.1"].partial


def test_resync_of_an_outbound_call_in_progress():
    rec = Recorder()
    op = chan("PJSIP/101-00000020", "8.1", "8.1", Context="internal", Exten="+40311234567")
    far = chan("PJSIP/trunk-00000021", "8.2", "8.1", Context="from-pstn", Exten="s")
    rec.tracker.resync(
        [
            snapshot_item({**op, "CallerIDNum": "101"}, "Up", "b8"),
            snapshot_item({**far, "CallerIDNum": "+40311234567"}, "Up", "b8"),
        ]
    )
    call = rec.tracker.calls["8.1"]
    assert call.direction == "outbound" and call.partial
    assert call.remote_number == "+40311234567" and call.answered_by == "101"
    hangup_all(rec, far, op)
    assert rec.ended[0].disposition == "answered"


def test_resync_of_an_internal_call_in_progress():
    rec = Recorder()
    a = chan("PJSIP/101-00000030", "9.1", "9.1", Context="internal", Exten="102")
    b = chan("PJSIP/102-00000031", "9.2", "9.1")
    rec.tracker.resync([snapshot_item(a, "Up", "b9"), snapshot_item(b, "Up", "b9")])
    call = rec.tracker.calls["9.1"]
    assert call.direction == "internal" and call.answered_by == "102" and not call.transfers


def test_resync_queue_entries_give_the_queue():
    rec = Recorder()
    rec.feed({"Event": "Newchannel", **TRUNK, "CallerIDNum": "+40721234567"})
    rec.tracker.resync(
        [snapshot_item(TRUNK, "Up")],
        [{"Event": "QueueEntry", "Queue": "support", "Uniqueid": "100.1", "Wait": "12"}],
    )
    call = rec.tracker.calls["100.1"]
    assert call.queue == "support"
    assert call.queue_joined_at == rec.clock.now - timedelta(seconds=12)


# ------------------------------------------------------------------------------ presence


def test_presence_from_device_queue_and_contact_events():
    rec = Recorder()
    rec.feed(
        {"Event": "ContactStatus", "AOR": "101", "ContactStatus": "NonQualified"},
        {"Event": "PeerStatus", "Peer": "PJSIP/101", "PeerStatus": "Reachable"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "NOT_INUSE"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "RINGING"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "INUSE"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/101", "State": "NOT_INUSE"},
        {"Event": "QueueMemberPause", "Interface": "PJSIP/101", "Paused": "1"},
        {"Event": "QueueMemberPause", "Interface": "PJSIP/101", "Paused": "0"},
        {"Event": "PeerStatus", "Peer": "PJSIP/101", "PeerStatus": "Unreachable"},
        {"Event": "ContactStatus", "AOR": "101", "ContactStatus": "Reachable"},
        {"Event": "DeviceStateChange", "Device": "Queue:support_avail", "State": "INUSE"},
    )
    assert rec.presence == [
        ("101", "available"),
        ("101", "ringing"),
        ("101", "in_call"),
        ("101", "available"),
        ("101", "paused"),
        ("101", "available"),
        ("101", "offline"),
        ("101", "available"),
    ]
    assert rec.tracker.presence == {"101": "available"}


def test_presence_of_an_unregistered_queue_member():
    rec = Recorder()
    rec.feed({"Event": "QueueMemberStatus", "Interface": "PJSIP/102", "Status": "5", "Paused": "0"})
    assert rec.presence == [("102", "offline")]


# ------------------------------------------------------------------------------ recordings, fed directly


@pytest.mark.parametrize("path", trace_files(), ids=lambda p: p.name)
def test_recordings_fed_straight_into_the_tracker(path):
    """Same expectations as the TCP ground-truth test, without the network (fast, exact)."""
    import json

    meta = json.loads(path.read_text())
    conns = meta["connections"]
    single = [c for c in conns if c.get("label") == "reference"] or conns
    if len(single) != 1:
        pytest.skip("multi-connection scenario without a reference stream")  # covered over TCP
    rec = Recorder()
    for msg in iter_messages((path.parent / single[0]["transcript"]).read_bytes()):
        if "event" in msg and "actionid" not in msg:
            rec.tracker.feed(msg)
    got = {c.call_id: c for c in rec.ended}
    for exp in expected_calls(path):
        call = got[exp.call_id]
        assert (call.direction, call.remote_number, call.rang, call.answered, call.disposition) == (
            exp.direction,
            exp.remote_number,
            exp.rang,
            exp.answered,
            exp.disposition,
        )
    assert not rec.tracker.calls


EVENT_NAMES = sorted(
    [
        "Newchannel",
        "NewCallerid",
        "Newstate",
        "VarSet",
        "DialBegin",
        "DialEnd",
        "AgentCalled",
        "AgentConnect",
        "AgentComplete",
        "QueueCallerJoin",
        "QueueCallerAbandon",
        "BlindTransfer",
        "AttendedTransfer",
        "BridgeEnter",
        "Hangup",
        "DeviceStateChange",
        "QueueMemberStatus",
        "PeerStatus",
        "ContactStatus",
    ]
)
KEYS = [
    "Channel",
    "Uniqueid",
    "Linkedid",
    "DestChannel",
    "DestUniqueid",
    "DestLinkedid",
    "DialStatus",
    "CallerIDNum",
    "Interface",
    "Device",
    "State",
    "Status",
    "Value",
    "Variable",
    "Extension",
    "TransfereeLinkedid",
]
VALUES = st.one_of(
    st.sampled_from(["1.1", "1.2", "PJSIP/101-01", "PJSIP/trunk-02", "ANSWER", "CANCEL", ""]),
    st.text(max_size=20),
)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(EVENT_NAMES), st.dictionaries(st.sampled_from(KEYS), VALUES)),
        max_size=40,
    )
)
def test_any_event_soup_never_raises_and_ends_each_call_at_most_once(events):
    rec = Recorder()
    for name, fields in events:
        rec.tracker.feed({"Event": name, **fields})
    rec.tracker.resync([], [])
    ended = [c for k, c, _e in rec.events if k == "ended"]
    assert len(ended) == len(set(ended))
    assert not rec.tracker.calls
