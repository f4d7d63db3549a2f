"""Saved filters of the client list (own table): on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.dashboard.test_dashboard_pages import sign_in


def test_saved_filters_belong_to_their_user(client, users, as_user):
    users.add("ana")
    csrf = sign_in(client, "ana")
    headers = {"X-CSRF-Token": csrf}
    r = client.post(
        "/api/saved-filters",
        json={"name": "VIPs", "query": "category=vip&evil=1&page=3"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["query"] == "category=vip"
    dup = client.post("/api/saved-filters", json={"name": "vips", "query": ""}, headers=headers)
    assert dup.status_code == 409
    empty = client.post("/api/saved-filters", json={"name": "", "query": ""}, headers=headers)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "name"]
    page = client.get("/clients")
    assert 'href="/clients?category=vip"' in page.text and "VIPs" in page.text
    other = as_user("bob")
    assert client.get("/api/saved-filters", headers=other).json() == []
    fid = r.json()["id"]
    assert client.delete(f"/api/saved-filters/{fid}", headers=other).status_code == 404
    assert client.delete(f"/api/saved-filters/{fid}", headers=headers).status_code == 204
