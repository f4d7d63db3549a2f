"""Bulk seeding and the demo data, on both backends: what they write is real, valid, searchable
and found by the caller lookup."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import func, select, text

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM
from crm_core.clients.lookup import caller_card
from crm_core.clients.models import Client, Email, Phone
from crm_core.clients.schemas import ClientIn
from crm_core.clients.service import create_client
from crm_core.search.service import search_clients
from crm_core.search.text import build_search_text


def test_seed_writes_valid_searchable_clients(database, db):
    from crm_core.seed import seed_clients

    progress = []
    report = seed_clients(database, 3000, progress=progress.append)
    assert report.clients == 3000 and sum(progress) == 3000
    assert db.scalar(select(func.count()).select_from(Client)) == 3000
    phones = db.scalar(select(func.count()).select_from(Phone))
    assert report.phones == phones and 1.15 < phones / 3000 < 1.5
    regions = set()
    for number, e164 in db.execute(select(Phone.number, Phone.e164).limit(400)):
        parsed = phonenumbers.parse(e164, None)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
        regions.add(phonenumbers.region_code_for_number(parsed))
        from crm_core.phones import to_e164

        assert to_e164(number) == e164  # the number "as typed" means the same number
    assert {"RO", "RU", "MD"} <= regions and len(regions) >= 5

    # search_text is exactly what the service would have written
    for client in db.scalars(select(Client).order_by(Client.id).limit(50)):
        expected = build_search_text(
            names=[client.display_name],
            phones_e164=[p.e164 for p in client.phones],
            emails=[e.address for e in client.emails],
        )
        assert client.search_text == expected

    sample = db.scalar(select(Client).where(Client.kind == "person").order_by(Client.id).limit(1))
    number = sample.phones[0].e164
    card = caller_card(db, number)
    assert card is not None and number in [p.e164 for p in card.phones]
    hits = search_clients(db, SYSTEM, number[-7:]).items
    assert sample.id in [h.id for h in hits]
    hits = search_clients(db, SYSTEM, sample.display_name).items
    assert hits[0].display_name == sample.display_name

    # the search index and its triggers are back: a client added now is found at once
    added = create_client(
        db,
        SYSTEM,
        ClientIn(first_name="Zenovia", last_name="Xylander", phones=[{"number": "0799 000 001"}]),
        force=True,
    )
    assert added.id == 3001  # ids continue after the seeded ones (sequence moved on PostgreSQL)
    assert [h.id for h in search_clients(db, SYSTEM, "xyland").items] == [added.id]
    db.commit()


def test_seed_command_shows_progress_and_adds_clients(database, db):
    import typer
    from typer.testing import CliRunner

    from callcard.schema import ensure_migrated, migrate
    from crm_core.cli import Schema, register

    app = typer.Typer()
    register(app)
    # the root gives the commands the schema (crm_core.cli.Schema), as `callcard` does
    schema = Schema(migrate=migrate, ensure_migrated=ensure_migrated)
    result = CliRunner().invoke(app, ["seed", "--clients", "700"], obj=schema)
    assert result.exit_code == 0, result.output
    assert "Added 700 clients" in result.output
    assert db.scalar(select(func.count()).select_from(Client)) == 700


def test_demo_data_is_complete_and_idempotent(database, db):
    from crm_core.demo import DEMO_LOGINS, load_demo

    created = load_demo(db)
    db.commit()
    assert created is not None and 1900 <= created["clients"] <= 2100
    assert load_demo(db) is None  # a second run adds nothing
    db.commit()
    assert db.scalar(select(func.count()).select_from(Client)) == created["clients"]

    extensions = dict(db.execute(select(User.username, User.extension)).all())
    assert {u: extensions[u] for u, _, _, ext in DEMO_LOGINS if ext} == {
        "ana": "101",
        "bogdan": "102",
        "olga": "103",
    }
    from crm_core.auth.service import authenticate

    for username, password, _, _ in DEMO_LOGINS:
        assert authenticate(db, username, password, "127.0.0.1") is not None

    ion = caller_card(db, "0721234567")
    assert ion.display_name == "Ion Popescu" and ion.is_vip
    assert ion.organization.name == "Dacia Logistic SRL"
    assert len(ion.interactions) == 5 and ion.open_tasks
    assert caller_card(db, "+40721234567").client_id == ion.client_id
    names = {
        number: caller_card(db, number).display_name
        for number in ("+79161234567", "+40741112233", "+40311234567", "+40722000111", "0744333444")
    }
    assert names == {
        "+79161234567": "Анна Кузнецова",
        "+40741112233": "Maria Ionescu",
        "+40311234567": "Dacia Logistic SRL",
        "+40722000111": "Radu Ștefănescu",
        "0744333444": "Elena Munteanu",
    }
    assert caller_card(db, "+40213100100") is None  # the company's own number is nobody

    prefixes = {e[:3] for e in db.scalars(select(Phone.e164))}
    assert {"+40", "+79", "+37"} <= prefixes
    assert db.scalar(select(func.count()).select_from(Email)) > 500
    orgs_with_people = db.scalar(
        text(
            "SELECT count(DISTINCT organization_id) FROM clients WHERE organization_id IS NOT NULL"
        )
    )
    assert orgs_with_people >= 5


def test_seeded_clients_are_written_to_in_the_language_of_their_names(database, db):
    """Romanian names get Romanian messages (reminders, surveys), Russian names Russian ones,
    the rest the business's default language."""
    from crm_core.seed import seed_clients
    from crm_core.synthetic import INTL_FIRST, RO_FIRST, RU_FIRST

    seed_clients(database, 3000)
    rows = db.execute(text("SELECT first_name, language FROM clients WHERE kind = 'person'"))
    by_language: dict[str, set[str]] = {}
    for first, language in rows:
        by_language.setdefault(language, set()).add(first)
    assert by_language["ro"] <= set(RO_FIRST) and len(by_language["ro"]) > 10
    assert by_language["ru"] <= set(RU_FIRST) and len(by_language["ru"]) > 10
    assert by_language[""] <= set(INTL_FIRST) and len(by_language[""]) > 10
    assert set(by_language) == {"ro", "ru", ""}
