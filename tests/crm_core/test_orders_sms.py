"""The SMS on an order's status change: the status's text, rendered for the client, queued in
the outbox exactly once in the status change's transaction; none for an opted-out number, a
status without text, or a client without a phone. Statuses and texts are admins' to change."""

from __future__ import annotations

from crm_core.database import session_scope
from notifier.outbox import service as outbox
from tests.factories import add_client, colleagues, loc, outbox_rows


def _order(client, headers, client_id) -> dict:
    body = {"client_id": client_id, "lines": [{"description": "Montaj", "unit_price": "100",
            "vat_rate": "21"}]}  # fmt: skip
    response = client.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _move(client, headers, order, code):
    response = client.post(
        f"/api/orders/{order['id']}/status", json={"status": code}, headers=headers
    )
    assert response.status_code == 200, response.text


def test_entering_a_status_with_a_text_queues_one_sms(client, db):
    h = colleagues(ana=("operator", "Sales"))
    cid = add_client("Ana Popescu", phone="+40 712 345 678")
    order = _order(client, h["ana"], cid)
    assert outbox_rows(db, "order:") == []  # "new" has no text
    _move(client, h["ana"], order, "confirmed")
    (sms,) = outbox_rows(db, "order:")
    assert (sms.channel, sms.recipient, sms.client_id, sms.purpose) == (
        "sms", "+40712345678", cid, "order_status"
    )  # fmt: skip
    assert sms.body.startswith(f"Ana, your order {order['number']} is confirmed.")
    assert order["public_url"] in sms.body
    assert sms.meta.get("quiet_hours", True) is True  # the dispatcher's quiet hours apply
    _move(client, h["ana"], order, "in_work")  # no text: nothing more
    _move(client, h["ana"], order, "ready")
    db.expire_all()
    bodies = [m.body for m in outbox_rows(db, "order:")]
    assert len(bodies) == 2 and "is ready. Total 121.00 RON" in bodies[1]


def test_no_sms_to_an_opted_out_number_or_without_a_phone(client, db):
    h = colleagues(ana=("operator", "Sales"))
    quiet = add_client("Ion Rusu", phone="+40712000111")
    with session_scope() as s:
        outbox.record_opt_out(s, "+40712000111", "sms", source="test")
    no_phone = add_client("Maria Lungu")
    for cid in (quiet, no_phone):
        _move(client, h["ana"], _order(client, h["ana"], cid), "confirmed")
    assert outbox_rows(db, "order:") == []


def test_a_failed_status_change_queues_nothing(client, db):
    h = colleagues(ana=("operator", "Sales"), ion=("operator", "Support"))
    theirs = add_client("Ion Rusu", team="Support", phone="+40712000222")
    order = _order(client, h["ion"], theirs)
    denied = client.post(
        f"/api/orders/{order['id']}/status", json={"status": "confirmed"}, headers=h["ana"]
    )
    assert denied.status_code == 404
    assert outbox_rows(db, "order:") == []


def test_admins_edit_statuses_and_their_sms_texts(client, db):
    h = colleagues(root=("admin", None), boss=("manager", "Sales"))
    statuses = client.get("/api/order-statuses", headers=h["boss"]).json()
    assert [s["code"] for s in statuses] == [
        "new", "confirmed", "in_work", "ready", "delivered", "cancelled"
    ]  # fmt: skip
    assert [s["label_ro"] for s in statuses][:2] == ["Nouă", "Confirmată"]
    in_work = next(s for s in statuses if s["code"] == "in_work")
    url = f"/api/order-statuses/{in_work['id']}"
    text = {"sms_template": "{{ first_name }}: comanda {{ number }} e în lucru ({{ status }})"}
    assert client.patch(url, json=text, headers=h["boss"]).status_code == 403
    bad = client.patch(url, json={"sms_template": "{{ password }}"}, headers=h["root"])
    assert loc(bad) == [["body", "sms_template"]]
    broken = client.patch(url, json={"sms_template": "{% if %}"}, headers=h["root"])
    assert loc(broken) == [["body", "sms_template"]]
    assert client.patch(url, json=text, headers=h["root"]).status_code == 200
    added = client.post(
        "/api/order-statuses",
        json={"code": "on_hold", "label": "On hold", "label_ro": "În așteptare",
              "label_ru": "Приостановлен"},
        headers=h["root"],
    )  # fmt: skip
    assert added.status_code == 201 and added.json()["position"] == 6
    cid = add_client("Elena Moraru", phone="+40712000333", language="ro")
    order = _order(client, h["boss"], cid)
    _move(client, h["boss"], order, "in_work")
    (sms,) = outbox_rows(db, "order:")
    assert sms.body == f"Elena: comanda {order['number']} e în lucru (În lucru)"
