"""The caller popup carries what the caller owes and their last order: read by the lookup
in the same statement (client_balances by primary key, orders by client index), pushed to
the operator's websocket with the card; a client the operator may not open shows neither."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from websockets.sync.client import connect

from tests.conftest import AMI_TRACES
from tests.factories import make_client

NUMBER = "+79161234567"  # the caller of the recorded queue trace


def issue(client_id: int, amount: str, paid: str | None = None, currency: str = "RON") -> int:
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.invoices.payments import add_payment
    from crm_core.invoices.service import create_invoice

    line = {"description": "Service", "quantity": Decimal("1"), "unit_price": Decimal(amount),
            "vat_rate": Decimal("0")}  # fmt: skip
    with session_scope() as db:
        invoice = create_invoice(
            db,
            SYSTEM,
            {"client_id": client_id, "currency": currency, "lines": [line], "issue": True},
        )
        if paid:
            add_payment(db, SYSTEM, invoice.id, amount=Decimal(paid))
        return invoice.id


def order(client_id: int, number: str, total: str) -> None:
    from crm_core.database import session_scope
    from crm_core.orders.models import Order

    with session_scope() as db:
        db.add(Order(number=number, client_id=client_id, status="confirmed", currency="RON",
                     public_token=number.replace("-", "") * 2, total=Decimal(total)))  # fmt: skip


def card(number: str, actor=None):
    from crm_core.clients.lookup import caller_card
    from crm_core.database import session_scope

    with session_scope() as db:
        return caller_card(db, number, actor)


def test_the_card_shows_the_debt_per_currency_and_the_last_order(database):
    client_id = make_client("Ivan Petrov", phone=NUMBER)
    assert card(NUMBER).debts == [] and card(NUMBER).last_order is None
    issue(client_id, "300.00", paid="120.50")
    issue(client_id, "10.00", currency="EUR")
    order(client_id, "2026-000001", "55.00")
    time.sleep(0.01)
    order(client_id, "2026-000002", "77.70")
    found = card(NUMBER)
    assert {(d.currency, d.amount) for d in found.debts} == {
        ("RON", Decimal("179.50")),
        ("EUR", Decimal("10.00")),
    }
    assert found.last_order.number == "2026-000002"
    assert found.last_order.total == Decimal("77.70") and found.last_order.status == "confirmed"
    dumped = found.model_dump(mode="json")
    assert {"currency": "RON", "amount": "179.50"} in dumped["debts"]


def test_a_paid_up_client_shows_no_debt_and_credit_shows_negative(database):
    client_id = make_client("Ivan Petrov", phone=NUMBER)
    invoice_id = issue(client_id, "0.30", paid="0.10")
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.invoices.payments import add_payment

    with session_scope() as db:
        add_payment(db, SYSTEM, invoice_id, amount=Decimal("0.20"))
    assert card(NUMBER).debts == []  # 0.30 - 0.10 - 0.20 is exactly zero, also on SQLite
    other = issue(client_id, "5.00")
    with session_scope() as db:
        add_payment(db, SYSTEM, other, amount=Decimal("7.25"), as_credit=True)
    assert [(d.currency, d.amount) for d in card(NUMBER).debts] == [("RON", Decimal("-2.25"))]


def test_a_restricted_card_shows_no_debt(database, users):
    from crm_core.auth.service import principal_of

    client_id = make_client("Ivan Petrov", "Support", phone=NUMBER)
    issue(client_id, "99.00")
    user = users.add("ana", team="Sales")
    found = card(NUMBER, principal_of(user))
    assert found.restricted is True and found.debts == [] and found.last_order is None


@pytest.fixture
def popups(live_server):
    from crm_core.bus import get_bus
    from cti.popups import CallPopups
    from dashboard.hub import hub

    hub.sticky.clear()
    p = CallPopups(get_bus())
    yield p
    p.close()


def test_the_ringing_popup_carries_the_debt(live_server, users, popups):
    from callcard.settings import get_settings
    from cti.ami import iter_messages
    from cti.tracker.tracker import CallTracker

    users.add("ana", extension="101")
    client_id = make_client("Ivan Petrov", phone=NUMBER)
    issue(client_id, "250.00", paid="100.00")
    ws = connect(f"{live_server.ws_url}/ws?token={users.token('ana')}", open_timeout=30)
    assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    tracker = CallTracker(get_settings(), on_event=popups.on_event)
    for message in iter_messages((AMI_TRACES / "03-queue-ringall-102-answers.ami").read_bytes()):
        if message.get("event"):
            tracker.feed(message)
    ringing = None
    deadline = time.monotonic() + 5
    while ringing is None and time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=5))
        if message["type"] == "call.ringing":
            ringing = message
    ws.close()
    assert ringing is not None and ringing["card"]["client_id"] == client_id
    assert ringing["card"]["debts"] == [{"currency": "RON", "amount": "150.00"}]
