"""The iCalendar feed: a secret address per user, parsed back with icalendar; revoked: 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import colleagues


def test_feed_lists_my_tasks_and_events_in_utc_with_alarms(client):
    from icalendar import Calendar

    made = colleagues(ana=("operator", "Sales"), dan=("operator", "Sales"))
    me = client.get("/api/auth/me", headers=made["ana"]).json()
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    tasks = [
        {"title": "Sună-l pe Ștefan", "kind": "task", "due_at": soon.isoformat(),
         "remind_at": (soon - timedelta(hours=1)).isoformat(), "assignee_id": me["id"]},
        {"title": "Встреча с Анной", "kind": "event", "starts_at": soon.isoformat(),
         "ends_at": (soon + timedelta(hours=2)).isoformat(), "due_at": soon.isoformat(),
         "location": "Iași", "assignee_id": me["id"]},
    ]  # fmt: skip
    for body in tasks:
        assert client.post("/api/tasks", json=body, headers=made["ana"]).status_code == 201
    client.post("/api/tasks", json={"title": "Not mine", "due_at": soon.isoformat()},
                headers=made["dan"])  # fmt: skip
    assert client.get("/api/calendar-feed", headers=made["ana"]).json()["active"] is False
    url = client.post("/api/calendar-feed", headers=made["ana"]).json()["url"]
    path = url[url.index("/ical/") :]
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert str(cal["x-wr-timezone"])
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Sună-l pe Ștefan", "Встреча с Анной"}
    task = events["Sună-l pe Ștefan"]
    assert task["dtstart"].dt == soon and task["dtstart"].dt.utcoffset() == timedelta(0)
    alarm = task.walk("VALARM")[0]
    assert alarm["trigger"].dt == soon - timedelta(hours=1)
    meeting = events["Встреча с Анной"]
    assert meeting["dtend"].dt - meeting["dtstart"].dt == timedelta(hours=2)
    assert str(meeting["location"]) == "Iași" and not meeting.walk("VALARM")
    assert client.get("/api/calendar-feed", headers=made["ana"]).json()["last_read_at"]


def test_a_new_address_ends_the_old_and_revoked_is_404(client):
    made = colleagues(ana=("operator", "Sales"))
    first = client.post("/api/calendar-feed", headers=made["ana"]).json()["url"]
    second = client.post("/api/calendar-feed", headers=made["ana"]).json()["url"]
    old, new = first[first.index("/ical/") :], second[second.index("/ical/") :]
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.delete("/api/calendar-feed", headers=made["ana"]).json()["active"] is False
    assert client.get(new).status_code == 404
    assert client.get("/ical/guess.ics").status_code == 404
