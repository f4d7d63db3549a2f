"""Only the operator on a call (and managers) write its note (issue 13, finding 8)."""

from __future__ import annotations

from tests.factories import client_row, finished_call


def _log(facts) -> None:
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    with session_scope() as s:
        log_call(s, facts)


def _note(client, users, who: str, linkedid: str, body: str):
    headers = {"Authorization": f"Bearer {users.token(who)}"}
    return client.put(f"/api/calls/{linkedid}/note", json={"body": body}, headers=headers)


def test_another_operator_cannot_overwrite_the_note_of_a_call_in_progress(client, users):
    users.add("ana", team="Sales", extension="101")
    users.add("vlad", team="Support", extension="103")
    assert _note(client, users, "ana", "live-7", "wants a quote").status_code == 200
    assert _note(client, users, "vlad", "live-7", "overwritten").status_code == 404
    _log(finished_call("live-7"))  # ana (101) answered it
    from crm_core.database import session_scope
    from cti.calllog.models import Call, CallNote

    with session_scope() as s:
        note = s.query(CallNote).filter_by(linkedid="live-7").one()
        assert note.body == "wants a quote" and note.author_id == users.created["ana"].id
        assert s.query(Call).filter_by(linkedid="live-7").one().note == "wants a quote"


def test_a_logged_call_of_a_visible_client_is_still_not_another_operators(client, users):
    ana = users.add("ana", team="Sales", extension="101")
    users.add("ion", team="Sales", extension="102")
    from crm_core.database import session_scope

    with session_scope() as s:
        client_row(s, "Maria", "+40721234567", email=None, team_id=ana.team_id)
    _log(finished_call("sales-1", number="+40721234567"))  # answered by ana on 101
    assert _note(client, users, "ion", "sales-1", "mine now").status_code == 404
    assert _note(client, users, "ana", "sales-1", "called back").status_code == 200


def test_managers_and_the_operators_on_the_call_may_write(client, users):
    users.add("ana", team="Sales", extension="101")
    users.add("ion", team="Sales", extension="102")
    users.add("mia", role="manager", team="Sales")
    _log(finished_call("transfer-1", rang=["101", "102"], answered_by="102"))
    assert _note(client, users, "ana", "transfer-1", "rang me first").status_code == 200
    assert _note(client, users, "ion", "transfer-1", "answered it").status_code == 200
    assert _note(client, users, "mia", "transfer-1", "reviewed").status_code == 200
    assert _note(client, users, "mia", "live-9", "manager's note").status_code == 200
    assert _note(client, users, "ana", "live-9", "not hers").status_code == 404


def test_an_operator_without_an_extension_is_on_no_call(client, users):
    users.add("ana", team="Sales", extension=None)
    assert _note(client, users, "ana", "live-3", "x").status_code == 404
