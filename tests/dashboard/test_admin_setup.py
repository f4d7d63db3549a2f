"""Admin screens of the client base: custom fields, field labels, choice lists (per language),
and who may open and change them. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import add_client


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str) -> None:
    """Sign in through the login form like a browser (the session cookie stays in ``client``)."""
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": f"password-{username}",
            "csrf_token": form_csrf(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def cells(html: str, tag: str) -> list[str]:
    """The texts of every ``tag`` element (tags inside stripped), as a reader sees them."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", f).strip() for f in found]


@pytest.fixture
def admin(client, as_user):
    headers = as_user("root", role="admin", team=None)
    sign_in(client, "root")
    return headers


def test_a_new_custom_field_is_on_the_client_form_and_card_at_once(client, admin):
    r = client.post(
        "/api/custom-fields",
        json={"key": "contract_no", "label": "Contract number", "kind": "text"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/custom-fields",
        json={"key": "tier", "label": "Tier", "kind": "choice", "choices": ["Gold", "Silver"]},
        headers=admin,
    )
    assert r.json()["position"] == 1  # a new field comes last
    page = client.get("/admin/fields")
    assert page.status_code == 200
    assert page.text.index("<strong>Contract number</strong>") < page.text.index("<strong>Tier")
    form = client.get("/clients/new").text
    assert re.search(r"<label>Contract number\s*<input name=\"custom.contract_no\"", form)
    assert re.search(r"<label>Tier\s*<select name=\"custom.tier\">.*?>Gold</option>", form, re.S)
    created = client.post(
        "/api/clients",
        json={"first_name": "Ana", "custom": {"contract_no": "C-77", "tier": "Gold"}},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    card = client.get(f"/clients/{created.json()['id']}").text
    assert "<dt>Contract number</dt><dd>C-77</dd>" in card


def test_fields_move_up_and_down(client, admin):
    ids = [
        client.post(
            "/api/custom-fields", json={"key": k, "label": k.title(), "kind": "text"}, headers=admin
        ).json()["id"]
        for k in ("alpha", "beta", "gamma")
    ]
    r = client.post(f"/api/custom-fields/{ids[2]}/move", json={"direction": "up"}, headers=admin)
    assert r.status_code == 200, r.text
    keys = [f["key"] for f in client.get("/api/custom-fields", headers=admin).json()]
    assert keys == ["alpha", "gamma", "beta"]
    client.post(f"/api/custom-fields/{ids[0]}/move", json={"direction": "down"}, headers=admin)
    form = client.get("/clients/new").text
    assert form.index("custom.gamma") < form.index("custom.alpha") < form.index("custom.beta")
    bad = client.post(
        f"/api/custom-fields/{ids[0]}/move", json={"direction": "left"}, headers=admin
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "direction"


def test_a_renamed_label_reaches_the_list_the_form_and_the_card(client, admin):
    org = add_client("", kind="organization", org_name="Acme SRL")
    person = add_client("Ion Rusu", organization_id=org)
    for field, label in (("org_name", "Firma"), ("phone", "Mobil")):
        r = client.put(
            "/api/labels", json={"entity": "client", "field": field, "label": label}, headers=admin
        )
        assert r.status_code == 200, r.text
    listing = client.get("/clients").text
    headers = cells(listing, "th")
    assert "Firma" in headers and "Mobil" in headers
    assert "Organization" not in headers
    form = client.get("/clients/new?kind=organization").text
    assert re.search(r"<label[^>]*>Firma<input name=\"org_name\"", form)
    assert "<legend>Mobil</legend>" in form
    card = client.get(f"/clients/{person}").text
    assert re.search(r"<dt>Firma</dt><dd><a href=\"/clients/\d+\">Acme SRL</a></dd>", card)
    # the caller popup's script gets the renamed labels with every page
    labels = re.search(r'id="callcard-labels">([^<]*)</script>', client.get("/").text)
    assert labels and json.loads(labels.group(1))["org_name"] == "Firma"
    # back to the default: the translated default label again
    label_id = client.get("/api/labels", headers=admin).json()[0]["id"]
    assert client.delete(f"/api/labels/{label_id}", headers=admin).status_code == 204
    assert "Firma" not in cells(client.get("/clients").text, "th")


def test_a_label_for_one_language_is_shown_to_that_language_only(client, admin, users):
    client.put(
        "/api/labels",
        json={"entity": "client", "field": "city", "language": "ro", "label": "Localitate"},
        headers=admin,
    )
    assert "City" in cells(client.get("/clients").text, "label")[6]
    users.add("dana", role="operator", language="ro")
    client.cookies.clear()
    sign_in(client, "dana")
    assert any(c.startswith("Localitate") for c in cells(client.get("/clients").text, "label"))
    page = client.get("/admin/labels")
    assert page.status_code == 403  # and only admins rename
    assert "<html" in page.text


def test_seeded_choice_lists_speak_each_language_and_admins_name_new_items(client, admin, users):
    users.add("dana", role="operator", language="ro")
    users.add("ivan", role="operator", language="ru")
    from tests.conftest import bearer

    api = client.get("/api/choices/client_category", headers=bearer(users, "dana")).json()
    regular = next(i for i in api if i["code"] == "regular")
    assert regular["label"] == "Obișnuit"
    assert regular["labels"] == {"en": "Regular", "ro": "Obișnuit", "ru": "Постоянный"}
    r = client.post(
        "/api/choices/client_category",
        json={"code": "wholesale", "label": "Wholesale", "labels": {"ro": "Angro", "ru": "Опт"}},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["labels"] == {"en": "Wholesale", "ro": "Angro", "ru": "Опт"}
    ru = client.get("/api/choices/client_category", headers=bearer(users, "ivan")).json()
    assert [i["label"] for i in ru][-1] == "Опт"
    client.cookies.clear()
    sign_in(client, "dana")
    listing = client.get("/clients").text
    assert ">Angro</option>" in listing and ">Obișnuit</option>" in listing
    form = client.get("/clients/new").text
    assert ">Angro</option>" in form
    # renaming in one language, deactivating, moving up
    item_id = r.json()["id"]
    r = client.patch(
        f"/api/choices/items/{item_id}", json={"labels": {"ro": "En-gros"}}, headers=admin
    )
    assert r.json()["labels"]["ro"] == "En-gros" and r.json()["labels"]["en"] == "Wholesale"
    client.post(f"/api/choices/items/{item_id}/move", json={"direction": "up"}, headers=admin)
    codes = [i["code"] for i in client.get("/api/choices/client_category", headers=admin).json()]
    assert codes[-2:] == ["wholesale", "partner"]
    client.patch(f"/api/choices/items/{item_id}", json={"active": False}, headers=admin)
    assert ">En-gros</option>" not in client.get("/clients/new").text


def test_the_new_lists_exist_with_labels(client, admin):
    for name in ("event_type", "call_disposition"):
        items = client.get(f"/api/choices/{name}", headers=admin).json()
        assert items and all(set(i["labels"]) == {"en", "ro", "ru"} for i in items)
    page = client.get("/admin/choices?list=event_type")
    assert page.status_code == 200
    assert "Programare" in page.text  # the seeded Romanian label is shown beside the English


@pytest.mark.parametrize(
    "path",
    [
        "/admin/fields",
        "/admin/choices",
        "/admin/labels",
        "/admin/templates",
        "/admin/templates/reminder.appointment.sms/ro",
        "/admin/reminder-rules",
        "/admin/quiet-hours",
    ],
)
def test_only_admins_open_the_screens(client, users, path):
    users.add("boss", role="manager")
    users.add("root", role="admin", team=None)
    sign_in(client, "boss")
    r = client.get(path)
    assert r.status_code == 403
    assert "Not allowed" in r.text and "<html" in r.text
    client.cookies.clear()
    sign_in(client, "root")
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert "<h1>" in r.text


def test_operators_may_not_change_the_configuration(client, as_user):
    op = as_user("ana")
    assert (
        client.post(
            "/api/custom-fields", json={"key": "x", "label": "X", "kind": "text"}, headers=op
        ).status_code
        == 403
    )
    assert (
        client.put(
            "/api/labels", json={"entity": "client", "field": "city", "label": "Oraș"}, headers=op
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/choices/client_category", json={"code": "x", "label": "X"}, headers=op
        ).status_code
        == 403
    )
