"""Reports: the figures of a known set of calls, ratings and tasks; XLSX read back; rights."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from io import BytesIO

from openpyxl import load_workbook

from tests.factories import CALL_START, client_row, finished_call

_ids = itertools.count(1)
DAY = CALL_START.date().isoformat()  # 2026-11-26; 09:00 UTC is 11:00 in Bucharest
QUERY = {"period": "custom", "date_from": DAY, "date_to": DAY}


def _call(minutes: int, disposition: str, extension: str, wait: float, talk: float, **kw) -> None:
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    answered = disposition == "answered"
    facts = finished_call(
        f"1800000000.{next(_ids)}",
        start=CALL_START + timedelta(minutes=minutes),
        disposition=disposition,
        rang=[extension],
        answered_by=extension if answered else None,
        wait_s=wait,
        talk_s=talk if answered else 0,
        withheld=True,
        client_looked_up=True,
        **kw,
    )
    with session_scope() as s:
        log_call(s, facts)


def sign_in(client, username: str) -> str:
    """Sign in through the login form like a browser; returns the page CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": f"password-{username}", "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def _known_day(db, users):
    """ana answers 2 (10 s and 30 s waits), bob 1 (5 s); 1 missed, 1 abandoned; one call the
    next local day (not counted); ratings 5, 4 for ana and 2 for bob; tasks for ana."""
    from crm_core.tasks.models import Task
    from notifier.surveys.models import Survey

    ana = users.add("ana", extension="101", team="Sales")
    bob = users.add("bob", extension="102", team="Support")
    _call(0, "answered", "101", 10, 60, queue="sales")
    _call(5, "answered", "101", 30, 120, queue="sales")
    _call(10, "answered", "102", 5, 30, queue="support")
    _call(15, "missed", "102", 25, 0, queue="support")
    _call(20, "abandoned", "101", 40, 0, queue="sales")
    _call(13 * 60 + 30, "answered", "101", 1, 10)  # 22:30 UTC = 00:30 next day in Bucharest
    client = client_row(db, "Ion", "+40721234567", email=None, team_id=ana.team_id)
    at = CALL_START + timedelta(hours=1)
    for n, (user, rating) in enumerate(((ana, 5), (ana, 4), (bob, 2))):
        db.add(
            Survey(client_id=client.id, phone_e164="+40721234567", source="call",
                   source_ref=str(n), operator_user_id=user.id, team_id=user.team_id,
                   status="answered", rating=rating, answered_at=at)
        )  # fmt: skip
    db.add(Task(title="done", assignee_id=ana.id, status="done", completed_at=at))
    db.add(Task(title="late", assignee_id=ana.id, status="open", due_at=at - timedelta(days=1)))
    db.add(Task(title="late", assignee_id=bob.id, status="open", due_at=at - timedelta(days=2)))
    db.commit()
    return ana, bob


def test_call_figures_of_a_known_day(client, db, users, as_user):
    ana, bob = _known_day(db, users)
    body = client.get("/api/reports/calls", params=QUERY, headers=as_user("mara", "manager")).json()
    assert body["time_zone"] == "Europe/Bucharest"
    total = body["total"]
    assert (total["calls"], total["answered"], total["missed"], total["abandoned"]) == (5, 3, 1, 1)
    assert total["service_level"] == 40.0  # 10 s and 5 s within 20 s, of 5 calls
    assert total["avg_wait"] == 22.0  # (10+30+5+25+40)/5
    assert total["avg_talk"] == 70.0  # (60+120+30)/3
    hours = {h["hour"]: h["calls"] for h in body["hours"] if h["calls"]}
    assert hours == {11: 5}
    ops = {o["name"]: (o["calls"], o["answered"]) for o in body["operators"]}
    assert ops == {"Ana": (2, 2), "Bob": (1, 1), None: (2, 0)}
    queues = {q["queue"]: q["calls"] for q in body["queues"]}
    assert queues == {"sales": 3, "support": 2}
    next_day = {**QUERY, "date_from": "2026-11-27", "date_to": "2026-11-27"}
    later = client.get("/api/reports/calls", params=next_day, headers=as_user("mara", "manager"))
    assert later.json()["total"]["calls"] == 1


def test_csat_and_tasks_of_a_known_day(client, db, users, as_user):
    _known_day(db, users)
    headers = as_user("mara", "manager")
    csat = client.get("/api/reports/csat", params=QUERY, headers=headers).json()
    assert csat["overall"] == {"responses": 3, "average": 3.67, "csat": 66.7}
    teams = {t["name"]: (t["responses"], t["average"]) for t in csat["teams"]}
    assert teams == {"Sales": (2, 4.5), "Support": (1, 2.0)}
    trend = {t["name"]: [d["average"] for d in t["days"]] for t in csat["trend"]}
    assert trend == {"Sales": [4.5], "Support": [2.0]}
    tasks = client.get("/api/reports/tasks", params=QUERY, headers=headers).json()
    people = {p["name"]: (p["done"], p["overdue"]) for p in tasks["people"]}
    assert people == {"Ana": (1, 1), "Bob": (0, 1)}


def test_each_report_exports_to_xlsx_with_the_page_figures(client, db, users, as_user):
    _known_day(db, users)
    users.add("mara", role="manager", team=None)
    sign_in(client, "mara")
    calls = client.get("/reports/export.xlsx", params={"report": "calls", **QUERY})
    assert calls.status_code == 200
    assert calls.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(calls.content))
    assert book.sheetnames == ["Days", "Hours", "Operators", "Queues"]
    days = list(book["Days"].iter_rows(values_only=True))
    assert days[0][:5] == ("Day", "Calls", "Answered", "Missed", "Abandoned")
    assert days[1][1:6] == (5, 3, 1, 1, 40)
    csat = load_workbook(BytesIO(client.get("/reports/export.xlsx",
                                            params={"report": "csat", **QUERY}).content))  # fmt: skip
    teams = list(csat["CSAT by team"].iter_rows(values_only=True))
    assert teams[1:] == [("Sales", 2, 4.5, 100), ("Support", 1, 2, 0)]
    tasks = load_workbook(BytesIO(client.get("/reports/export.xlsx",
                                             params={"report": "tasks", **QUERY}).content))  # fmt: skip
    assert list(tasks["Tasks"].iter_rows(values_only=True))[1:] == [("Ana", 1, 1), ("Bob", 0, 1)]


def test_the_page_shows_charts_data_and_tables_to_managers_only(client, db, users):
    _known_day(db, users)
    users.add("mara", role="manager", team=None)
    sign_in(client, "mara")
    page = client.get("/reports", params=QUERY)
    assert page.status_code == 200
    assert 'data-chart="calls_days"' in page.text and 'id="report-data"' in page.text
    assert 'href="/reports/sales"' in page.text
    assert '<th scope="row">Ana</th>' in page.text
    bad = client.get("/reports", params={**QUERY, "date_to": "2026-11-01"})
    assert bad.status_code == 200 and "Choose a valid period" in bad.text
    client.cookies.clear()
    users.add("olga", role="operator")
    sign_in(client, "olga")
    denied = client.get("/reports")
    assert denied.status_code == 403 and "<html" in denied.text


def test_the_api_refuses_operators_and_names_a_bad_period(client, users, as_user):
    assert client.get("/api/reports/calls", headers=as_user("olga")).status_code == 403
    headers = as_user("mara", "manager")
    bad = client.get("/api/reports/calls", params={"period": "year"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "period"
    bad = client.get(
        "/api/reports/tasks",
        params={"period": "custom", "date_from": "2026-01-01", "date_to": "2027-06-01"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "to"
