"""The one place where the parts are put together, each by explicit import: their routers, the
background services of a web process, their commands, and the connections between parts that
a lower part cannot make itself (it never names a part above it)."""

from __future__ import annotations

from functools import cache

import typer
from fastapi import APIRouter

import crm_core.api
import crm_core.cli
import crm_core.runtime
import cti.api
import cti.cli
import cti.runtime
import dashboard.api
import dashboard.commands
import dashboard.runtime
import dashboard.ws
import notifier.api
import notifier.cli
import notifier.runtime
import voicebots.api
import voicebots.cli
import voicebots.runtime
from callcard.settings import Settings
from crm_core.services import BackgroundService

ROUTERS: tuple[APIRouter, ...] = (
    crm_core.api.router,
    cti.api.router,
    notifier.api.router,
    voicebots.api.router,
    dashboard.api.router,
    dashboard.ws.router,
)


@cache
def connect_parts() -> None:
    """What every process does once before its work: the reminders and surveys join the client
    base's transactions (in-transaction signals), the voicebots' Asterisk voice channel
    becomes a channel the outbox can send through, and the texts the parts write for people
    are worded for each reader in the UI's languages (:mod:`crm_core.wording`)."""
    import notifier.hooks  # noqa: F401  (connects the signals on import)
    from crm_core import wording
    from cti.calllog.wording import connect as connect_call_texts
    from dashboard.i18n import PAGE_READER
    from notifier.channels import register_channel
    from notifier.wording import connect as connect_notifier_texts
    from voicebots.asterisk_channel import AsteriskVoice
    from voicebots.wording import connect as connect_voice_texts

    register_channel("voice", "asterisk", AsteriskVoice)
    wording.install(PAGE_READER)
    connect_call_texts()
    connect_notifier_texts()
    connect_voice_texts()


def embedded_services(settings: Settings) -> list[BackgroundService]:
    """The background services of one web process, in start order."""
    return [
        *crm_core.runtime.embedded_services(settings),
        *dashboard.runtime.embedded_services(settings),
        *cti.runtime.embedded_services(settings),
        *notifier.runtime.embedded_services(settings),
        *voicebots.runtime.embedded_services(settings),
    ]


def register_commands(app: typer.Typer) -> None:
    """Every part's subcommands of ``callcard``."""
    crm_core.cli.register(app)
    cti.cli.register(app)
    notifier.cli.register(app)
    voicebots.cli.register(app)
    dashboard.commands.register(app)
