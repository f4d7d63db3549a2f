"""The backups screen for admins: run now in the background, watch it finish, see the last good
one highlighted, download the archive; everyone else is refused (API 403, page 403)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from crm_core.config import get_settings
from tests.factories import make_client


@pytest.fixture
def backups(database, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "backups"
    monkeypatch.setenv("CALLCARD_BACKUP_DIR", str(folder))
    monkeypatch.setenv("CALLCARD_BACKUP_ENCRYPTION_KEY", "")
    get_settings.cache_clear()
    return folder


def wait_until_finished(client, headers, run_id: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = client.get(f"/api/backups/runs/{run_id}", headers=headers).json()
        if run["status"] != "running" and run["verification"] != "pending":
            return run
        time.sleep(0.2)
    raise AssertionError(f"backup run {run_id} did not finish: {run}")


def test_admin_runs_a_backup_now_and_downloads_it(backups, client, as_user):
    admin = as_user("root", role="admin", team=None)
    make_client("Ana Popescu", phone="+40721000001")
    assert client.get("/api/backups", headers=admin).json()["last_good"] is None

    started = client.post("/api/backups/runs", headers=admin)
    assert started.status_code == 202, started.text
    run = wait_until_finished(client, admin, started.json()["run_id"])

    assert run["status"] == "ok" and run["verification"] == "passed"
    assert run["trigger"] == "manual" and run["rows"] > 0
    overview = client.get("/api/backups", headers=admin).json()
    assert overview["last_good"]["id"] == run["id"]
    assert overview["directory"] == str(backups.resolve())
    download = client.get(f"/api/backups/runs/{run['id']}/download", headers=admin)
    assert download.status_code == 200
    assert download.content == (backups / run["file_name"]).read_bytes()
    assert run["file_name"] in download.headers["content-disposition"]


def test_only_admins_see_or_run_backups(backups, client, as_user):
    for role in ("operator", "manager"):
        headers = as_user(f"user-{role}", role=role)
        assert client.get("/api/backups", headers=headers).status_code == 403
        assert client.post("/api/backups/runs", headers=headers).status_code == 403
    admin = as_user("root", role="admin", team=None)
    assert client.get("/api/backups/runs/999/download", headers=admin).status_code == 404


def _sign_in(client, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/login",
        data={"username": username, "password": f"password-{username}", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_the_page_shows_runs_the_last_good_one_and_refuses_others(backups, client, users):
    from crm_core.backups.service import run_backup

    users.add("root", role="admin", team=None, language="ro")
    users.add("ops", role="operator")
    make_client("Ana Popescu")
    run_backup(trigger="cli")
    _sign_in(client, "ops")
    assert client.get("/admin/backups").status_code == 403
    client.cookies.clear()
    _sign_in(client, "root")
    page = client.get("/admin/backups")
    assert page.status_code == 200
    html = page.text
    assert "Ultima copie bună" in html and 'class="backup-last-good"' in html
    assert "Restaurare verificată" in html and "Linie de comandă" in html
    # what the verification found, in Romanian, from the run's own counts
    assert re.search(r"Restaurat și verificat: [\d.]+ (rânduri|de rânduri), \d+ fișier", html)
    assert "restored and matched" not in html
    assert re.search(r'href="/api/backups/runs/\d+/download"', html)
    assert "Următoarea rulare programată" in html
    assert "<script>" not in html and "onclick" not in html and "style=" not in html


def test_a_backup_whose_process_died_does_not_block_run_now(backups, client, as_user):
    """A restart during a backup left its run "running": the screen said so for hours and
    "Run now" answered "already running". Untouched for STALE_AFTER, it is interrupted."""
    from datetime import timedelta

    from crm_core.backups.liveness import STALE_AFTER
    from crm_core.backups.models import BackupRun
    from crm_core.database import session_scope, utcnow

    admin = as_user("root", role="admin", team=None)
    with session_scope() as db:
        alive = BackupRun(path="alive.tar.gz", alive_at=utcnow() - timedelta(seconds=30))
        db.add(alive)
    assert client.get("/api/backups", headers=admin).json()["running"]["id"] == alive.id
    refused = client.post("/api/backups/runs", headers=admin)
    assert refused.status_code == 409 and "already running" in refused.text

    with session_scope() as db:
        db.get(BackupRun, alive.id).alive_at = utcnow() - STALE_AFTER - timedelta(seconds=5)
        unverified = BackupRun(
            path="unverified.tar.gz",
            status="ok",
            verification="pending",
            alive_at=utcnow() - STALE_AFTER - timedelta(minutes=1),
        )
        db.add(unverified)
    overview = client.get("/api/backups", headers=admin).json()
    assert overview["running"] is None
    runs = {r["id"]: r for r in overview["runs"]}
    assert runs[alive.id]["status"] == "interrupted"
    assert "stopped" in runs[alive.id]["error"]
    assert runs[unverified.id]["verification"] == "skipped"

    started = client.post("/api/backups/runs", headers=admin)
    assert started.status_code == 202, started.text
    run = wait_until_finished(client, admin, started.json()["run_id"])
    assert run["status"] == "ok" and run["verification"] == "passed"
