"""Call shapes beyond the plain answered/missed call, built from AMI event dicts: voicemail (no
recording of it exists), call pickup as an AMI user without event filters sees it (``Pickup``
before the ``DialEnd``), a ring group's loser, a forward, and what the call log keeps of them.

The recorded versions of pickup, forward, ring group and consultation call are replayed by
test_ami_traces.py; these cover the streams the recordings do not."""

from __future__ import annotations

from sqlalchemy import select

from tests.cti.test_tracker import OP101, OP102, TRUNK, Recorder, chan, d, hangup_all, inbound
from tests.factories import finished_call


def _varset(c: dict[str, str], variable: str, value: str) -> dict[str, str]:
    return {"Event": "VarSet", **c, "Variable": variable, "Value": value}


def _to_voicemail(rec: Recorder, *, with_message: bool = True) -> None:
    """Rings 101 for 8 s (no answer), then VoiceMail(101@default,u) for 6.1 s."""
    inbound(rec)
    rec.clock.advance(8)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "NOANSWER"})
    hangup_all(rec, OP101)
    rec.feed(
        {"Event": "Newexten", **TRUNK, "Application": "VoiceMail", "AppData": "101@default,u"},
        {"Event": "Newstate", **TRUNK, "ChannelStateDesc": "Up"},  # VoiceMail answers
    )
    rec.clock.advance(1.1)
    if with_message:
        path = "/var/spool/asterisk/voicemail/default/101/INBOX/msg0000"
        rec.feed(_varset(TRUNK, "VM_MESSAGEFILE", path))
    rec.clock.advance(5)
    if with_message:
        rec.feed({"Event": "MessageWaiting", "Mailbox": "101@default", "Waiting": "1", "New": "1"})
    rec.feed(_varset(TRUNK, "VMSTATUS", "SUCCESS"))
    hangup_all(rec, TRUNK)


def test_voicemail_is_missed_left_a_message_and_not_ring_time():
    rec = Recorder()
    _to_voicemail(rec)
    (call,) = rec.ended
    assert call.disposition == "missed" and call.answered_at is None
    assert call.ring_s == 8.0 and call.wait_s == 8.0  # not 14.1: voicemail time is not ringing
    assert call.voicemail_summary() == {
        "mailbox": "101@default",
        "left_message": True,
        "file": "/var/spool/asterisk/voicemail/default/101/INBOX/msg0000",
        "message_s": 5.0,  # from the beep (VM_MESSAGEFILE) to the hangup
    }
    assert call.summary()["voicemail"]["left_message"] is True


def test_voicemail_behind_the_sample_event_filter_is_not_ring_time():
    """The sample manager.conf filter lets no voicemail event through: the caller's channel
    going up after the phones stopped ringing (VoiceMail answers it) is all there is."""
    rec = Recorder()
    inbound(rec)
    rec.clock.advance(8)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "NOANSWER"})
    hangup_all(rec, OP101)
    rec.feed({"Event": "Newstate", **TRUNK, "ChannelStateDesc": "Up"})
    rec.clock.advance(6.1)
    hangup_all(rec, TRUNK)
    (call,) = rec.ended
    assert call.disposition == "missed" and call.ring_s == 8.0 and call.voicemail is None


def test_voicemail_without_a_message_and_a_reported_duration():
    rec = Recorder()
    _to_voicemail(rec, with_message=False)
    (call,) = rec.ended
    assert call.disposition == "missed" and call.ring_s == 8.0
    assert call.voicemail is not None and not call.voicemail.left_message
    rec = Recorder()
    inbound(rec)
    rec.clock.advance(3)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "NOANSWER"})
    rec.feed(_varset(TRUNK, "VM_MESSAGEFILE", "msg0001"), _varset(TRUNK, "VM_DUR", "12"))
    rec.clock.advance(20)
    hangup_all(rec, OP101, TRUNK)
    (call,) = rec.ended
    assert call.ring_s == 3.0 and call.voicemail_summary()["message_s"] == 12.0


def test_pickup_seen_with_the_pickup_event_first():
    """An AMI user without event filters gets ``Pickup`` before the caller's ``DialEnd``."""
    rec = Recorder()
    inbound(rec)
    picker = chan("PJSIP/102-00000005", "200.5", "200.5", Context="internal", Exten="*8")
    rec.clock.advance(4)
    rec.feed(
        {"Event": "Newchannel", **picker, "CallerIDNum": "102"},
        {
            "Event": "Pickup",
            **picker,
            "TargetChannel": OP101["Channel"],
            "TargetUniqueid": OP101["Uniqueid"],
            "TargetLinkedid": OP101["Linkedid"],
        },
    )
    hangup_all(rec, OP101)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(picker), "DialStatus": "ANSWER"})
    rec.clock.advance(10)
    rec.feed({"Event": "Hangup", **picker, "Linkedid": TRUNK["Linkedid"], "Cause": "16"})
    hangup_all(rec, TRUNK)
    (call,) = rec.ended  # no separate internal call for the picker's *8
    assert call.call_id == TRUNK["Linkedid"] and call.disposition == "answered"
    assert call.rang == ["101"] and call.answered == ["102"] and call.answered_by == "102"
    assert (call.ring_s, call.talk_s) == (4.0, 10.0)
    kinds = rec.kinds()
    # 101's popup closes as "answered elsewhere": its ring stops after the answer is known
    assert kinds.index(("answered", "102")) < kinds.index(("ring_stopped", "101"))


