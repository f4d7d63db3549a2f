"""The newsletter screen: compose for a saved filter with a live count, test send, send, the
delivery figures and the unsubscribes list; operators get the 403 page."""

from __future__ import annotations

import re

from sqlalchemy import select


def sign_in(client, username: str) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    data = {"username": username, "password": f"password-{username}", "csrf_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


BODY = '<p>Hello {{ display_name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>'


def test_compose_count_test_send_and_stats(client, db, users):
    from crm_core.auth.principal import Principal
    from crm_core.clients.models import Address
    from dashboard import saved_filters
    from notifier.newsletters.service import unsubscribe
    from notifier.outbox.models import OutboxMessage
    from tests.factories import client_row

    mara = users.add("mara", role="manager", team=None)
    for n, city in enumerate(("Cluj", "Cluj", "Iasi")):
        row = client_row(db, f"Client {n}", None, email=f"c{n}@example.com")
        db.add(Address(client_id=row.id, city=city))
    db.add(Address(client_id=client_row(db, "No Mail", None, email=None).id, city="Cluj"))
    saved_filters.save(db, Principal(mara.id, "mara", "manager"), name="Cluj", query="city=Cluj")
    db.commit()
    csrf = sign_in(client, "mara")
    headers = {"X-CSRF-Token": csrf}

    page = client.get("/newsletters")
    assert page.status_code == 200
    data = re.search(r'id="page-data">(.*?)</script>', page.text).group(1)
    assert '"filters": {"city": "Cluj"}' in data  # the saved filter, ready for the count
    count = client.post("/api/notifier/newsletters/count", json={"filters": {"city": "Cluj"}},
                        headers=headers)  # fmt: skip
    assert count.json()["count"] == 2  # the client without an e-mail is left out
    everyone = client.post("/api/notifier/newsletters/count", json={}, headers=headers)
    assert everyone.json()["count"] == 3

    created = client.post(
        "/api/notifier/newsletters",
        json={"name": "Winter", "subject": "News", "body": BODY, "filters": {"city": "Cluj"}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    nid = created.json()["id"]
    detail = client.get(f"/newsletters/{nid}")
    assert detail.status_code == 200 and 'id="send"' in detail.text
    assert client.post(f"/api/notifier/newsletters/{nid}/send", headers=headers).status_code == 409
    test = client.post(f"/api/notifier/newsletters/{nid}/test", json={"email": "me@example.com"},
                       headers=headers)  # fmt: skip
    assert test.status_code == 200
    sent = client.post(f"/api/notifier/newsletters/{nid}/send", headers=headers)
    assert sent.json() == {"queued": 2, "recipients": 2}

    stats = client.get(f"/api/notifier/newsletters/{nid}/stats").json()
    assert (stats["queued"], stats["waiting"], stats["sent"], stats["failed"]) == (2, 2, 0, 0)
    db.expire_all()
    first, second = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.purpose == "newsletter")
        .order_by(OutboxMessage.id)
    ).all()
    first.status = "delivered"
    db.commit()
    token = second.meta["unsubscribe_url"].rsplit("/", 1)[1]
    unsubscribe(db, token)
    db.commit()
    stats = client.get(f"/api/notifier/newsletters/{nid}/stats").json()
    assert (stats["delivered"], stats["cancelled"], stats["unsubscribed"]) == (1, 1, 1)
    assert stats["waiting"] == 0 and stats["done"] is True
    listing = client.get("/newsletters")
    assert "c1@example.com" in listing.text and "Winter" in listing.text
    unsubs = client.get("/api/notifier/newsletter-unsubscribes").json()
    assert [u["email"] for u in unsubs] == ["c1@example.com"]


def test_operators_get_the_403_page(client, users):
    users.add("olga", role="operator")
    sign_in(client, "olga")
    page = client.get("/newsletters")
    assert page.status_code == 403 and "<html" in page.text
    assert client.get("/newsletters/1").status_code == 403
    assert client.post("/api/notifier/newsletters/count", json={}).status_code == 403
