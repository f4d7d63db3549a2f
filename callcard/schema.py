"""The database schema of every part: the models the metadata knows, and the one Alembic
environment (``callcard/migrations``, one ``versions/`` folder) that migrates them."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine

from callcard.settings import get_settings
from crm_core.database import NotMigrated

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def load_all_models() -> None:
    """Import every part's models so that ``Base.metadata`` knows all tables."""
    import crm_core.models  # noqa: F401
    import cti.models  # noqa: F401
    import dashboard.models  # noqa: F401
    import notifier.models  # noqa: F401


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url or get_settings().database_url
    return cfg


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (what `callcard init` runs)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def pending_migrations(engine: Engine) -> list[str]:
    """Revisions the database lacks; empty when it is up to date."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return sorted(heads - current)


def ensure_migrated(engine: Engine) -> None:
    missing = pending_migrations(engine)
    if missing:
        raise NotMigrated(
            f"The database at {engine.url.render_as_string(hide_password=True)} is not migrated "
            f"(missing {', '.join(missing)}). Run `callcard init` first."
        )
