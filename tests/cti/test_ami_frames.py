"""The AMI frame parser: whatever TCP delivers, the same events come out and nothing crashes."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami import ActionParser, FrameParser, iter_messages
from tests.cti.ami_harness import transcript_files

TRANSCRIPTS = transcript_files()
ALL_BYTES = {p.name: p.read_bytes() for p in TRANSCRIPTS}
SAMPLE = ALL_BYTES["01-direct-answered.ami"]
REFERENCE = {name: list(iter_messages(data)) for name, data in ALL_BYTES.items()}


def _feed_in_chunks(data: bytes, cuts: list[int]) -> list[dict]:
    parser = FrameParser()
    out: list[dict] = []
    last = 0
    for cut in sorted(set(cuts)):
        out.extend(parser.feed(data[last:cut]))
        last = cut
    out.extend(parser.feed(data[last:]))
    return out


def test_a_real_transcript_parses_to_the_recorded_message_count():
    msgs = REFERENCE["01-direct-answered.ami"]
    # README: 119 AMI messages, 116 of them events
    assert len(msgs) == 119
    assert sum(1 for m in msgs if "event" in m) == 116
    first_event = next(m for m in msgs if m.get("event") == "Newchannel")
    assert first_event["channel"] == "Local/0213100101@from-pstn-00000000;1"
    assert first_event["linkedid"] == "1795713250.0"


def test_banner_gives_the_protocol_version():
    parser = FrameParser()
    parser.feed(SAMPLE[:40])
    assert parser.version == "11.0.0"


def test_keys_are_case_insensitive():
    # Status says BridgeID, CoreShowChannel says BridgeId (README surprise 8)
    data = b"Event: Status\r\nBridgeID: abc\r\nUniqueID: 1.2\r\n\r\n"
    (msg,) = FrameParser().feed(data)
    assert msg["bridgeid"] == "abc" and msg.field("BridgeId") == "abc"
    assert msg.field("UNIQUEID") == "1.2"


def test_a_utf8_character_split_across_reads_survives():
    data = "Event: NewCallerid\r\nCallerIDName: Ștefan Rusu\r\n\r\n".encode()
    split = data.index("Ș".encode()) + 1  # in the middle of the two-byte character
    parser = FrameParser()
    assert parser.feed(data[:split]) == []
    (msg,) = parser.feed(data[split:])
    assert msg["calleridname"] == "Ștefan Rusu"


def test_empty_values_and_repeated_keys():
    data = b"Event: VarSet\r\nAccountCode: \r\nExten:\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    (msg,) = FrameParser().feed(data)
    assert msg["accountcode"] == "" and msg["exten"] == ""
    assert msg.multi["variable"] == ["A=1", "B=2"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(ALL_BYTES)),
    cuts=st.lists(st.integers(min_value=0, max_value=100_000), max_size=60),
)
def test_any_chunking_of_a_real_transcript_gives_the_same_events(name, cuts):
    data = ALL_BYTES[name]
    cuts = [c % (len(data) + 1) for c in cuts]
    got = _feed_in_chunks(data, cuts) + FrameParser().feed(b"")
    reference = REFERENCE[name]
    assert [dict(m) for m in got] == [dict(m) for m in reference[: len(got)]]
    assert len(got) == len(reference)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    garbage=st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=8),
    positions=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=200_000), max_size=20),
)
def test_garbage_between_messages_never_crashes_and_messages_after_it_parse(
    garbage, positions, cuts
):
    """Junk lines (any bytes, ended by a line break) between messages cost nothing else."""
    blocks = SAMPLE.split(b"\r\n\r\n")
    reference = [dict(m) for m in REFERENCE["01-direct-answered.ami"]]
    stream = bytearray()
    junk_at = {p % len(blocks): g for p, g in zip(positions, garbage, strict=False)}
    for i, block in enumerate(blocks):
        if i in junk_at and i > 0:
            # junk must not contain a line break that would glue it to an AMI key line
            junk = junk_at[i].replace(b"\r", b"").replace(b"\n", b"")
            stream += junk + b"\r\n"
        stream += block + (b"\r\n\r\n" if i < len(blocks) - 1 else b"")
    data = bytes(stream)
    got = _feed_in_chunks(data, [c % (len(data) + 1) for c in cuts])
    got_dicts = [dict(m) for m in got]
    # every real message is there, in order (junk that happens to look like "Key: value"
    # before a message is dropped with the message boundary)
    assert [m for m in got_dicts if m in reference] == reference


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_random_bytes_never_crash_the_parser(data, cuts):
    parser = FrameParser()
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        parser.feed(data[last:cut])
        last = cut
    parser.feed(data[last:])
    # a valid message after the noise still parses
    msgs = parser.feed(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 1.1\r\n\r\n")
    assert msgs and msgs[-1]["event"] == "Hangup" and msgs[-1]["uniqueid"] == "1.1"


def test_oversized_header_is_skipped_and_logged(caplog):
    parser = FrameParser(max_line_chars=1000, max_message_chars=5000)
    caplog.set_level(logging.WARNING, logger="callcard.cti.ami")
    huge = b"Event: Noise\r\nX: " + b"A" * 20_000 + b"\r\n\r\n"
    msgs = parser.feed(huge[:7000]) + parser.feed(huge[7000:])
    msgs += parser.feed(b"Event: Hangup\r\nUniqueid: 9.9\r\n\r\n")
    assert [m["event"] for m in msgs] == ["Hangup"]
    assert parser.stats.oversized >= 1
    assert "over" in caplog.text


def test_missing_blank_line_between_messages_is_repaired():
    data = b"Event: Newchannel\r\nUniqueid: 1.1\r\nEvent: Hangup\r\nUniqueid: 1.1\r\n\r\n"
    msgs = FrameParser().feed(data)
    assert [(m["event"], m["uniqueid"]) for m in msgs] == [("Newchannel", "1.1"), ("Hangup", "1.1")]


def test_an_event_carrying_a_response_key_stays_one_message_after_junk():
    # OriginateResponse has both Event and Response; junk in front sends it down the slow path
    data = (
        b"junk\r\nEvent: OriginateResponse\r\nActionID: 1\r\nResponse: Success\r\nReason: 4\r\n\r\n"
    )
    (msg,) = FrameParser().feed(data)
    assert msg["event"] == "OriginateResponse" and msg["response"] == "Success"


def test_a_junk_event_line_does_not_swallow_the_next_message():
    # found by Hypothesis: a stray "Event:" line right before a response
    data = b"Event:\r\nResponse: Goodbye\r\nActionID: 3\r\n\r\n"
    (msg,) = FrameParser().feed(data)
    assert dict(msg) == {"response": "Goodbye", "actionid": "3"}
    data = b"Event: Junk\r\nResponse: Goodbye\r\nActionID: 3\r\n\r\n"
    assert [m.name for m in FrameParser().feed(data)] == ["Junk", "Goodbye"]


def test_junk_glued_in_front_of_a_message_costs_only_the_junk():
    data = b"\x00\xffgarbage\r\nNot: a message\r\nEvent: Hangup\r\nUniqueid: 2.2\r\n\r\n"
    (msg,) = FrameParser().feed(data)
    assert dict(msg) == {"event": "Hangup", "uniqueid": "2.2"}


def test_command_output_is_kept_as_content():
    data = b"Response: Follows\r\nActionID: 7\r\nsome output line\r\n--END COMMAND--\r\n\r\n"
    (msg,) = FrameParser().feed(data)
    assert msg["actionid"] == "7"
    assert "some output line" in msg.content


def test_action_parser_accepts_any_key_order():
    # panoramisk writes the keys of an action sorted: Action is not always first
    msgs = ActionParser().feed(b"Account: x\r\nAction: Originate\r\nAsync: true\r\n\r\n")
    assert msgs[0]["action"] == "Originate" and msgs[0]["async"] == "true"
