"""Caller lookup: the popup card, by HTTP and through the service the CTI listener calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_core.auth.principal import Principal
from crm_core.clients.lookup import caller_card
from crm_core.database import utcnow
from crm_core.history.models import Interaction
from crm_core.phones import InvalidPhone
from crm_core.tasks.models import Task


@pytest.fixture
def admin(as_user):
    return as_user("root", role="admin", team=None)


def add(client, headers, **body):
    response = client.post("/api/clients?force=true", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def ion(client, admin, users, db):
    owner = users.add("ana", role="operator", team="Sales", extension="101")
    org = add(client, admin, kind="organization", org_name="Dacia Logistic SRL")
    person = add(
        client,
        admin,
        first_name="Ion",
        last_name="Popescu",
        category="VIP",
        owner_id=owner.id,
        team_id=owner.team_id,
        organization_id=org["id"],
        phones=[
            {"kind": "mobile", "number": "0721 234 567"},
            {"kind": "work", "number": "+40 31 123 4567"},
        ],
    )
    now = utcnow()
    for minutes in range(7):
        db.add(
            Interaction(
                client_id=person["id"],
                kind="call",
                direction="inbound",
                occurred_at=now - timedelta(minutes=10 * minutes),
                subject=f"call {minutes}",
                result_code="answered",
                duration_s=60 + minutes,
            )
        )
    db.add_all(
        [
            Task(client_id=person["id"], title="send offer", due_at=now - timedelta(days=1)),
            Task(client_id=person["id"], title="call back", due_at=now + timedelta(days=1)),
            Task(client_id=person["id"], title="no date"),
            Task(client_id=person["id"], title="done already", status="done"),
        ]
    )
    db.commit()
    return person


FORMATS = [
    "+40721234567",
    "+40 721 234 567",
    "0721234567",
    "0721 234 567",
    "0040721234567",
    "0040 721-234-567",
    "(0721) 234-567",
    "+40 (721) 23.45.67",
    " 0721234567 ",
]


def test_lookup_any_format_gives_the_card(client, admin, ion):
    for number in FORMATS:
        response = client.get("/api/lookup/phone", params={"number": number}, headers=admin)
        assert response.status_code == 200, (number, response.text)
        card = response.json()
        assert card["client_id"] == ion["id"], number
        assert card["matched_e164"] == "+40721234567"
        assert card["restricted"] is False


def test_card_content(db, ion):
    card = caller_card(db, "0721234567")
    assert card.display_name == "Ion Popescu"
    assert card.kind == "person"
    assert card.is_vip and card.category == "VIP"
    assert card.organization.name == "Dacia Logistic SRL"
    assert card.owner.name == "Ana"
    assert [(p.kind, p.e164) for p in card.phones] == [
        ("mobile", "+40721234567"),
        ("work", "+40311234567"),
    ]
    assert [i.subject for i in card.interactions] == [f"call {m}" for m in range(5)]
    assert card.interactions[0].duration_s == 60
    assert card.interactions[0].occurred_at.tzinfo is not None
    assert [(t.title, t.overdue) for t in card.open_tasks] == [
        ("send offer", True),
        ("call back", False),
        ("no date", False),
    ]
    assert card.others == 0
    # the work number finds the same card
    assert caller_card(db, "031 123 4567").client_id == ion["id"]


def test_unknown_and_unparseable_numbers(client, admin, db, ion):
    assert caller_card(db, "+40 799 999 999") is None
    unknown = client.get("/api/lookup/phone?number=0799999999", headers=admin)
    assert unknown.status_code == 404
    assert unknown.json()["found"] is False
    for bad in ("12", "hello", "+999 123", ""):
        response = client.get("/api/lookup/phone", params={"number": bad}, headers=admin)
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "number"]
    with pytest.raises(InvalidPhone):
        caller_card(db, "not a number")


def test_operator_of_another_team_gets_a_restricted_card(client, as_user, db, ion):
    support = as_user("sergiu", role="operator", team="Support")
    card = client.get("/api/lookup/phone?number=0721234567", headers=support).json()
    assert card["restricted"] is True
    assert card["display_name"] == "Ion Popescu"
    assert card["category"] == "VIP"
    assert card["phones"] == [] and card["interactions"] == [] and card["open_tasks"] == []
    assert card["owner"] is None and card["organization"] is None
    assert client.get(f"/api/clients/{card['client_id']}", headers=support).status_code == 404
    sales = as_user("olga", role="operator", team="Sales")
    card = client.get("/api/lookup/phone?number=0721234567", headers=sales).json()
    assert card["restricted"] is False and len(card["interactions"]) == 5


def test_shared_number_prefers_visible_then_latest(client, admin, as_user, db, ion):
    from crm_core.auth.models import Team

    support_op = as_user("sergiu", role="operator", team="Support")
    support_team = db.scalar(select(Team.id).where(Team.name == "Support"))
    wife = add(
        client,
        admin,
        first_name="Ioana",
        last_name="Popescu",
        team_id=support_team,
        phones=[{"number": "+40721234567"}],
    )
    # newest first for those who see everything
    assert caller_card(db, "+40721234567").client_id == wife["id"]
    assert caller_card(db, "+40721234567").others == 1
    # the Sales operator cannot see the Support client: gets Ion, the one they may open
    sales = db.scalar(select(Team.id).where(Team.name == "Sales"))
    operator = Principal(id=None, username="x", role="operator", team_id=sales)
    card = caller_card(db, "0721 234 567", operator)
    assert card.client_id == ion["id"] and not card.restricted and card.others == 1
    card = client.get("/api/lookup/phone?number=0721234567", headers=support_op).json()
    assert card["client_id"] == wife["id"] and card["restricted"] is False
    # touching Ion makes him the latest
    client.patch(f"/api/clients/{ion['id']}", json={"comment": "called"}, headers=admin)
    db.rollback()
    assert caller_card(db, "+40721234567").client_id == ion["id"]


def test_deleted_client_is_not_a_caller(client, admin, db, ion):
    client.delete(f"/api/clients/{ion['id']}", headers=admin)
    db.rollback()
    assert caller_card(db, "0721234567") is None


def test_card_names_round_trip_and_survive_a_statement_reset(client, admin, db):
    made = add(
        client,
        admin,
        first_name="Анна-Ștefania",
        last_name="Țurcanu 🌷",
        category="VIP",
        phones=[{"number": "+7 916 765-43-21"}],
    )
    card = caller_card(db, "+79167654321")
    assert (card.client_id, card.display_name) == (made["id"], "Анна-Ștefania Țurcanu 🌷")
    assert card.interactions == [] and card.open_tasks == [] and card.organization is None
    # a pooler or an admin may drop the connection's prepared statements: the next lookup
    # on that connection prepares the card statement again instead of failing
    with db.get_bind().connect() as connection:
        assert caller_card(connection, "+79167654321").client_id == made["id"]
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DEALLOCATE ALL")
            connection.commit()
        assert caller_card(connection, "0079167654321").display_name == "Анна-Ștefania Țurcanu 🌷"
