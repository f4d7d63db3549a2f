"""The sales pages render for the roles that may open them, with the demo's catalog and orders,
in each language; the admin statuses page is a 403 page for others; the public page shows the
order without a login and 404 for an unknown token; the tasks page lists my overdue orders."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from crm_core.auth.principal import SYSTEM
from crm_core.database import session_scope
from crm_core.orders import service as orders
from crm_core.orders import statuses
from crm_core.orders.demo import load_sales_demo
from tests.factories import add_client, user_id


@pytest.fixture
def database(sqlite_database):
    """Rendering is the subject here (the services are tested on both backends)."""
    return sqlite_database


def sign_in(client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/login",
        data={"username": username, "password": f"password-{username}", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _seed() -> int:
    add_client("Ana Popescu", phone="+40712345678")
    with session_scope() as db:
        load_sales_demo(db)
        return orders.list_orders(db, SYSTEM, limit=1)[0][0].id


def test_sales_pages_for_a_manager_in_each_language(client, users):
    users.add("boss", role="manager")
    order_id = _seed()
    sign_in(client, "boss")
    for lang, word in (("en", "Orders"), ("ro", "Comenzi"), ("ru", "Заказы")):
        client.post("/settings/language", data={"language": lang, "csrf_token": _csrf(client)})
        for path in ("/orders", "/orders/new", f"/orders/{order_id}", "/catalog", "/price-lists"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert "sales.css" in page.text
        board = client.get("/orders").text
        assert word in board and "is-overdue" in board
    assert client.get("/orders/999999").status_code == 404
    assert client.get("/admin/order-statuses").status_code == 403


def _csrf(client) -> str:
    return re.search(r'data-csrf="([^"]+)"', client.get("/").text).group(1)


def test_admin_statuses_page_and_public_page(client, users):
    users.add("root", role="admin", team=None)
    order_id = _seed()
    sign_in(client, "root")
    page = client.get("/admin/order-statuses")
    assert page.status_code == 200 and "sms_template" in page.text and "RO standard" in page.text
    with session_scope() as db:
        order = orders.get_order(db, SYSTEM, order_id)
        token, number = order.public_token, order.number
        status = statuses.status_by_code(db, order.status)
        ro, ru = statuses.label_for(status, "ro"), statuses.label_for(status, "ru")
    client.cookies.clear()
    shown = client.get(f"/o/{token}?lang=ro")
    assert shown.status_code == 200 and number in shown.text and ro in shown.text
    russian = client.get(f"/o/{token}", headers={"Accept-Language": "ru"})
    assert ru in russian.text
    assert client.get("/o/nope").status_code == 404


def test_my_overdue_orders_on_the_tasks_page(client, users):
    users.add("ana")
    cid = add_client("Ion Rusu")
    with session_scope() as db:
        order = orders.create_order(
            db, SYSTEM, {"client_id": cid, "assignee_id": user_id("ana"),
                         "deadline": orders.local_today() - timedelta(days=1),
                         "lines": [{"description": "Montaj", "unit_price": 1, "vat_rate": 0}]},
        )  # fmt: skip
        number = order.number
    sign_in(client, "ana")
    page = client.get("/tasks")
    assert "My overdue orders" in page.text and number in page.text
