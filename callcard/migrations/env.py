"""The one Alembic environment of every part; revisions live in ``versions/`` beside it."""

from alembic import context
from sqlalchemy import create_engine

from callcard.schema import load_all_models
from crm_core.database import Base, include_name

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")


def render_item(type_, obj, autogen_context):
    """Render our UTCDateTime as a plain timezone-aware DateTime in migrations."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run() -> None:
    load_all_models()
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable,
            target_metadata=Base.metadata,
            render_as_batch=True,
            render_item=render_item,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
