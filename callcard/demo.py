"""``callcard demo``: one command from a fresh clone to a running Callcard with calls arriving."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from sqlalchemy import select

console = Console()

DEMO_ADMIN_PASSWORD = "demo-admin-pass"  # demo only; printed on start


def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    calls: bool = typer.Option(True, help="Run the built-in call simulator"),
) -> None:
    """Create demo data on the embedded default and serve it, with simulated calls."""
    os.environ.setdefault("CALLCARD_SIMULATOR", "true" if calls else "false")
    # the rating SMS a minute after an answered call (5 by default), so that someone trying the
    # demo sees it arrive on the simulated handset while still looking
    os.environ.setdefault("CALLCARD_SURVEY_DELAY_MINUTES", "1")
    # quiet hours off (start == end) unless set: the rating SMS shows at any hour of the day
    os.environ.setdefault("CALLCARD_QUIET_HOURS_START", "0")
    os.environ.setdefault("CALLCARD_QUIET_HOURS_END", "0")
    from callcard.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    from callcard.schema import migrate
    from crm_core.auth.models import User
    from crm_core.auth.service import create_user
    from crm_core.database import session_scope
    from crm_core.demo import DEMO_LOGINS, load_demo

    console.print(f"Preparing {settings.database_url} ...")
    migrate(settings.database_url)
    with session_scope() as db:
        if db.scalar(select(User.id).where(User.username == "admin")) is None:
            create_user(
                db,
                username="admin",
                password=DEMO_ADMIN_PASSWORD,
                role="admin",
                full_name="Administrator",
            )
        load_demo(db)
    url = f"http://{host}:{port}"
    console.rule("[bold green]Callcard demo")
    console.print(f"Open [bold]{url}[/bold]   (wall: {url}/wall, API docs: {url}/docs)")
    console.print(f"  admin / {DEMO_ADMIN_PASSWORD}")
    for username, password, role, extension in DEMO_LOGINS:
        ext = f", extension {extension}" if extension else ""
        console.print(f"  {username} / {password}   ({role}{ext})")
    if calls:
        console.print("Simulated calls start arriving within seconds.")
    import uvicorn

    uvicorn.run(
        "callcard.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,  # whom to believe is the app's choice (CALLCARD_TRUSTED_PROXIES)
    )
