"""The audit log and the call log: filters, keyset pages, totals, exports, recordings, zones."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import CALL_START, finished_call


def _log(facts):
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    with session_scope() as s:
        log_call(s, facts)


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str) -> dict[str, str]:
    client.cookies.clear()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f"password-{username}",
            "csrf_token": form_csrf(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return {"X-CSRF-Token": re.search(r'data-csrf="([^"]+)"', client.get("/settings").text)[1]}


def office(users):
    """ana (Sales, 101) and bob (Support, 102); a client of each team; five calls."""
    from crm_core.database import session_scope
    from tests.factories import client_row

    ana = users.add("ana", team="Sales", extension="101")
    bob = users.add("bob", team="Support", extension="102")
    with session_scope() as s:
        client_row(s, "Sales client", "+40721000001", email=None, team_id=ana.team_id)
        client_row(s, "Support client", "+40721000002", email=None, team_id=bob.team_id)
    calls = [
        ("sales-answered", "+40721000001", "answered", ["101"], "", 0),
        ("sales-missed", "+40721000001", "missed", ["101"], "sales", 1),
        ("support-answered", "+40721000002", "answered", ["102"], "support", 2),
        ("support-missed", "+40721000002", "missed", ["102"], "support", 3),
        ("late-night", "+40744000009", "answered", ["101"], "", 4),
    ]
    for linkedid, number, disposition, rang, queue, minutes in calls:
        extra = {} if disposition != "answered" else {"answered_by": rang[0]}
        _log(
            finished_call(
                linkedid,
                number=number,
                disposition=disposition,
                rang=rang,
                queue=queue,
                start=CALL_START + timedelta(minutes=minutes),
                **extra,
            )
        )


# --- services, on SQLite and PostgreSQL -------------------------------------------------


def test_audit_pages_go_by_cursor_with_filters(db):
    from crm_core.audit import service as audit
    from crm_core.audit.models import AuditEntry

    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(130):
        db.add(
            AuditEntry(
                at=start + timedelta(minutes=i // 2),  # two entries share each moment
                action="update" if i % 3 else "create",
                entity="client" if i % 2 else "task",
                entity_id=str(i % 7),
                changes={"n": [i, i + 1]},
            )
        )
    db.flush()
    seen, cursor = [], None
    while True:
        rows, cursor = audit.page(db, audit.AuditFilters(), before=cursor, limit=50)
        seen += [r.id for r in rows]
        if cursor is None:
            break
    assert len(seen) == 130 == len(set(seen))
    moments = [db.get(AuditEntry, i).at for i in seen]
    assert moments == sorted(moments, reverse=True)
    filters = audit.AuditFilters(
        entity="client", action="update", since=start + timedelta(minutes=10)
    )
    rows, _ = audit.page(db, filters, limit=500)
    assert rows and all(
        r.entity == "client" and r.action == "update" and r.at >= filters.since for r in rows
    )
    expected = [
        i
        for i in range(130)
        if i % 2 and i % 3 and start + timedelta(minutes=i // 2) >= filters.since
    ]
    assert len(rows) == len(expected)


def test_call_totals_filters_and_rights(db, users):
    from crm_core.auth.service import principal_of
    from cti.calllog import browse
    from tests.factories import user_id

    office(users)
    from crm_core.auth.models import User

    ana = principal_of(db.get(User, user_id("ana")))
    everyone = browse.CallFilters()
    from crm_core.auth.principal import SYSTEM

    sums = browse.totals(db, SYSTEM, everyone)
    assert (sums.count, sums.answered, sums.missed) == (5, 3, 2)
    assert sums.avg_wait_s == pytest.approx(5) and sums.avg_talk_s == pytest.approx(35)
    mine = browse.totals(db, ana, everyone)
    assert (mine.count, mine.answered, mine.missed) == (3, 2, 1)
    rows, _ = browse.page(db, SYSTEM, browse.CallFilters(queue="support"))
    assert {r.linkedid for r in rows} == {"support-answered", "support-missed"}
    rows, _ = browse.page(db, ana, browse.CallFilters(disposition="missed"))
    assert [r.linkedid for r in rows] == ["sales-missed"]
    first, cursor = browse.page(db, SYSTEM, everyone, limit=2)
    second, _ = browse.page(db, SYSTEM, everyone, before=cursor, limit=2)
    assert [r.linkedid for r in first + second] == [
        "late-night",
        "support-missed",
        "support-answered",
        "sales-missed",
    ]


# --- pages (SQLite) -----------------------------------------------------------------------


@pytest.fixture
def pages(client, users):
    office(users)
    users.add("root", role="admin", team=None)
    users.add("boss", role="manager", team=None)
    return client


def test_audit_filter_shows_an_edit_before_and_after(pages):
    from tests.factories import user_id

    headers = sign_in(pages, "root")
    ana = user_id("ana")
    r = pages.post(f"/admin/users/{ana}", json={"extension": "121"}, headers=headers)
    assert r.status_code == 200, r.text
    sign_in(pages, "boss")  # a manager reads the audit
    page = pages.get(
        "/admin/audit", params={"entity": "user", "entity_id": str(ana), "action": "update"}
    )
    assert page.status_code == 200
    entries = re.findall(r'<li class="card audit-entry".*?</li>', page.text, re.S)
    assert len(entries) == 1
    changed = re.search(
        r'<tr class="changed" data-field="extension"><th scope="row"><code>extension</code></th>(.*?)</tr>',
        entries[0],
    )
    before, after = re.findall(r'<td class="(?:before|after)">(.*?)</td>', changed[1])
    assert (before, after) == ("101", "121")
    assert "Root" in entries[0]
    other = pages.get("/admin/audit", params={"entity": "team"}).text
    assert "audit-entry" not in other or 'data-entity="user"' not in other


def read_csv(response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


DAY = {"since": "2026-11-26", "until": "2026-11-26"}


def test_export_honours_filters_and_rights(pages):
    sign_in(pages, "boss")
    rows = read_csv(pages.get("/calls/export.csv", params={**DAY, "disposition": "missed"}))
    assert rows[0][:3] == ["Started", "Direction", "Number"]
    assert sorted(r[3] for r in rows[1:]) == ["Sales client", "Support client"]
    assert {r[6] for r in rows[1:]} == {"Missed"}
    sheet = read_xlsx(pages.get("/calls/export.xlsx", params={**DAY, "queue": "support"}))
    assert sheet[0][0] == "Started" and len(sheet) == 3
    assert {r[3] for r in sheet[1:]} == {"Support client"}
    assert isinstance(sheet[1][0], datetime) and sheet[1][0].hour == 11  # 09:03 UTC in Bucharest
    # an operator exports only what the call log shows them: their team's clients and their own
    sign_in(pages, "ana")
    rows = read_csv(pages.get("/calls/export.csv", params=DAY))
    assert {r[2] for r in rows[1:]} == {"+40721000001", "+40744000009"}
    sheet = read_xlsx(pages.get("/calls/export.xlsx", params=DAY))
    assert len(sheet) == 4 and "Support client" not in {r[3] for r in sheet}
    assert pages.get("/calls/export.pdf").status_code == 404


def test_call_log_page_totals_and_language(pages):
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    sign_in(pages, "boss")
    page = pages.get("/calls", params=DAY).text
    assert re.search(r'data-total="count">5<', page) and re.search(r'data-total="missed">2<', page)
    assert 'data-call="support-missed"' in page
    with session_scope() as s:
        s.scalar(select(User).where(User.username == "boss")).language = "ru"
    page = pages.get("/calls", params={**DAY, "disposition": "missed"}).text
    assert "Пропущен" in page and 'data-call="late-night"' not in page
    sheet = read_xlsx(pages.get("/calls/export.xlsx", params=DAY))
    assert sheet[0][0] == "Начало"


def test_times_follow_the_users_zone_on_the_page_and_in_the_browser_data(pages):
    """A call at 01:42 UTC is 03:42 in Bucharest (the company's zone) and stays 01:42 for a
    user who chose UTC; the body carries the zone for the browser's clocks."""
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    night = datetime(2026, 11, 27, 1, 42, tzinfo=UTC)
    _log(finished_call("night-call", number="+40744000123", start=night))
    sign_in(pages, "boss")
    params = {"since": "2026-11-27", "until": "2026-11-27"}
    page = pages.get("/calls", params=params).text
    assert 'data-tz="Europe/Bucharest"' in page
    shown = re.search(r'<tr data-call="night-call">\s*<td><time [^>]*>(.*?)</time>', page)[1]
    assert "3:42" in shown and "1:42" not in shown
    with session_scope() as s:
        s.scalar(select(User).where(User.username == "boss")).timezone = "UTC"
    page = pages.get("/calls", params={"since": "2026-11-27", "until": "2026-11-27"}).text
    assert 'data-tz="UTC"' in page
    shown = re.search(r'<tr data-call="night-call">\s*<td><time [^>]*>(.*?)</time>', page)[1]
    assert "1:42" in shown and "3:42" not in shown
    rows = read_csv(pages.get("/calls/export.csv", params=params))
    assert rows[1][0] == "2026-11-27 01:42:00"


def test_recordings_are_served_only_to_those_who_see_the_call(pages, tmp_path, monkeypatch):
    from sqlalchemy import select

    from crm_core.config import get_settings
    from crm_core.database import session_scope
    from cti.calllog.models import Call

    folder = tmp_path / "monitor"
    folder.mkdir()
    (folder / "support.wav").write_bytes(b"RIFF----WAVEfmt ")
    (tmp_path / "secret.wav").write_bytes(b"nope")
    monkeypatch.setenv("CALLCARD_RECORDINGS_DIR", str(folder))
    get_settings.cache_clear()
    with session_scope() as s:
        call = s.scalar(select(Call).where(Call.linkedid == "support-answered"))
        call.recording, support_id = "support.wav", call.id
        other = s.scalar(select(Call).where(Call.linkedid == "late-night"))
        other.recording, other_id = "../secret.wav", other.id
    sign_in(pages, "boss")
    page = pages.get("/calls", params=DAY).text
    assert f'<audio controls preload="none" src="/calls/{support_id}/recording"' in page
    r = pages.get(f"/calls/{support_id}/recording")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert pages.get(f"/calls/{other_id}/recording").status_code == 404  # outside the folder
    sign_in(pages, "ana")
    assert pages.get(f"/calls/{support_id}/recording").status_code == 404  # another team's
