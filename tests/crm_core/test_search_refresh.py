"""A custom field's ``searchable`` flag takes effect for every client, on both backends: the
change queues the clients concerned, a background refresh (or ``callcard search reindex``)
recomputes them in batches, and a batch that fails leaves its clients queued, untouched."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client
from crm_core.clients.schemas import ClientIn, ClientUpdate
from crm_core.clients.service import create_client, update_client
from crm_core.customfields.service import create_field, update_field
from crm_core.search import refresh
from crm_core.search.service import search_clients
from tests.factories import colleagues


@pytest.fixture
def people(client):
    return colleagues(root=("admin", None), ana=("operator", "Sales"))


def add(client, headers, **body):
    response = client.post("/api/clients?force=true", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def found(client, headers, q) -> list[int]:
    response = client.get("/api/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["items"]]


def refreshed(client, headers) -> dict:
    """The refresh status once the background refresh has emptied the queue."""
    deadline = time.monotonic() + 120
    while True:
        status = client.get("/api/search/refresh", headers=headers)
        assert status.status_code == 200, status.text
        body = status.json()
        assert body["state"] != "failed", body
        if body["state"] == "idle":
            return body
        assert time.monotonic() < deadline, f"refresh never finished: {body}"
        time.sleep(0.05)


def test_toggling_searchable_changes_what_search_finds(client, people):
    admin, ana = people["root"], people["ana"]
    field = client.post(
        "/api/custom-fields",
        json={"key": "contract", "label": "Contract", "kind": "text", "searchable": False},
        headers=admin,
    ).json()
    holder = add(client, ana, first_name="Ion", last_name="Popa", custom={"contract": "Zefir-77"})
    other = add(client, ana, first_name="Ana", last_name="Zefirescu")
    assert found(client, ana, "zefir-77") == []
    assert found(client, ana, "zefir") == [other]

    made = client.patch(
        f"/api/custom-fields/{field['id']}", json={"searchable": True}, headers=admin
    )
    assert made.status_code == 200 and made.json()["searchable"] is True
    status = refreshed(client, admin)
    assert status["total"] == 1 and status["done"] == 1 and "made searchable" in status["reason"]
    assert found(client, ana, "zefir-77") == [holder]
    assert set(found(client, ana, "zefir")) == {holder, other}

    client.patch(f"/api/custom-fields/{field['id']}", json={"searchable": False}, headers=admin)
    assert "no longer searchable" in refreshed(client, admin)["reason"]
    assert found(client, ana, "zefir-77") == []
    assert found(client, ana, "zefir") == [other]

    # a label or position change leaves the search text alone: nothing is queued
    client.patch(f"/api/custom-fields/{field['id']}", json={"label": "Contract no."}, headers=admin)
    assert "no longer searchable" in refreshed(client, admin)["reason"]


def test_deleting_a_searchable_field_removes_its_values_from_search(client, people):
    admin, ana = people["root"], people["ana"]
    field = client.post(
        "/api/custom-fields",
        json={"key": "tier", "label": "Tier", "kind": "choice", "choices": ["Platinum", "Iron"]},
        headers=admin,
    ).json()
    holder = add(client, ana, first_name="Radu", last_name="Stan", custom={"tier": "Platinum"})
    assert found(client, ana, "platinum") == [holder]
    assert client.delete(f"/api/custom-fields/{field['id']}", headers=admin).status_code == 204
    assert "deleted" in refreshed(client, admin)["reason"]
    assert found(client, ana, "platinum") == []
    assert found(client, ana, "radu stan") == [holder]


def _clients_with_contract(db, count: int) -> tuple[int, list[int]]:
    field = create_field(
        db, SYSTEM, entity="client", key="contract", label="Contract", kind="text", searchable=False
    )
    ids = []
    for n in range(count):
        made = create_client(
            db,
            SYSTEM,
            ClientIn(
                first_name="Șerban", last_name=f"Client{n}", custom={"contract": f"K9-{n:03}"}
            ),
            force=True,
        )
        ids.append(made.id)
    db.commit()
    return field.id, ids


def _quietly_queue_field(db, field_id: int, searchable: bool) -> None:
    """The admin's change, committed without waking the background thread (this test drives
    the refresh itself)."""
    from crm_core.customfields.models import CustomField

    db.get(CustomField, field_id).searchable = searchable
    refresh.queue_field(db, field_id, "test")
    db.info.pop("search_refresh_wake")
    db.commit()


def test_progress_is_visible_and_the_queue_empties_in_batches(db):
    field_id, ids = _clients_with_contract(db, 7)
    assert refresh.status(db).state == "idle"
    _quietly_queue_field(db, field_id, True)
    status = refresh.status(db)
    assert (status.state, status.pending, status.total, status.done) == ("queued", 7, 7, 0)
    assert "7 clients wait" in status.message
    assert search_clients(db, SYSTEM, "k9-003").items == []  # not refreshed yet

    steps = []
    assert refresh.run(progress=steps.append, batch=3) == 7
    assert steps == [3, 3, 1]
    status = refresh.status(db)
    assert (status.state, status.pending, status.done) == ("idle", 0, 7)
    assert status.finished_at is not None and status.message == "Search is up to date."
    assert [h.id for h in search_clients(db, SYSTEM, "k9-003").items] == [ids[3]]


@pytest.fixture
def failing_write(db):
    """A database that refuses to write one client's search text (a trigger), like a disk or
    a constraint failing in the middle of a refresh."""
    created = []

    def refuse(client_id: int) -> None:
        if db.get_bind().dialect.name == "sqlite":
            db.execute(
                text(
                    "CREATE TRIGGER refuse_search_text BEFORE UPDATE OF search_text ON clients "
                    f"WHEN new.id = {client_id} BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
        else:
            db.execute(
                text(
                    "CREATE FUNCTION refuse_search_text() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            db.execute(
                text(
                    "CREATE TRIGGER refuse_search_text BEFORE UPDATE OF search_text ON clients "
                    f"FOR EACH ROW WHEN (new.id = {client_id}) "
                    "EXECUTE FUNCTION refuse_search_text()"
                )
            )
        db.commit()
        created.append(True)

    def allow() -> None:
        if not created:
            return
        if db.get_bind().dialect.name == "sqlite":
            db.execute(text("DROP TRIGGER refuse_search_text"))
        else:
            db.execute(text("DROP TRIGGER refuse_search_text ON clients"))
            db.execute(text("DROP FUNCTION refuse_search_text()"))
        db.commit()
        created.clear()

    yield refuse, allow
    db.rollback()
    allow()


def test_a_failed_batch_leaves_its_clients_queued_and_untouched(db, failing_write):
    refuse, allow = failing_write
    field_id, ids = _clients_with_contract(db, 6)
    before = dict(db.execute(select(Client.id, Client.search_text)).all())
    _quietly_queue_field(db, field_id, True)
    refuse(ids[4])  # in the second batch of three

    with pytest.raises(Exception, match="disk full"):
        refresh.run(batch=3)
    db.expire_all()
    status = refresh.status(db)
    assert (status.state, status.pending, status.done) == ("failed", 3, 3)
    assert "disk full" in status.error and "3 clients left" in status.message
    texts = dict(db.execute(select(Client.id, Client.search_text)).all())
    assert all("k9-" in texts[i] for i in ids[:3])  # the first batch committed whole
    assert all(texts[i] == before[i] for i in ids[3:])  # the failed one wrote nothing
    assert [h.id for h in search_clients(db, SYSTEM, "k9-001").items] == [ids[1]]
    notice = search_clients(db, SYSTEM, "k9-001").refresh
    assert (notice.state, notice.pending, notice.done, notice.total) == ("failed", 3, 3, 6)

    allow()
    assert refresh.run(batch=3) == 3
    status = refresh.status(db)
    assert (status.state, status.error) == ("idle", "")
    assert [h.id for h in search_clients(db, SYSTEM, "k9-004").items] == [ids[4]]
    assert search_clients(db, SYSTEM, "k9-004").refresh is None


def _settled() -> None:
    """The app's start-up refresh found nothing queued and ended (else it could take what the
    test queues next)."""
    worker = refresh.refresher()
    deadline = time.monotonic() + 120
    while worker.busy:
        assert time.monotonic() < deadline, "the start-up refresh never ended"
        time.sleep(0.01)


def _searchable_quietly(db, field_id: int, searchable: bool = True) -> None:
    """The admin's change through the custom-field service, committed without waking the
    background refresh (the test drives it)."""
    update_field(db, SYSTEM, field_id, searchable=searchable)
    db.info.pop("search_refresh_wake")
    db.commit()


def test_search_results_say_while_a_refresh_is_pending(client, people, db):
    ana = people["ana"]
    field_id, ids = _clients_with_contract(db, 3)
    _settled()

    def search(q: str) -> dict:
        response = client.get("/api/search", params={"q": q}, headers=ana)
        assert response.status_code == 200, response.text
        return response.json()

    assert search("serban")["refresh"] is None
    _searchable_quietly(db, field_id)
    body = search("k9-001")
    assert body["items"] == []  # the value is not in the search text yet, and the results say so
    notice = body["refresh"]
    assert (notice["state"], notice["pending"], notice["done"], notice["total"]) == (
        "queued",
        3,
        0,
        3,
    )
    assert (notice["cause"], notice["field_label"]) == ("made_searchable", "Contract")
    assert "'contract' made searchable" in notice["reason"]
    assert "3 clients wait" in notice["message"]
    assert len(search("serban")["items"]) == 3  # found by name meanwhile, with the same notice
    assert search("serban")["refresh"] == notice

    steps: list[int] = []  # one batch of two, then the worker stops
    assert refresh.run(progress=steps.append, should_stop=lambda: bool(steps), batch=2) == 2
    notice = search("k9-001")["refresh"]
    assert (notice["pending"], notice["done"], notice["total"]) == (1, 2, 3)

    assert refresh.run() == 1
    body = search("k9-001")
    assert [hit["id"] for hit in body["items"]] == [ids[1]] and body["refresh"] is None

    documented = client.get("/openapi.json").json()["components"]["schemas"]
    assert "refresh" in documented["SearchResults"]["properties"]
    assert "refresh" not in documented["SearchResults"].get("required", [])
    assert set(documented["SearchRefreshNotice"]["properties"]) >= {
        "state",
        "pending",
        "done",
        "total",
        "cause",
        "field_label",
    }


def test_changes_merged_into_one_refresh_name_no_single_field(db):
    field_id, ids = _clients_with_contract(db, 2)
    _searchable_quietly(db, field_id)
    _searchable_quietly(db, field_id, False)  # undone before the refresh ran
    notice = search_clients(db, SYSTEM, "serban").refresh
    assert (notice.cause, notice.field_label, notice.total) == ("several", "Contract", 2)
    assert (
        notice.reason == "several changes, the last: custom field 'contract' no longer searchable"
    )

    region = create_field(
        db, SYSTEM, entity="client", key="region", label="Region", kind="text", searchable=False
    )
    update_client(db, SYSTEM, ids[0], ClientUpdate(custom={"region": "Nord"}))
    db.commit()
    _searchable_quietly(db, region.id)
    notice = search_clients(db, SYSTEM, "serban").refresh
    assert (notice.cause, notice.field_label, notice.pending) == ("several", "", 2)

    assert refresh.run() == 2
    assert search_clients(db, SYSTEM, "nord").items[0].id == ids[0]
    # the next change, once the queue is empty, is named on its own again
    _searchable_quietly(db, region.id, False)
    status = refresh.status(db)
    assert (status.cause, status.field_label, status.total) == ("no_longer_searchable", "Region", 1)


def test_a_batch_writes_what_a_save_writes(db):
    """Names in any script, an organization, phones, e-mails, handles, tags and two searchable
    fields: the refreshed text is exactly the one the client's own save computes."""
    create_field(db, SYSTEM, entity="client", key="code", label="Code", kind="text")
    create_field(
        db, SYSTEM, entity="client", key="level", label="Level", kind="choice", choices=["Ăur"]
    )
    create_field(
        db, SYSTEM, entity="client", key="note", label="Note", kind="text", searchable=False
    )
    org = create_client(
        db, SYSTEM, ClientIn(kind="organization", org_name="Țesătoria Nord SRL"), force=True
    )
    person = create_client(
        db,
        SYSTEM,
        ClientIn(
            first_name="Анна",
            last_name="Кузнецова 🌷",
            job_title="Directoare",
            organization_id=org.id,
            phones=[{"number": "+7 916 123-45-67"}, {"number": "0721 234 567", "kind": "work"}],
            emails=[{"address": "Anna@Example.ro"}],
            handles=[{"network": "telegram", "handle": "@anna_k"}],
            tags=["zeta", "alfa"],
            custom={"code": "X-1", "level": "Ăur", "note": "hidden words"},
        ),
        force=True,
    )
    db.commit()
    saved, saved_org = person.search_text, org.search_text
    assert "x-1 aur" in saved and "hidden" not in saved and "tesatoria" in saved
    db.execute(text("UPDATE clients SET search_text = ''"))
    refresh.queue_all(db, "test")
    db.info.pop("search_refresh_wake")
    db.commit()
    assert refresh.run() == 2
    db.expire_all()
    assert db.get(Client, person.id).search_text == saved
    assert db.get(Client, org.id).search_text == saved_org