def test_ring_group_loser_is_told_after_the_winner_answers():
    rec = Recorder()
    inbound(rec)
    rec.feed(
        {"Event": "Newchannel", **OP102, "CallerIDNum": "102"},
        {"Event": "DialBegin", **TRUNK, **d(OP102), "DialString": "102"},
    )
    rec.clock.advance(3)
    rec.feed(  # Asterisk sends the loser's CANCEL before the winner's ANSWER
        {"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "CANCEL"},
        {"Event": "DialEnd", **TRUNK, **d(OP102), "DialStatus": "ANSWER"},
        {"Event": "Hangup", **OP101, "Cause": "26"},
    )
    hangup_all(rec, TRUNK, OP102)
    kinds = rec.kinds()
    assert kinds.index(("answered", "102")) < kinds.index(("ring_stopped", "101"))
    assert rec.ended[0].rang == ["101", "102"] and rec.ended[0].answered_by == "102"


def test_caller_gives_up_in_a_ring_group_stops_ringing_at_once():
    rec = Recorder()
    inbound(rec)
    rec.clock.advance(5)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(OP101), "DialStatus": "CANCEL"})
    hangup_all(rec, OP101)
    assert rec.kinds()[-1] == ("ring_stopped", "101")  # before the caller's own hangup
    hangup_all(rec, TRUNK)
    assert rec.ended[0].disposition == "missed" and rec.ended[0].ring_s == 5.0


def test_forward_unanswered_at_the_destination_is_missed():
    rec = Recorder()
    out = chan("PJSIP/trunk-00000010", "100.9", "100.1", Context="from-pstn", Exten="s")
    rec.feed(
        {"Event": "Newchannel", **TRUNK, "CallerIDNum": "+40721234567"},
        {"Event": "Newchannel", **out},
        {"Event": "DialBegin", **TRUNK, **d(out), "DialString": "0744333444@trunk"},
    )
    rec.clock.advance(30)
    rec.feed({"Event": "DialEnd", **TRUNK, **d(out), "DialStatus": "NOANSWER"})
    hangup_all(rec, out, TRUNK)
    (call,) = rec.ended
    assert call.forwarded_to == "+40744333444" and call.disposition == "missed"
    assert call.talk_s is None and call.rang == []


# ------------------------------------------------------------------------------ the call log


def _log(facts):
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    with session_scope() as s:
        call = log_call(s, facts)
        return call.id if call else None


def test_forwarded_call_is_answered_without_a_callback(db, users):
    from crm_core.history.models import Interaction
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call
    from tests.factories import client_row

    users.add("ana", extension="101")
    client_row(db, "Ion Popescu", "+40721234567", email=None)
    db.commit()
    _log(finished_call("f1", rang=[], answered_by=None, forwarded_to="+40744333444"))
    call = db.scalars(select(Call)).one()
    assert (call.disposition, call.forwarded_to, call.callback_task_id) == (
        "answered",
        "+40744333444",
        None,
    )
    assert db.scalars(select(Task)).all() == []
    entry = db.scalars(select(Interaction)).one()
    assert entry.subject.endswith("answered, forwarded to +40744333444")


def test_left_voicemail_shows_in_the_calls_to_return(client, users):
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from tests.factories import client_row

    ana = users.add("ana", extension="101")
    token = {"Authorization": f"Bearer {users.token('ana')}"}
    with session_scope() as s:
        client_row(s, "Maria", "+40721234567", email=None, team_id=ana.team_id, owner_id=ana.id)
    facts = finished_call(
        "v1",
        disposition="missed",
        rang=["101"],
        voicemail_left=True,
        voicemail_s=5.0,
        voicemail_file="/var/spool/asterisk/voicemail/default/101/INBOX/msg0000",
    )
    _log(facts)
    [item] = client.get("/api/calls/to-return", headers=token).json()
    assert (item["voicemail_left"], item["voicemail_s"]) == (True, 5.0)
    [row] = client.get("/api/calls", headers=token).json()["items"]
    assert row["voicemail_file"].endswith("msg0000") and row["voicemail_left"] is True
    with session_scope() as s:
        task = s.scalars(select(Task)).one()
        assert "left voicemail" in task.description
