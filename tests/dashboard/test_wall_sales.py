"""The wall's sales tiles from known invoices, payments and orders (dashboard/wall/sales.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import colleagues, make_client

LINES = [{"description": "Servicii", "quantity": "2", "unit_price": "50.00", "vat_rate": "21"}]


def issue(client, headers, client_id, currency="RON") -> dict:
    body = {"client_id": client_id, "currency": currency, "lines": LINES, "issue": True}
    made = client.post("/api/invoices", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def snapshot() -> dict:
    """The wall's snapshot rebuilt from the tables now (the running wall refreshes its sales
    figures on its minute tick)."""
    from crm_core.database import session_scope
    from dashboard.i18n import local_zone
    from dashboard.wall.counters import WallCounters
    from dashboard.wall.rebuild import rebuild

    counters = WallCounters(local_zone())
    with session_scope() as db:
        rebuild(db, counters)
    return counters.snapshot()


def test_sales_tiles_from_invoices_payments_and_orders(client):
    from crm_core.invoices.service import today

    people = colleagues(ana=("operator", "Sales"), boss=("manager", "Sales"))
    buyer = make_client("Ștefan Țurcanu", "Sales")
    assert snapshot()["sales"]["revenue_today"] == {}
    first = issue(client, people["ana"], buyer)  # 100.00 + 21.00 VAT
    issue(client, people["boss"], buyer)
    issue(client, people["ana"], buyer, currency="EUR")
    draft = {"client_id": buyer, "currency": "RON", "lines": LINES}
    client.post("/api/invoices", json=draft, headers=people["ana"])  # drafts are not revenue
    paid = client.post(
        f"/api/invoices/{first['id']}/payments", json={"amount": "21.00"}, headers=people["ana"]
    )
    assert paid.status_code == 201, paid.text
    day = today()
    for deadline in (day, day, day - timedelta(days=3), day + timedelta(days=2)):
        order = {"client_id": buyer, "deadline": deadline.isoformat(), "lines": LINES}
        made = client.post("/api/orders", json=order, headers=people["ana"])
        assert made.status_code == 201, made.text
    sales = snapshot()["sales"]
    assert sales["revenue_today"] == {"RON": "242.00", "EUR": "121.00"}
    assert sales["revenue_month"] == {"RON": "242.00", "EUR": "121.00"}
    assert sales["payments_today"] == {"RON": "21.00"} and sales["payments_today_count"] == 1
    assert sales["orders_due_today"] == 2 and sales["orders_overdue"] == 1
    per = {(row["name"], row["currency"]): row["total"] for row in sales["per_operator"]}
    assert per == {("Ana", "RON"): "121.00", ("Ana", "EUR"): "121.00", ("Boss", "RON"): "121.00"}


def test_credit_note_takes_revenue_back(client):
    people = colleagues(ana=("operator", "Sales"))
    buyer = make_client("Ion Pop", "Sales")
    inv = issue(client, people["ana"], buyer)
    credit = client.post(
        f"/api/invoices/{inv['id']}/credit-note", json={"reason": "greșeală"}, headers=people["ana"]
    )
    assert credit.status_code in (200, 201), credit.text
    assert snapshot()["sales"]["revenue_today"] == {"RON": "0.00"}


def test_wall_page_shows_the_sales_row(client):
    people = colleagues(boss=("manager", "Sales"))
    buyer = make_client("Ana Pop", "Sales")
    issue(client, people["boss"], buyer)
    from crm_core.auth.models import User
    from crm_core.auth.service import open_session
    from crm_core.database import session_scope

    with session_scope() as s:
        user = s.query(User).filter_by(username="boss").one()
        cookie = open_session(s, user, "cookie")
    page = client.get("/wall", cookies={"callcard_session": cookie})
    assert page.status_code == 200
    assert 'id="wall-sales"' in page.text and "Revenue today" in page.text
    assert '"revenue_today":' in page.text  # the ledger is installed: the row is shown
    assert 'id="wall-sales" aria-label="Sales" >' in page.text or "hidden>" not in page.text