def test_a_save_while_queued_writes_the_new_text_itself(db):
    field_id, ids = _clients_with_contract(db, 2)
    _quietly_queue_field(db, field_id, True)
    update_client(db, SYSTEM, ids[0], ClientUpdate(last_name="Renamed"))
    db.commit()
    assert [h.id for h in search_clients(db, SYSTEM, "k9-000").items] == [ids[0]]
    assert refresh.run() == 2 and refresh.status(db).state == "idle"


def test_reindex_command_shows_progress_and_rebuilds(database, db):
    from typer.testing import CliRunner

    from callcard.cli import app

    field_id, ids = _clients_with_contract(db, 5)
    _quietly_queue_field(db, field_id, True)
    result = CliRunner().invoke(app, ["search", "reindex", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "5 clients wait" in result.output and "Refreshed the search text of 5" in result.output
    assert [h.id for h in search_clients(db, SYSTEM, "k9-002").items] == [ids[2]]

    db.execute(text("UPDATE clients SET search_text = ''"))
    db.commit()
    assert search_clients(db, SYSTEM, "k9-002").items == []
    result = CliRunner().invoke(app, ["search", "reindex", "--all"])
    assert result.exit_code == 0, result.output
    assert "Refreshed the search text of 5" in result.output
    assert [h.id for h in search_clients(db, SYSTEM, "k9-002").items] == [ids[2]]
    again = CliRunner().invoke(app, ["search", "reindex"])
    assert again.exit_code == 0 and "Search is up to date." in again.output
