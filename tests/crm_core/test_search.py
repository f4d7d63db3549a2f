"""Ranked search on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), through the API."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(as_user):
    return as_user("root", role="admin", team=None)


def add(client, headers, **body):
    response = client.post("/api/clients?force=true", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def search(client, headers, q, **params):
    response = client.get("/api/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def base(client, admin):
    ids = {}
    ids["popescu"] = add(
        client,
        admin,
        first_name="Ion",
        last_name="Popescu",
        phones=[{"number": "0721 234 567"}],
        emails=[{"address": "ion.popescu@gmail.com"}],
    )
    ids["popescuta"] = add(client, admin, first_name="Maria", last_name="Popescu-Tănase")
    ids["apopescului"] = add(client, admin, first_name="Radu", last_name="Apopescului")
    ids["org"] = add(client, admin, kind="organization", org_name="Popescu & Fiii SRL")
    ids["stefan"] = add(
        client,
        admin,
        first_name="Ștefan",
        last_name="Țurcanu",
        phones=[{"number": "+7 916 123-45-67"}],
    )
    ids["contact"] = add(
        client, admin, first_name="Elena", last_name="Vasile", organization_id=ids["org"]
    )
    ids["ivan"] = add(client, admin, first_name="Иван", last_name="Петров")
    return ids


def test_name_fragment_ranks_name_matches_first(client, admin, base):
    found = search(client, admin, "popescu")
    ids = [c["id"] for c in found]
    # a name starting with it, then a word of a name starting with it, then inside a word,
    # then the people of a company whose name matches
    assert ids[0] == base["org"]
    assert set(ids[1:3]) == {base["popescu"], base["popescuta"]}
    assert ids[3:] == [base["apopescului"], base["contact"]]
    assert found[0]["matched"] == "name"

    exact = search(client, admin, "Ion Popescu")
    assert exact[0]["id"] == base["popescu"]


def test_search_ignores_case_and_diacritics(client, admin, base):
    assert [c["id"] for c in search(client, admin, "stefan turc")] == [base["stefan"]]
    assert [c["id"] for c in search(client, admin, "ȘTEFAN")] == [base["stefan"]]
    assert [c["id"] for c in search(client, admin, "петров")] == [base["ivan"]]
    assert search(client, admin, "Popescu-Tanase")[0]["id"] == base["popescuta"]


def test_search_by_phone_in_any_format_or_part(client, admin, base):
    for q in [
        "0721234567",
        "+40 721 234 567",
        "721 234",
        "0040721234567",
        "(0721) 234-567",
        "21234",
    ]:
        found = search(client, admin, q)
        assert found[0]["id"] == base["popescu"], q
        assert found[0]["matched"] == "phone"


def test_search_russian_number_by_fragment_or_whole(client, admin, base):
    for q in ["916 123 45 67", "+7 (916) 123-45-67", "007 916 1234567", "9161234567"]:
        assert search(client, admin, q)[0]["id"] == base["stefan"], q


def test_search_by_email_and_short_prefix(client, admin, base):
    assert [c["id"] for c in search(client, admin, "popescu@gmail")] == [base["popescu"]]
    assert [c["id"] for c in search(client, admin, "io")] == [base["popescu"]]
    assert [c["id"] for c in search(client, admin, "Ив")] == [base["ivan"]]


def test_search_respects_row_rights(client, admin, as_user):
    sales = add(client, admin, first_name="Vasile", last_name="Sales-Client")
    operator = as_user("olga", role="operator", team="Sales")
    other = as_user("sergiu", role="operator", team="Support")
    from sqlalchemy import select

    from crm_core.auth.models import Team
    from crm_core.database import session_scope

    with session_scope() as s:
        sales_team = s.scalar(select(Team.id).where(Team.name == "Sales"))
    client.patch(f"/api/clients/{sales}", json={"team_id": sales_team}, headers=admin)
    free = add(client, admin, first_name="Vasile", last_name="Unassigned")
    assert {c["id"] for c in search(client, operator, "vasile")} == {sales, free}
    assert {c["id"] for c in search(client, other, "vasile")} == {free}


def test_search_needs_a_query(client, admin):
    response = client.get("/api/search?q=", headers=admin)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    response = client.get("/api/search?q=%20%20", headers=admin)
    assert response.status_code == 422


def test_deleted_clients_are_not_found(client, admin, base):
    client.delete(f"/api/clients/{base['ivan']}", headers=admin)
    assert search(client, admin, "Петров") == []


def test_renamed_client_is_found_by_new_name_only(client, admin, base):
    client.patch(f"/api/clients/{base['ivan']}", json={"last_name": "Sidorov"}, headers=admin)
    assert [c["id"] for c in search(client, admin, "sidorov")] == [base["ivan"]]
    assert search(client, admin, "петров") == []


def test_odd_queries_are_answered_not_crashed(client, admin, base):
    for q in [
        '"',
        '"popescu',
        "pop*",
        "AND OR NOT",
        "NEAR(a b)",
        "%_\\",
        "ion -popescu",
        "^^^",
        "a:b",
        "()",
        "+",
        "🎧🎧🎧",
        "x" * 200,
    ]:
        response = client.get("/api/search", params={"q": q}, headers=admin)
        assert response.status_code == 200, (q, response.text)
    assert client.get("/api/search", params={"q": "x" * 201}, headers=admin).status_code == 422
    assert client.get("/api/search", params={"q": "a\x00b"}, headers=admin).status_code == 422
