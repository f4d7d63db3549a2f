"""The signed payment webhook: a payment recorded once per provider payment id; unsigned or
wrongly signed bodies refused with 403 and nothing stored; oversized bodies refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.factories import colleagues, make_client

SECRET = "test-webhook-secret"
URL = "/api/sales/payments/webhook"


@pytest.fixture
def secret(monkeypatch):
    from crm_core.config import get_settings

    monkeypatch.setenv("CALLCARD_PAYMENT_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()
    yield SECRET
    get_settings.cache_clear()


@pytest.fixture
def invoice(client, secret):
    headers = colleagues(ana=("operator", "Sales"))["ana"]
    client_id = make_client("Ana Țăranu", "Sales")
    body = {"client_id": client_id, "issue": True, "lines": [
        {"description": "Abonament", "quantity": "1", "unit_price": "100.00", "vat_rate": "21"}]}  # fmt: skip
    made = client.post("/api/invoices", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return {**made.json(), "headers": headers}


def payments() -> int:
    from crm_core.database import session_scope
    from crm_core.invoices.models import Payment

    with session_scope() as s:
        return s.scalar(select(func.count(Payment.id)))


def post(client, payload: dict, signature: str | None = "good", raw: bytes | None = None):
    from crm_core.invoices.webhook import sign

    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "good":
        headers["X-Callcard-Signature"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Callcard-Signature"] = signature
    return client.post(URL, content=body, headers=headers)


def test_a_signed_payment_is_recorded_once(client, invoice):
    payload = {
        "invoice_number": invoice["number"],
        "amount": "60.00",
        "provider_payment_id": "px-1",
    }
    first = post(client, payload)
    assert first.status_code == 200, first.text
    assert first.json()["amount"] == "60.00" and first.json()["method"] == "online"
    replay = post(client, payload)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    assert payments() == 1
    after = client.get(f"/api/invoices/{invoice['id']}", headers=invoice["headers"]).json()
    assert after["status"] == "partially_paid" and after["balance"] == "61.00"


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", "sha256=deadbeef"],
)
def test_unsigned_or_wrongly_signed_is_403_and_nothing_stored(client, invoice, signature):
    payload = {
        "invoice_number": invoice["number"],
        "amount": "10.00",
        "provider_payment_id": "px-2",
    }
    assert post(client, payload, signature=signature).status_code == 403
    assert payments() == 0


def test_a_signature_of_another_body_is_refused(client, invoice):
    from crm_core.invoices.webhook import sign

    signed = json.dumps({"invoice_number": invoice["number"], "amount": "1.00",
                         "provider_payment_id": "px-3"}).encode()  # fmt: skip
    tampered = signed.replace(b"1.00", b"121.00")
    response = post(client, {}, signature=sign(signed, SECRET), raw=tampered)
    assert response.status_code == 403 and payments() == 0


def test_without_a_configured_secret_everything_is_refused(client, invoice, monkeypatch):
    from crm_core.config import get_settings
    from crm_core.invoices.webhook import sign

    monkeypatch.setenv("CALLCARD_PAYMENT_WEBHOOK_SECRET", "")
    get_settings.cache_clear()
    body = json.dumps({"invoice_number": invoice["number"], "amount": "1.00",
                       "provider_payment_id": "px-4"}).encode()  # fmt: skip
    response = client.post(URL, content=body, headers={"X-Callcard-Signature": sign(body, "")})
    assert response.status_code == 403 and payments() == 0


def test_bad_bodies_are_422_naming_the_field_and_oversized_ones_413(client, invoice):
    unknown = {"invoice_number": "NOPE-1", "amount": "1.00", "provider_payment_id": "px-5"}
    assert post(client, unknown).json()["detail"][0]["loc"] == ["body", "invoice_number"]
    negative = {"invoice_number": invoice["number"], "amount": "-1", "provider_payment_id": "px-6"}
    assert post(client, negative).json()["detail"][0]["loc"] == ["body", "amount"]
    huge = json.dumps({"invoice_number": invoice["number"], "amount": "1.00",
                       "provider_payment_id": "px-7", "pad": "x" * 200_000}).encode()  # fmt: skip
    assert post(client, {}, raw=huge).status_code == 413
    assert payments() == 0


def test_an_overpayment_by_the_provider_becomes_client_credit(client, invoice):
    payload = {
        "invoice_number": invoice["number"],
        "amount": "150.00",
        "provider_payment_id": "px-8",
    }
    assert post(client, payload).status_code == 200
    balance = client.get(f"/api/clients/{invoice['client_id']}/balance", headers=invoice["headers"])
    assert balance.json()["balances"] == {"RON": "-29.00"}
