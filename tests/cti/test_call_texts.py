"""What the call log writes for people (a callback task, a history entry) reads in the reader's
language and time zone, from the call's facts; the stored English stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import CALL_START, client_row, finished_call

CHISINAU = "Europe/Chisinau"  # CALL_START (09:00 UTC on 26 November) is 11:00 there


@pytest.fixture(autouse=True)
def parts():
    from callcard.parts import connect_parts

    connect_parts()  # as every Callcard process: the UI's catalogs word the parts' texts


def _reader(language: str, zone: str = CHISINAU):
    from crm_core.auth.principal import Principal

    return Principal(id=7, username="reader", role="manager", language=language, timezone=zone)


def _missed_call(db, users, linkedid: str = "1764147600.10"):
    """A missed call from a known client in queue sales: two phones rang, a voicemail left."""
    from crm_core.database import session_scope
    from crm_core.history.models import Interaction
    from crm_core.tasks.models import Task
    from cti.calllog.finished import log_call

    ana = users.add("ana", extension="101")
    users.add("ion", extension="102")
    client = client_row(db, "Maria Rusu", "+40721234567", email=None, team_id=ana.team_id)
    db.commit()
    facts = finished_call(
        linkedid, disposition="missed", queue="sales", rang=["101", "102"], voicemail_left=True
    )
    with session_scope() as s:
        log_call(s, facts)
    db.expire_all()
    task = db.scalars(select(Task).where(Task.call_id == linkedid)).one()
    entry = db.scalars(select(Interaction).where(Interaction.client_id == client.id)).one()
    return task, entry


def _shown(db, reader, task, entry):
    from crm_core import wording

    with wording.reading_as(reader):
        shown = wording.shown_tasks(db, [task])[0]
        subject = wording.shown_subjects(db, [entry])[0]
    return shown.title, shown.description, subject


def test_the_stored_texts_stay_the_english_of_before(db, users):
    task, entry = _missed_call(db, users)
    assert task.title == "Call back 0721234567"
    assert task.description == (
        "Missed call at 2026-11-26 09:00 UTC (queue sales), rang 101, 102, left voicemail"
    )
    assert entry.subject == "Call from 0721234567 (queue sales), ext 101: missed, left voicemail"


def test_a_romanian_reader_reads_romanian_words_and_local_time(db, users):
    task, entry = _missed_call(db, users)
    title, description, subject = _shown(db, _reader("ro"), task, entry)
    assert title == "Sună înapoi la 0721234567"
    assert description == (
        "Apel nepreluat din 26.11.2026, 11:00 (coada sales), "
        "a sunat la interioarele 101, 102, a lăsat un mesaj vocal"
    )
    assert subject == (
        "Apel de la 0721234567 (coada sales), interior 101: nepreluat, a lăsat un mesaj vocal"
    )


def test_a_russian_reader_reads_russian_words_plural_forms_and_local_time(db, users):
    from crm_core import wording
    from cti.calllog.models import Call
    from cti.calllog.wording import callback_task_description

    task, entry = _missed_call(db, users)
    title, description, subject = _shown(db, _reader("ru"), task, entry)
    assert title == "Перезвонить по номеру 0721234567"
    assert description == (
        "Пропущенный звонок 26.11.2026, 11:00 (очередь sales), "
        "звонили внутренние номера 101, 102, оставлено голосовое сообщение"
    )
    assert subject == (
        "Звонок с номера 0721234567 (очередь sales), внутр. номер 101: пропущен, "
        "оставлено голосовое сообщение"
    )
    call = db.scalars(select(Call)).one()
    call.rang = ["101"]  # one phone rang: the singular form
    with wording.reading_as(_reader("ru")):
        assert ", звонил внутренний номер 101," in callback_task_description(call)


def test_an_english_reader_reads_the_time_in_their_own_zone(db, users):
    task, entry = _missed_call(db, users)
    title, description, subject = _shown(db, _reader("en"), task, entry)
    assert title == task.title and subject == entry.subject
    assert description.startswith("Missed call at 11/26/26, 11:00")
    assert "UTC" not in description


def test_a_title_a_person_edited_shows_as_they_wrote_it(db, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.history.service import update_interaction
    from crm_core.tasks.service import update_task

    task, entry = _missed_call(db, users)
    update_task(db, SYSTEM, task.id, {"title": "Sună-l pe Ion după ora 15"})
    update_interaction(db, SYSTEM, entry.id, {"subject": "Client supărat, revine mâine"})
    title, description, subject = _shown(db, _reader("ru"), task, entry)
    assert title == "Sună-l pe Ion după ora 15"  # edited: as written, in no other language
    assert description.startswith("Пропущенный звонок")  # the description was not edited
    assert subject == "Client supărat, revine mâine"


def test_a_title_sent_back_unchanged_is_still_the_systems(db, users):
    """An API client that writes the task back as it read it changes nothing."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.tasks.service import update_task

    task, entry = _missed_call(db, users)
    update_task(db, SYSTEM, task.id, {"title": task.title, "description": task.description})
    assert _shown(db, _reader("ro"), task, entry)[0] == "Sună înapoi la 0721234567"


def test_texts_people_wrote_and_calls_no_longer_logged_show_as_stored(db, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.history.service import add_interaction
    from crm_core.tasks.service import create_task
    from cti.calllog.models import Call

    task, entry = _missed_call(db, users)
    note = add_interaction(
        db, SYSTEM, client_id=entry.client_id, kind="call", subject="Called about the offer"
    )
    own = create_task(db, SYSTEM, title="Call back tomorrow", due_at=CALL_START + timedelta(1))
    db.delete(db.scalars(select(Call)).one())  # e.g. removed by a retention job
    db.flush()
    with_reader = _shown(db, _reader("ro"), task, entry)
    assert with_reader == (task.title, task.description, entry.subject)
    from crm_core import wording

    with wording.reading_as(_reader("ro")):
        assert wording.shown_subjects(db, [note]) == ["Called about the offer"]
        assert wording.shown_tasks(db, [own])[0].title == "Call back tomorrow"


def test_the_popup_reads_in_the_language_of_the_operator_whose_phone_rings(db, users):
    """The popup's own path: the CTI's autocommit connection (libpq on PostgreSQL)."""
    from cti.directory import CardReader

    _missed_call(db, users)
    cards = CardReader()
    try:
        card = cards.card("0721234567", _reader("ru"), "+40721234567")
    finally:
        cards.close()
    assert [t.title for t in card.open_tasks] == ["Перезвонить по номеру 0721234567"]
    assert card.interactions[0].subject.startswith("Звонок с номера 0721234567 (очередь sales)")


def test_a_wording_that_fails_shows_the_stored_text_and_the_others_still_word(caplog):
    """One part's bug must not cost a page, a reminder or the popup (it did: a card whose
    task lacked a field the contract wording read lost the whole popup)."""
    from types import SimpleNamespace

    from crm_core import wording

    def broken(db, rows, words):
        raise AttributeError("client_id")

    def loud(db, rows, words):
        shown = wording.TaskWords("LOUD", "")
        return [wording.Worded(wording.TaskWords(r.title, ""), shown) for r in rows]

    wording.word_tasks_with("test-broken", broken)
    wording.word_tasks_with("test-loud", loud)
    rows = [
        SimpleNamespace(id=1, source="test-broken", title="as stored", description=""),
        SimpleNamespace(id=2, source="test-loud", title="quiet", description=""),
    ]
    shown = wording.shown_tasks(None, rows)
    assert [t.title for t in shown] == ["as stored", "LOUD"]
    assert "shown as stored" in caplog.text
