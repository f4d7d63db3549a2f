"""Browser pages over HTTP: sign-in with CSRF, rights, filters, saved filters, languages."""

from __future__ import annotations

import re

import pytest

from tests.factories import add_client


@pytest.fixture
def database(sqlite_database):
    """Rendering is the subject here: SQLite only (the services are tested on both backends;
    saved filters and the wall's rebuild have their own tests on both)."""
    return sqlite_database


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, next_url: str = "/") -> str:
    """Sign in through the login form like a browser; returns the page CSRF token."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f"password-{username}",
            "csrf_token": form_csrf(page.text),
            "next": next_url,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return form_csrf(client.get("/").text)


def test_pages_send_strangers_to_the_login_form(client):
    for path in ("/", "/clients", "/clients/1", "/tasks", "/handset"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


def test_login_form_signs_in_and_goes_back_to_the_page(client, users):
    users.add("ana", extension="101")
    page = client.get("/login?next=/tasks")
    assert 'name="next" value="/tasks"' in page.text
    r = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "password-ana",
            "csrf_token": form_csrf(page.text),
            "next": "/tasks",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/tasks"
    cookie = r.headers["set-cookie"].lower()
    assert "callcard_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    workspace = client.get("/")
    assert workspace.status_code == 200
    assert "Ana" in workspace.text and "Extension" in workspace.text


def test_login_form_refuses_wrong_password_forged_form_and_foreign_redirects(client, users):
    users.add("ana")
    page = client.get("/login")
    token = form_csrf(page.text)
    wrong = client.post(
        "/login", data={"username": "ana", "password": "nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    forged = client.post(
        "/login", data={"username": "ana", "password": "password-ana", "csrf_token": "forged"}
    )
    assert forged.status_code == 400 and "callcard_session" not in forged.headers.get(
        "set-cookie", ""
    )
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "password-ana",
            "csrf_token": form_csrf(page.text),
            "next": "//evil.example/steal",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_logout_ends_the_session(client, users):
    users.add("ana")
    csrf = sign_in(client, "ana")
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_language_switch_is_stored_per_user(client, users):
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    users.add("ana")
    csrf = sign_in(client, "ana")
    assert (
        client.post(
            "/settings/language",
            data={"language": "ro", "csrf_token": "bad"},
            follow_redirects=False,
        ).status_code
        == 403
    )
    r = client.post(
        "/settings/language",
        data={"language": "ro", "csrf_token": csrf, "next": "/clients"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/clients"
    page = client.get("/clients")
    assert 'lang="ro"' in page.text and "Clienți" in page.text and "Client nou" in page.text
    with session_scope() as db:
        assert db.scalar(select(User.language).where(User.username == "ana")) == "ro"
    r = client.post("/settings/language", data={"language": "ru", "csrf_token": csrf})
    assert "Клиенты" in client.get("/clients").text
    assert (
        client.post("/settings/language", data={"language": "xx", "csrf_token": csrf}).status_code
        == 422
    )


def test_client_list_shows_the_category_names_the_admin_gave(client, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.history import choices

    users.add("ana", team="Sales")
    add_client("Paul Partner", category="partner", phone="0721 000 333")
    with session_scope() as db:
        item = next(c for c in choices.items(db, "client_category") if c.code == "partner")
        choices.update_item(db, SYSTEM, item.id, label="Partener de afaceri")
    sign_in(client, "ana")
    page = client.get("/clients").text
    assert "Paul Partner" in page
    assert '<span class="badge">Partener de afaceri</span>' in page  # the label, not the code


def test_client_list_filters_sorts_and_keeps_other_teams_out(client, users):
    users.add("ana", team="Sales")
    add_client("Ana Vip", category="vip", phone="0721 000 111", tags=["gold"])
    add_client("Bogdan Regular", phone="0721 000 222")
    add_client("Hidden Other", team="Support")
    sign_in(client, "ana")
    page = client.get("/clients")
    assert "Ana Vip" in page.text and "Bogdan Regular" in page.text
    assert "Hidden Other" not in page.text
    assert "+40721000111" in page.text  # click-to-call on the first phone
    vip = client.get("/clients?category=vip").text
    assert "Ana Vip" in vip and "Bogdan Regular" not in vip
    tagged = client.get("/clients?tag=gold").text
    assert "Ana Vip" in tagged and "Bogdan Regular" not in tagged
    ordered = client.get("/clients?sort=-display_name").text
    assert ordered.index("Bogdan Regular") < ordered.index("Ana Vip")
    bad = client.get("/clients?team=abc")
    assert bad.status_code == 200 and "Filter not applied" in bad.text


def test_client_card_shows_contacts_history_and_tasks(client, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.history.service import add_interaction

    users.add("ana")
    cid = add_client(
        "Ștefan Țurcanu",
        phone="+40 721 234 567",
        category="vip",
        emails=[{"address": "stefan@example.ro"}],
        addresses=[{"city": "Cluj-Napoca", "street": "Str. Memorandumului 1"}],
    )
    with session_scope() as db:
        add_interaction(
            db,
            SYSTEM,
            client_id=cid,
            kind="call",
            direction="inbound",
            result_code="answered",
            duration_s=125,
            subject="Order question",
        )
        add_interaction(
            db,
            SYSTEM,
            client_id=cid,
            kind="sms",
            direction="outbound",
            body="Your appointment is tomorrow",
        )
    csrf = sign_in(client, "ana")
    r = client.post(
        "/api/tasks",
        json={"title": "Send the offer", "client_id": cid},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    page = client.get(f"/clients/{cid}")
    assert page.status_code == 200
    text = page.text
    assert "Ștefan Țurcanu" in text and 'class="badge vip"' in text
    assert "+40 721 234 567" in text and "data-call-phone-id" in text
    assert "stefan@example.ro" in text and "Cluj-Napoca" in text
    assert "Order question" in text and "2:05" in text  # call with its duration
    assert "Your appointment is tomorrow" in text
    assert "Send the offer" in text


def test_other_teams_client_card_is_not_found(client, users):
    users.add("ana", team="Sales")
    cid = add_client("Secret Client", team="Support")
    sign_in(client, "ana")
    page = client.get(f"/clients/{cid}")
    assert page.status_code == 404 and "Secret Client" not in page.text
    assert client.get(f"/clients/{cid}/edit").status_code == 404


def test_new_client_form_is_prefilled_from_an_unknown_call(client, users):
    users.add("ana")
    sign_in(client, "ana")
    page = client.get("/clients/new?phone=%2B40721999888&name=Maria%20Ionescu&call_id=171.5")
    assert page.status_code == 200
    assert 'value="+40721999888"' in page.text
    assert 'name="first_name" value="Maria"' in page.text
    assert 'name="last_name" value="Ionescu"' in page.text


def test_tasks_page_lists_mine_and_overdue(client, users):
    from datetime import timedelta

    from crm_core.database import session_scope, utcnow
    from crm_core.tasks.models import Task
    from tests.factories import user_id

    users.add("ana")
    users.add("bob")
    with session_scope() as db:
        db.add(
            Task(
                title="Late one",
                assignee_id=user_id("ana"),
                status="open",
                due_at=utcnow() - timedelta(days=1),
            )
        )
        db.add(Task(title="Bob's", assignee_id=user_id("bob"), status="open"))
    sign_in(client, "ana")
    mine = client.get("/tasks?view=mine").text
    assert "Late one" in mine and "Bob&#39;s" not in mine
    overdue = client.get("/tasks?view=overdue").text
    assert "Late one" in overdue and 'class="overdue"' in overdue
    assert "Late one" in client.get("/").text  # on the workspace too


@pytest.mark.parametrize("role, status", [("operator", 403), ("admin", 200)])
def test_outbox_page_is_for_admins(client, users, role, status):
    users.add("u1", role=role)
    sign_in(client, "u1")
    assert client.get("/outbox").status_code == status


def test_static_files_are_self_hosted(client):
    for name in ("app.js", "app.css", "wall.js", "wall.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and len(r.content) > 500
    assert client.get("/static/../app.py").status_code == 404
    # no CDN: every script and stylesheet of the pages is local
    login = client.get("/login").text
    assert not re.search(r'(src|href)="https?://', login)


def test_tabs_and_messages_are_in_the_users_language(client, users):
    """Texts a view prepares before rendering (tabs, 'not found', 'not allowed') follow the
    user's language like the rest of the page."""
    users.add("ana", team="Sales", language="ro")
    users.add("oleg", team="Sales", language="ru")
    sign_in(client, "ana")
    tasks = client.get("/tasks").text
    assert "Ale mele" in tasks and "Toate deschise" in tasks and ">Mine<" not in tasks
    assert "Clientul nu a fost găsit" in client.get("/clients/999999").text
    client.cookies.clear()
    sign_in(client, "oleg")
    assert "Мои" in client.get("/tasks").text
    assert "Нет доступа" in client.get("/outbox").text
