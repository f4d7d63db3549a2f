"""Demo data: teams, users with extensions, ~2,000 clients with Romanian, Russian and
international numbers, organizations with contact persons, history and tasks.

The callers of the recorded AMI traces and of the call simulator are demo clients, so the demo
pops real cards: Ion Popescu (VIP) is +40721234567 (0721 234 567 at home), Анна Кузнецова
+79161234567, Maria Ionescu +40741112233, Dacia Logistic SRL +40311234567, Radu Ștefănescu
+40722000111, Elena Munteanu +40744333444.

Passwords below are for the demo only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client, Email, Phone
from crm_core.clients.schemas import ClientIn
from crm_core.clients.service import create_client
from crm_core.database import utcnow
from crm_core.history.models import Interaction
from crm_core.invoices.demo import load_invoices_demo
from crm_core.orders.demo import load_sales_demo
from crm_core.seed import CLIENT_COLUMNS, EMAIL_COLUMNS, PHONE_COLUMNS
from crm_core.synthetic import generate
from crm_core.tasks.models import Task

DEMO_MARKER = "demo"
DEMO_ADMIN = ("admin", "demo-admin-pass")
#: (username, password, role, extension) — demo only
DEMO_LOGINS: list[tuple[str, str, str, str | None]] = [
    ("manager", "demo-manager-pass", "manager", None),
    ("ana", "demo-ana-pass", "operator", "101"),
    ("bogdan", "demo-bogdan-pass", "operator", "102"),
    ("olga", "demo-olga-pass", "operator", "103"),
]
_TEAMS = {"manager": None, "ana": "Sales", "bogdan": "Sales", "olga": "Support"}
_FULL_NAMES = {
    "manager": "Mihaela Manager",
    "ana": "Ana Dumitrescu",
    "bogdan": "Bogdan Stoica",
    "olga": "Ольга Смирнова",
}
_LANGUAGES = {"olga": "ru", "ana": "ro", "bogdan": "ro", "manager": "en"}
BULK_CLIENTS = 1_990


def demo_loaded(db: Session) -> bool:
    return db.scalar(select(Client.id).where(Client.source == DEMO_MARKER).limit(1)) is not None


def _users(db: Session) -> dict[str, User]:
    from crm_core.auth.service import create_user

    users: dict[str, User] = {}
    if db.scalar(select(User.id).where(User.role == "admin").limit(1)) is None:
        create_user(
            db,
            username=DEMO_ADMIN[0],
            password=DEMO_ADMIN[1],
            role="admin",
            full_name="Administrator",
        )
    for username, password, role, extension in DEMO_LOGINS:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            taken = extension and db.scalar(select(User.id).where(User.extension == extension))
            user = create_user(
                db,
                username=username,
                password=password,
                role=role,
                team=_TEAMS[username],
                extension=None if taken else extension,
                full_name=_FULL_NAMES[username],
                language=_LANGUAGES[username],
            )
        users[username] = user
    for name in ("Sales", "Support"):
        if db.scalar(select(Team.id).where(Team.name == name)) is None:
            db.add(Team(name=name))
    db.flush()
    return users


def _team(db: Session, name: str) -> int:
    return db.scalar(select(Team.id).where(Team.name == name))


#: the clients the AMI traces and the call simulator call from; ``team``, ``owner`` and
#: ``organization`` name a team, a demo user and an earlier entry
FEATURED: dict[str, dict[str, Any]] = {
    "dacia": dict(
        kind="organization",
        org_name="Dacia Logistic SRL",
        category="partner",
        team="Sales",
        owner="ana",
        phones=[{"kind": "work", "number": "+40 31 123 4567"}],
        emails=[{"kind": "work", "address": "office@dacia-logistic.example.ro"}],
        addresses=[{"street": "Bd. Iuliu Maniu 7", "city": "București", "country": "RO"}],
        tags=["b2b", "transport"],
        comment="Fleet contract renewal every March.",
    ),
    "ion": dict(
        first_name="Ion",
        last_name="Popescu",
        category="vip",
        status="active",
        team="Sales",
        owner="ana",
        organization="dacia",
        job_title="Director achiziții",
        phones=[
            {"kind": "mobile", "number": "0721 234 567"},
            {"kind": "work", "number": "+40 21 310 0150"},
        ],
        emails=[{"address": "ion.popescu@example.ro"}],
        addresses=[{"street": "Str. Memorandumului 28", "city": "Cluj-Napoca", "country": "RO"}],
        tags=["golf", "newsletter"],
        birthday=date(1974, 5, 17),
        discount_percent=Decimal("10"),
        language="ro",
        comment="Prefers calls after 10:00. Always ask about the fleet.",
    ),
    "anna": dict(
        first_name="Анна",
        last_name="Кузнецова",
        category="regular",
        team="Support",
        owner="olga",
        phones=[{"kind": "mobile", "number": "+7 916 123-45-67"}],
        emails=[{"address": "anna.kuznetsova@example.ru"}],
        addresses=[{"city": "Москва", "country": "RU"}],
        language="ru",
    ),
    "maria": dict(
        first_name="Maria",
        last_name="Ionescu",
        category="prospect",
        status="lead",
        team="Support",
        owner="olga",
        phones=[{"kind": "mobile", "number": "0741 112 233"}],
        tags=["trial"],
        language="ro",
    ),
    "radu": dict(
        first_name="Radu",
        last_name="Ștefănescu",
        category="regular",
        team="Sales",
        owner="bogdan",
        phones=[{"kind": "mobile", "number": "0722-000-111"}],
        emails=[{"address": "radu.stefanescu@example.ro"}],
        language="ro",
    ),
    "elena": dict(
        first_name="Elena",
        last_name="Munteanu",
        category="regular",
        status="lead",
        phones=[{"kind": "mobile", "number": "0744 333 444"}],
        comment="Unassigned: any operator can take her.",
    ),
}


def _featured(db: Session, users: dict[str, User]) -> dict[str, Client]:
    """The clients of :data:`FEATURED`, in that order."""
    teams = {name: _team(db, name) for name in ("Sales", "Support")}
    made: dict[str, Client] = {}
    for key, entry in FEATURED.items():
        fields = {k: v for k, v in entry.items() if k not in ("team", "owner", "organization")}
        fields.setdefault("source", DEMO_MARKER)
        if "team" in entry:
            fields["team_id"] = teams[entry["team"]]
        if "owner" in entry:
            fields["owner_id"] = users[entry["owner"]].id
        if "organization" in entry:
            fields["organization_id"] = made[entry["organization"]].id
        made[key] = create_client(db, SYSTEM, ClientIn(**fields), force=True)
    return made


def _bulk(db: Session, users: dict[str, User]) -> list[int]:
    """The rest of the base, in bulk (the same generator as ``callcard seed``)."""
    start = (db.scalar(select(func.max(Client.id))) or 0) + 1
    sales, support = _team(db, "Sales"), _team(db, "Support")
    owners = [users["ana"].id, users["bogdan"].id, users["olga"].id, None, None]
    names = [c.strip() for c in CLIENT_COLUMNS.split(",")]
    rng = random.Random(2026)
    ids: list[int] = []
    for clients, phones, emails in generate(
        BULK_CLIENTS, start, [sales, sales, support, None], seed=2026, sqlite=False
    ):
        rows = []
        for values in clients:
            row = dict(zip(names, values, strict=True))
            row["owner_id"] = rng.choice(owners)
            row["discount_percent"] = Decimal(row["discount_percent"])
            rows.append(row)
            ids.append(row["id"])
        db.execute(insert(Client), rows)
        db.execute(
            insert(Phone), [dict(zip(PHONE_COLUMNS.split(", "), p, strict=True)) for p in phones]
        )
        if emails:
            db.execute(
                insert(Email),
                [dict(zip(EMAIL_COLUMNS.split(", "), e, strict=True)) for e in emails],
            )
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT setval(pg_get_serial_sequence('clients', 'id'), max(id)) FROM clients")
        )
    return ids


SUBJECTS = {
    "call": ["Order status", "Price question", "Delivery date", "Complaint", "Renewal"],
    "meeting": ["Quarterly review", "Product demo", "Contract signing"],
    "note": ["Asked for a callback next week", "Prefers e-mail", "Decision maker on leave"],
    "sms": ["Appointment reminder", "Rating survey"],
    "email": ["Offer sent", "Invoice copy"],
}


#: what a colleague would type, in the assignee's own language
TASK_TITLES = {
    "en": ["Call back", "Send the offer", "Confirm delivery", "Ask for feedback"],
    "ro": ["De sunat înapoi", "Trimite oferta", "Confirmă livrarea", "Cere părerea clientului"],
    "ru": ["Перезвонить", "Отправить предложение", "Подтвердить доставку", "Спросить отзыв"],
}


def _history(db: Session, users: dict[str, User], featured: dict[str, Client], ids: list[int]):
    """History entries and tasks for the featured clients and 300 others (the same every time)."""
    rng = random.Random(7)
    now = utcnow()
    operators = [users["ana"], users["bogdan"], users["olga"]]
    manager_id = users["manager"].id
    people = [c.id for c in featured.values()] + rng.sample(ids, min(300, len(ids)))
    interactions, tasks = [], []
    for n, client_id in enumerate(people):
        count = 8 if n < len(featured) else rng.randint(1, 6)
        interactions += [_interaction(rng, now, operators, client_id) for _ in range(count)]
        if n < len(featured) or rng.random() < 0.4:
            tasks.append(_task(rng, now, operators, manager_id, client_id))
    tasks.append(_fleet_review(now, users, featured["dacia"].id))
    db.add_all(interactions + tasks)
    return len(interactions), len(tasks)


def _interaction(rng: random.Random, now, operators: list[User], client_id: int) -> Interaction:
    kind = rng.choice(["call", "call", "call", "note", "meeting", "sms", "email"])
    answered = rng.random() < 0.8
    return Interaction(
        client_id=client_id,
        kind=kind,
        direction=rng.choice(["inbound", "outbound"]) if kind in ("call", "sms") else "",
        occurred_at=now - timedelta(minutes=rng.randint(30, 60 * 24 * 120)),
        author_id=rng.choice(operators).id,
        result_code=("answered" if answered else "missed") if kind == "call" else "",
        subject=rng.choice(SUBJECTS[kind]),
        duration_s=rng.randint(20, 900) if kind == "call" and answered else None,
    )


def _task(rng: random.Random, now, operators: list[User], manager_id: int, client_id: int) -> Task:
    assignee = rng.choice(operators)
    due = now + timedelta(hours=rng.randint(-72, 240))
    return Task(
        client_id=client_id,
        title=rng.choice(TASK_TITLES.get(assignee.language, TASK_TITLES["en"])),
        assignee_id=assignee.id,
        team_id=assignee.team_id,
        creator_id=manager_id,
        due_at=due,
        remind_at=due - timedelta(minutes=30),
        priority=rng.choice(["normal", "normal", "high", "low"]),
    )


def _fleet_review(now, users: dict[str, User], dacia_id: int) -> Task:
    """A meeting with Dacia Logistic in two days, reminded a day ahead."""
    starts = now + timedelta(days=2, hours=3)
    return Task(
        kind="event",
        event_type="meeting",
        title={"ro": "Revizuirea contractului de flotă", "ru": "Обзор договора на автопарк"}.get(
            users["ana"].language, "Fleet contract review"
        ),
        client_id=dacia_id,
        assignee_id=users["ana"].id,
        team_id=users["ana"].team_id,
        creator_id=users["manager"].id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        due_at=starts,
        remind_at=starts - timedelta(hours=24),
        location="Bd. Iuliu Maniu 7, București",
    )


def load_demo(db: Session) -> dict[str, int] | None:
    """Create the demo data in ``db`` (the caller commits). Does nothing when it exists already
    and returns None then; otherwise counts of what was created."""
    if demo_loaded(db):
        return None
    users = _users(db)
    featured = _featured(db, users)
    ids = _bulk(db, users)
    db.flush()
    interactions, tasks = _history(db, users, featured, ids)
    db.flush()
    load_sales_demo(db)  # catalog, price lists and orders
    load_invoices_demo(db)  # contracts, invoices and payments
    return {
        "clients": len(featured) + len(ids),
        "interactions": interactions,
        "tasks": tasks,
        "users": len(users),
    }
