"""One Alembic environment for every part: a database made before the parts' migrations were
brought together (``tests/data/schema``: made by the previous layout at revision 0008, on SQLite
and on PostgreSQL) keeps its revision id, upgrades by the revisions added since, and then
matches the models."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from callcard.schema import alembic_config, load_all_models, migrate, pending_migrations
from crm_core.database import Base, include_name
from tests.conftest import PG_ADMIN_URL, ROOT, _pg_available

SCHEMA_DATA = ROOT / "tests" / "data" / "schema"
#: the revisions of the parts' own migration folders, before they were brought together
PREVIOUS_LAYOUT = (
    "0001_core",
    "0002_cti",
    "0003_notifier_outbox",
    "0004_notifier_engagement",
    "0005_dashboard",
    "0006_core_search_refresh",
    "0007_notifier_outbox_indexes",
    "0008_core_search_refresh_cause",
)
BEFORE = PREVIOUS_LAYOUT[-1]


def _check_upgrades_untouched(url: str) -> None:
    """The database keeps its revision id, and upgrades by exactly the revisions added since."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    (head,) = script.get_heads()
    added_since = [r.revision for r in script.iterate_revisions(head, BEFORE)][:-1]
    engine = create_engine(url)
    try:
        assert sorted(pending_migrations(engine)) == sorted([head] if added_since else [])
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == BEFORE
        migrate(url)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
            load_all_models()
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_one_versions_folder_holds_every_revision_in_one_line():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # oldest first
    assert revisions[:8] == list(PREVIOUS_LAYOUT)  # the ids databases already carry
    assert len(script.get_heads()) == 1
    folders = {Path(r.path).parent for r in script.walk_revisions()}
    assert folders == {ROOT / "callcard" / "migrations" / "versions"}


def test_a_sqlite_database_of_the_previous_layout_upgrades_untouched(tmp_path):
    path = tmp_path / "callcard.sqlite"
    shutil.copy(SCHEMA_DATA / "callcard-0008.sqlite", path)
    _check_upgrades_untouched(f"sqlite:///{path}")


def test_a_postgresql_database_of_the_previous_layout_upgrades_untouched():
    reason = _pg_available()
    if reason:
        if os.environ.get("CALLCARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"callcard_schema_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        import psycopg

        dump = (SCHEMA_DATA / "callcard-0008.postgresql.sql").read_text()
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
            c.execute(dump)
        _check_upgrades_untouched(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
