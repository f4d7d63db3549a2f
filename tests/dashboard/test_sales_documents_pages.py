"""``/admin/company`` and ``/admin/document-templates``: admins only, in ro/ru; the company
form's round trip through the API it posts to (cookie + CSRF, as the page does); a broken
HTML template refused with the message naming it; the wall's plural payment caption."""

from __future__ import annotations

import html
import json
import re

import pytest


def session_for(users, username: str, role: str, language: str = "en") -> tuple[dict, dict]:
    """(cookies, headers) of a browser session: the page's CSRF token, as app.js sends it."""
    from crm_core.auth.security import csrf_token_for
    from crm_core.auth.service import open_session
    from crm_core.config import secret_key
    from crm_core.database import session_scope

    user = users.add(username, role=role, language=language)
    with session_scope() as s:
        cookie = open_session(s, s.merge(user), "cookie")
    headers = {"X-CSRF-Token": csrf_token_for(cookie, secret_key()), "Accept-Language": language}
    return {"callcard_session": cookie}, headers


@pytest.mark.parametrize(
    "path,ro,ru",
    [
        ("/admin/company", "Denumirea companiei", "Название компании"),
        ("/admin/document-templates", "Previzualizare PDF", "Предпросмотр PDF"),
    ],
)
def test_admin_pages_in_romanian_and_russian_and_forbidden_to_others(client, users, path, ro, ru):
    for name, language, text in (("ana", "ro", ro), ("ivan", "ru", ru)):
        cookies, _ = session_for(users, name, "admin", language)
        page = client.get(path, cookies=cookies)
        assert page.status_code == 200, page.text
        assert f'lang="{language}"' in page.text and text in page.text
        assert "<script>" not in page.text and " style=" not in page.text  # CSP
    for role in ("manager", "operator"):
        cookies, _ = session_for(users, f"x{role}", role)
        assert client.get(path, cookies=cookies).status_code == 403


def test_company_form_round_trip_with_inline_field_errors(client, users):
    cookies, headers = session_for(users, "boss", "admin", "ro")
    page = client.get("/admin/company", cookies=cookies)
    form = page.text.split('id="company-form"')[1].split("</form>")[0]
    names = set(re.findall(r'name="(\w+)"', form))
    fields = {
        "name", "legal_form", "tax_id", "kpp", "registration_no", "address", "bank_name",
        "bank_account", "bank_code", "correspondent_account", "phone", "email", "director",
        "accountant", "default_currency", "vat_payer",
    }  # fmt: skip
    assert names == fields  # every field the API has, named as the API names it
    assert 'data-api="/api/company"' in page.text and 'data-method="PUT"' in page.text
    body = {name: "" for name in fields - {"default_currency", "vat_payer"}}
    body.update(name="Țesături Ștefan", legal_form="SRL", tax_id="RO123", vat_payer=False)
    body.update(default_currency="EUR", bank_account="RO49AAAA1B31007593840000")
    saved = client.put("/api/company", json=body, cookies=cookies, headers=headers)
    assert saved.status_code == 200, saved.text
    again = client.get("/admin/company", cookies=cookies).text
    assert 'value="Țesături Ștefan"' in again and 'value="RO49AAAA1B31007593840000"' in again
    assert 'value="EUR"' in again and 'name="vat_payer" checked' not in again
    bad = client.put(
        "/api/company", json={"default_currency": "lei"}, cookies=cookies, headers=headers
    )
    assert bad.status_code == 422
    error = bad.json()["detail"][0]
    assert error["loc"][-1] == "default_currency" and error["msg"] == "Formatul nu este corect."
    no_csrf = client.put("/api/company", json={"name": "X"}, cookies=cookies)
    assert no_csrf.status_code == 403


def test_logo_upload_shows_in_the_page_and_deletes(client, users):
    cookies, headers = session_for(users, "boss", "admin")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    files = {"file": ("logo.png", png, "image/png")}
    put = client.put("/api/company/logo", files=files, cookies=cookies, headers=headers)
    assert put.status_code == 204, put.text
    page = client.get("/admin/company", cookies=cookies).text
    assert 'id="logo-preview"' in page and 'src="/api/company/logo' in page
    assert client.get("/api/company/logo", cookies=cookies).content == png
    assert client.delete("/api/company/logo", cookies=cookies, headers=headers).status_code == 204
    assert 'src="/api/company/logo' not in client.get("/admin/company", cookies=cookies).text


def test_templates_list_edit_broken_html_and_reset(client, users):
    cookies, headers = session_for(users, "boss", "admin", "ru")
    page = client.get("/admin/document-templates?kind=act&language=ro", cookies=cookies).text
    for kind in ("Счёт", "Акт выполненных работ", "Подтверждение заказа", "Договор"):
        assert kind in page
    assert page.count('data-upload="/api/document-templates/') == 18  # 6 forms x 3 languages
    assert 'data-kind="act" data-language="ro"' in page and "<textarea" in page
    url = "/api/document-templates/act/ro/html"
    broken = client.put(url, json={"html": "{% for x in %}"}, cookies=cookies, headers=headers)
    assert broken.status_code == 422
    detail = broken.json()["detail"][0]
    assert detail["loc"][-1] == "act/ro/html" and "act/ro/html" in detail["msg"]
    good = "<html><body><h1>Act {{ doc.number }}</h1></body></html>"
    preview = client.post(
        url.replace("/html", "/preview"), json={"html": good}, cookies=cookies, headers=headers
    )
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    assert client.put(url, json={"html": good}, cookies=cookies, headers=headers).status_code == 200
    page = client.get("/admin/document-templates?kind=act&language=ro", cookies=cookies).text
    assert (
        "Act {{ doc.number }}" in page
        and 'data-reset="/api/document-templates/act/ro/html"' in page
    )
    assert client.delete(url, cookies=cookies, headers=headers).status_code == 204
    page = client.get("/admin/document-templates?kind=act&language=ro", cookies=cookies).text
    assert "Act {{ doc.number }}" not in page


def test_wall_payments_caption_is_a_plural(client, users):
    """The server draws the caption first; wall.js then picks the form by Intl.PluralRules
    from the forms the page carries (one/few/many/other, already translated)."""
    from dashboard import i18n

    cookies, _ = session_for(users, "boss", "manager", "ru")
    page = client.get("/wall", cookies=cookies).text
    caption = re.search(r"id=\"wall-payments-count\" data-plural='([^']+)'>([^<]+)<", page)
    assert caption is not None
    forms = json.loads(html.unescape(caption.group(1)))
    assert forms == {
        "one": "{n} платёж",
        "few": "{n} платежа",
        "many": "{n} платежей",
        "other": "{n} платежей",
    }
    assert caption.group(2).endswith("платежей")  # 0 or more payments today: "many"
    i18n.set_language("ro")
    said = [i18n.ngettext("%(num)s payment", "%(num)s payments", n, num=n) for n in (1, 2, 20)]
    assert said == ["1 plată", "2 plăți", "20 de plăți"]
