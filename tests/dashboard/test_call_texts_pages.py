"""The call log's texts on the pages and in the API, worded for the signed-in reader: a Romanian
user reads the callback task and the history entry of a missed call in Romanian, with the time
in their own zone; the stored English stays what the API's ``title`` and exports give."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.dashboard.test_dashboard_pages import sign_in
from tests.factories import client_row, finished_call

CHISINAU = "Europe/Chisinau"  # the call at 09:00 UTC on 26 November is 11:00 there


@pytest.fixture
def database(sqlite_database):
    """Rendering is the subject: SQLite (the wording runs on both in tests/cti)."""
    return sqlite_database


@pytest.fixture
def missed(client, users):
    """Ana (Romanian, Chisinau) owns Maria, whose call in queue sales nobody answered."""
    from crm_core.auth.models import User
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from cti.calllog.finished import log_call

    ana = users.add("ana", extension="101", language="ro")
    users.add("olga", extension="102", language="ru")
    with session_scope() as s:
        s.execute(update(User).values(timezone=CHISINAU))
        maria = client_row(s, "Maria Rusu", "+40721234567", email=None, owner_id=ana.id)
        client_id = maria.id
    facts = finished_call(
        "1764147600.20", disposition="missed", queue="sales", rang=["101", "102"],
        voicemail_left=True,
    )  # fmt: skip
    with session_scope() as s:
        log_call(s, facts)
        task_id = s.scalar(select(Task.id).where(Task.call_id == "1764147600.20"))
    return client_id, task_id


ROMANIAN_TITLE = "Sună înapoi la 0721234567"
ROMANIAN_DESCRIPTION = (
    "Apel nepreluat din 26.11.2026, 11:00 (coada sales), a sunat la interioarele 101, 102, "
    "a lăsat un mesaj vocal"
)
ROMANIAN_SUBJECT = (
    "Apel de la 0721234567 (coada sales), interior 101: nepreluat, a lăsat un mesaj vocal"
)


def test_the_romanian_tasks_page_words_the_callback_in_romanian(client, missed):
    sign_in(client, "ana")
    page = client.get("/tasks?view=all").text
    assert ROMANIAN_TITLE in page and ROMANIAN_DESCRIPTION in page
    assert "Call back" not in page and "UTC" not in page


def test_the_romanian_client_card_words_its_tasks_and_history(client, missed):
    client_id, _task_id = missed
    sign_in(client, "ana")
    page = client.get(f"/clients/{client_id}").text
    assert ROMANIAN_TITLE in page
    assert ROMANIAN_SUBJECT in page
    assert "Call from" not in page and "left voicemail" not in page


def test_the_workspace_words_the_overdue_callback(client, missed):
    sign_in(client, "ana")
    page = client.get("/").text
    assert ROMANIAN_TITLE in page


def test_an_edited_title_shows_as_edited_on_the_page(client, missed):
    _client_id, task_id = missed
    csrf = sign_in(client, "ana")
    r = client.patch(
        f"/api/tasks/{task_id}", json={"title": "Sună-o pe Maria după 15:00"},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    page = client.get("/tasks?view=all").text
    assert "Sună-o pe Maria după 15:00" in page and ROMANIAN_TITLE not in page
    assert ROMANIAN_DESCRIPTION in page  # the description was not edited


def test_the_api_gives_the_stored_text_and_the_readers_words(client, users, missed):
    from tests.conftest import bearer

    client_id, task_id = missed
    task = client.get(f"/api/tasks/{task_id}", headers=bearer(users, "olga")).json()
    assert task["title"] == "Call back 0721234567"  # stored: what PATCH and exports use
    assert task["display_title"] == "Перезвонить по номеру 0721234567"
    assert task["display_description"].startswith("Пропущенный звонок 26.11.2026, 11:00")
    history = client.get(
        f"/api/clients/{client_id}/interactions", headers=bearer(users, "ana")
    ).json()
    assert history["items"][0]["subject"].startswith("Call from 0721234567 (queue sales)")
    assert history["items"][0]["display_subject"] == ROMANIAN_SUBJECT


def test_the_popup_card_is_worded_for_the_operator_it_pops_up_for(client, users, missed):
    from tests.conftest import bearer

    card = client.get("/api/lookup/phone?number=0721234567", headers=bearer(users, "olga"))
    body = card.json()
    assert body["open_tasks"][0]["title"] == "Перезвонить по номеру 0721234567"
    assert body["interactions"][0]["subject"].startswith("Звонок с номера 0721234567")
