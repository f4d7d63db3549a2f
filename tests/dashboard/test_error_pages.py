"""A browser asking for a page that is missing or not allowed gets a page in its language; an API
client asking the same gets JSON."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import sign_in

HTML = {"accept": "text/html,application/xhtml+xml"}


def test_a_missing_page_is_a_page_in_the_browsers_language(client):
    answer = client.get("/no-such-page", headers={**HTML, "accept-language": "ro-RO,ro;q=0.9"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="ro">' in answer.text and "Pagina nu a fost găsită" in answer.text


def test_a_signed_in_user_gets_it_in_their_own_language(client, users):
    users.add("olga", role="operator", language="ru")
    sign_in(client, "olga")
    answer = client.get("/no-such-page", headers=HTML)
    assert answer.status_code == 404
    assert '<html lang="ru">' in answer.text and "Страница не найдена" in answer.text
    assert "olga" in answer.text.lower()  # the menu of a signed-in user is there


def test_api_clients_still_get_json(client):
    answer = client.get("/api/no-such-thing", headers=HTML)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}


def test_validation_messages_carry_no_framework_prefix(client, as_user):
    headers = as_user("ana")
    answer = client.post(
        "/api/clients",
        json={"kind": "person", "first_name": "A", "phones": [{"number": "12"}]},
        headers=headers,
    )
    assert answer.status_code == 422
    messages = [e["msg"] for e in answer.json()["detail"]]
    assert messages and not any(m.startswith("Value error") for m in messages), messages
