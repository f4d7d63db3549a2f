"""The demo tells the truth: someone trying ``callcard demo`` at night sees the rating SMS
arrive on the simulated handset, instead of it waiting for 09:00; real installs keep their
quiet hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifier.outbox.quiet_hours import quiet_until

#: what ``callcard demo`` may set for the process it serves (restored after the test)
DEMO_ENVIRONMENT = (
    "CALLCARD_SIMULATOR",
    "CALLCARD_SURVEY_DELAY_MINUTES",
    "CALLCARD_QUIET_HOURS_START",
    "CALLCARD_QUIET_HOURS_END",
)
NIGHT = datetime(2026, 1, 15, 23, 30, tzinfo=ZoneInfo("Europe/Bucharest"))


@pytest.fixture
def served_settings(sqlite_database, monkeypatch):
    """The settings the web server of ``callcard demo`` runs with (the server is not started)."""
    import uvicorn
    from typer.testing import CliRunner

    from callcard.cli import app
    from callcard.settings import get_settings

    for name in DEMO_ENVIRONMENT:  # whatever the command sets goes away after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(get_settings()))
    result = CliRunner().invoke(app, ["demo", "--no-calls"])
    assert result.exit_code == 0, result.output
    (settings,) = served
    yield settings
    get_settings.cache_clear()


def test_the_demo_sends_rating_sms_at_any_hour(served_settings):
    s = served_settings
    zone = ZoneInfo("Europe/Bucharest")
    assert quiet_until(NIGHT, zone, s.quiet_hours_start, s.quiet_hours_end) is None


def test_real_installs_keep_their_quiet_hours(monkeypatch):
    from callcard.settings import Settings

    for name in ("CALLCARD_QUIET_HOURS_START", "CALLCARD_QUIET_HOURS_END"):  # tests turn them off
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    zone = ZoneInfo("Europe/Bucharest")
    assert quiet_until(NIGHT, zone, s.quiet_hours_start, s.quiet_hours_end) is not None
