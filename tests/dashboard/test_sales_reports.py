"""``/reports/sales``: figures for known invoices and payments (made through the invoices
service), debts by age, the XLSX export read back, and who may open the page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.factories import make_client, principal_of


def cookie_for(users, username: str, role: str, language: str = "en") -> dict[str, str]:
    from crm_core.auth.service import open_session
    from crm_core.database import session_scope

    user = users.add(username, role=role, language=language)
    with session_scope() as s:
        return {"callcard_session": open_session(s, s.merge(user), "cookie")}


def seed(users) -> dict:
    """Two operators' invoices in RON and EUR, a product line, a payment, a credit note and
    three overdue invoices of different ages."""
    from crm_core.catalog.service import create_product
    from crm_core.database import session_scope
    from crm_core.invoices import payments, service

    ana = principal_of(users.add("ana", role="operator"))
    ion = principal_of(users.add("ion", role="manager"))
    buyer = make_client("Ștefan Țurcanu", "Sales")
    other = make_client("ООО Ромашка", "Sales")
    today = service.today()
    with session_scope() as db:
        product = create_product(
            db, ion, {"name": "Ștampilă", "sku": "ST-1", "unit": "buc", "vat_rate": Decimal("21")}
        )
        pid = product.id

    def invoice(actor, client_id, lines, currency="RON", due=None) -> int:
        with session_scope() as db:
            data = {"client_id": client_id, "currency": currency, "lines": lines, "issue": True}
            if due is not None:
                data["due_date"] = due
            return service.create_invoice(db, actor, data).id

    line = {"description": "Servicii", "quantity": "2", "unit_price": "50.00", "vat_rate": "21"}
    stamp = {"product_id": pid, "quantity": "3", "unit_price": "10.00", "vat_rate": "21"}
    first = invoice(ana, buyer, [line, stamp])  # 100 + 30 net, 27.30 VAT = 157.30
    invoice(ana, buyer, [line], currency="EUR")  # 121.00 EUR
    cancelled = invoice(ion, other, [line])  # 121.00, then credited
    invoice(ion, other, [line], due=today - timedelta(days=10))  # 121.00, 0-30
    invoice(ion, other, [line], due=today - timedelta(days=45))  # 121.00, 31-60
    invoice(ion, buyer, [line], due=today - timedelta(days=120))  # 121.00, over 90
    with session_scope() as db:
        payments.add_payment(db, ana, first, amount=Decimal("57.30"), method="cash")
        service.credit_note(db, ion, cancelled, "greșeală")
    return {"buyer": buyer, "other": other, "today": today}


def test_report_figures_and_debts_by_age(client, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard import sales_reports

    known = seed(users)
    with session_scope() as db:
        period = sales_reports.resolve_period(None, known["today"])
        report = sales_reports.sales_report(db, SYSTEM, period, known["today"])
    by_period = {(r["start"], r["currency"]): r for r in report["by_period"]}
    ron = by_period[(known["today"], "RON")]
    # 157.30 + 121 (credited: 121 - 121) + 3 x 121
    assert ron["total"] == Decimal("520.30") and ron["invoices"] == 5
    assert ron["net"] == Decimal("430.00") and ron["vat"] == Decimal("90.30")
    assert by_period[(known["today"], "EUR")]["total"] == Decimal("121.00")
    per_op = {(r["name"], r["currency"]): r["total"] for r in report["by_operator"]}
    assert per_op == {
        ("Ana", "RON"): Decimal("157.30"),
        ("Ana", "EUR"): Decimal("121.00"),
        ("Ion", "RON"): Decimal("363.00"),
    }
    products = {(r["name"], r["currency"]): r for r in report["by_product"]}
    assert products[("Ștampilă", "RON")]["quantity"] == 3
    assert products[("Ștampilă", "RON")]["total"] == Decimal("36.30")
    assert products[("", "RON")]["net"] == Decimal("400.00")  # free text, credit note out
    clients = {(r["name"], r["currency"]): r for r in report["by_client"]}
    assert clients[("Ștefan Țurcanu", "RON")]["paid"] == Decimal("57.30")
    assert clients[("Ștefan Țurcanu", "RON")]["balance"] == Decimal("221.00")
    debts = {(r["name"], r["currency"]): r for r in report["debts"]["clients"]}
    stefan = debts[("Ștefan Țurcanu", "RON")]
    assert (stefan["not_due"], stefan["d90_plus"], stefan["total"]) == (
        Decimal("100.00"),
        Decimal("121.00"),
        Decimal("221.00"),
    )
    romashka = debts[("ООО Ромашка", "RON")]
    assert (romashka["d0_30"], romashka["d31_60"], romashka["not_due"]) == (
        Decimal("121.00"),
        Decimal("121.00"),
        Decimal("0.00"),
    )
    totals = {r["currency"]: r for r in report["debts"]["totals"]}
    assert totals["RON"]["total"] == Decimal("463.00") and totals["EUR"]["not_due"] == 121


def test_page_in_romanian_and_xlsx_export(client, users):
    known = seed(users)
    cookies = cookie_for(users, "sef", "manager", language="ro")
    page = client.get("/reports/sales", cookies=cookies)
    assert page.status_code == 200, page.text
    assert "Vânzări pe operator" in page.text and "Datorii după vechime" in page.text
    assert "520,30" in page.text  # the Romanian way of writing money
    assert 'href="/reports"' in page.text and "Ștefan Țurcanu" in page.text
    xlsx = client.get("/reports/sales?export=xlsx&table=debts", cookies=cookies)
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Client" and rows[0][-1] == "Total"
    totals = [r for r in rows if r[0] == "Total" and r[1] == "RON"][0]
    assert totals[-1] == pytest.approx(463.0) and isinstance(totals[-1], float | int)
    assert sheet.cell(2, 3).number_format == "#,##0.00"
    clients = load_workbook(
        BytesIO(client.get("/reports/sales?export=xlsx&table=client", cookies=cookies).content)
    ).active
    names = {r[0]: r for r in clients.iter_rows(min_row=2, values_only=True) if r[1] == "RON"}
    assert names["Ștefan Țurcanu"][3] == pytest.approx(278.3)
    assert known["buyer"]


def test_periods_and_rights(client, users):
    seed(users)
    boss = cookie_for(users, "boss", "admin", language="ru")
    last = client.get("/reports/sales?period=custom&from=2001-01-01&to=2001-12-31", cookies=boss)
    assert last.status_code == 200 and "Продажи по клиентам" in last.text
    assert "Ștefan Țurcanu" not in last.text.split("Долги по срокам")[0]  # nothing in 2001
    bad = client.get("/reports/sales?period=custom&from=2020-05-01&to=2020-01-01", cookies=boss)
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    operator = cookie_for(users, "op", "operator")
    assert client.get("/reports/sales", cookies=operator).status_code == 403
    export = client.get("/reports/sales?export=xlsx&table=client", cookies=operator)
    assert export.status_code == 403


def test_period_choices():
    from datetime import date

    from dashboard.sales_reports import resolve_period

    day = date(2024, 3, 15)
    assert resolve_period(None, day).first_day == date(2024, 3, 1)
    last = resolve_period("last_month", day)
    assert (last.first_day, last.last_day) == (date(2024, 2, 1), date(2024, 2, 29))
    year = resolve_period("this_year", day)
    assert year.first_day == date(2024, 1, 1) and year.monthly
    assert not resolve_period("this_month", day).monthly
