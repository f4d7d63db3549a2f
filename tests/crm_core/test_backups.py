"""Backups that restore: an archive made while the base serves brings back exactly its rows and
files; a damaged, foreign, newer or wrongly keyed archive is refused with the live data as it was.
Each test runs on SQLite and on PostgreSQL (``database``) unless it is about SQLite itself."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import tarfile
import threading
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select, text

from callcard.schema import migrate
from crm_core.attachments import service as attachments
from crm_core.auth.principal import SYSTEM
from crm_core.backups import service
from crm_core.backups.archive import ArchiveRefused, read_archive
from crm_core.backups.crypto import MAGIC
from crm_core.backups.models import BackupRun
from crm_core.backups.restore import restore_archive
from crm_core.config import get_settings
from crm_core.database import get_engine, session_scope
from tests.factories import make_client, outbox_rows

TABLES = ("clients", "client_phones", "attachments", "tasks", "users")


@pytest.fixture
def backups(database, tmp_path, monkeypatch) -> Path:
    """The per-backend database with a backup directory of its own."""
    folder = tmp_path / "backups"
    monkeypatch.setenv("CALLCARD_BACKUP_DIR", str(folder))
    monkeypatch.setenv("CALLCARD_BACKUP_ENCRYPTION_KEY", "")
    get_settings.cache_clear()
    return folder


def add_file(client_id: int, name: str, data: bytes) -> str:
    sink = attachments.UploadSink()
    sink.write(data)
    sink.close()
    with session_scope() as db:
        item = attachments.attach(
            db,
            SYSTEM,
            owner_type="client",
            owner_id=client_id,
            filename=name,
            content_type="text/plain",
            sink=sink,
        )
        return item.storage_key


def base_state() -> dict:
    """What a user would notice: rows of the main tables (all columns) and the stored files."""
    engine = get_engine()
    state: dict = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY id')).all()
            state[table] = [tuple(str(v) for v in row) for row in rows]
    store = Path(get_settings().attachments_dir)
    state["files"] = {
        p.relative_to(store).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file() and ".incoming" not in p.parts
    }
    return state


def some_base() -> list[int]:
    ids = [make_client(f"Client {n}", phone=f"+4072100{n:04d}") for n in range(12)]
    add_file(ids[0], "contract.txt", "Contract — Ștefan".encode())
    add_file(ids[1], "photo.bin", bytes(range(256)) * 50)
    return ids


def change_everything(ids: list[int]) -> None:
    with session_scope() as db:
        db.execute(text("DELETE FROM client_phones WHERE client_id = :id"), {"id": ids[2]})
        db.execute(
            text("UPDATE clients SET display_name = 'Renamed' WHERE id = :id"), {"id": ids[3]}
        )
    make_client("Added after the backup", phone="+40721999999")
    store = Path(get_settings().attachments_dir)
    first = next(p for p in sorted(store.rglob("*")) if p.is_file() and ".incoming" not in p.parts)
    first.write_bytes(b"overwritten")
    (store / "stray.txt").write_text("not in the backup")


def run(**kwargs) -> BackupRun:
    run_id = service.run_backup(trigger="cli", **kwargs)
    with session_scope() as db:
        found = db.get(BackupRun, run_id)
        db.expunge(found)
        return found


def test_backup_change_restore_brings_rows_and_files_back_exactly(backups):
    ids = some_base()
    before = base_state()
    made = run()
    assert made.status == "ok", made.error
    assert made.verification == "passed", made.verification_detail
    archive = Path(made.path)
    assert archive.parent == backups and archive.is_file() and made.size == archive.stat().st_size
    manifest = read_archive(archive)
    assert manifest.tables["clients"] == 12 and len(manifest.files) == 2
    assert manifest.schema_revision and manifest.database["sha256"]

    change_everything(ids)
    assert base_state() != before
    done = restore_archive(archive, migrate)

    assert done.files == 2 and done.migrated_from is None
    assert base_state() == before


def test_truncated_or_tampered_archives_are_refused_before_anything_is_overwritten(backups):
    ids = some_base()
    archive = Path(run().path)
    change_everything(ids)
    changed = base_state()
    data = archive.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "cut at the end": data[:-600],
        "flipped early": _flip(data, len(data) // 5),
        "flipped late": _flip(data, len(data) - 700),
    }
    for label, content in damaged.items():
        bad = backups / f"bad-{label.replace(' ', '-')}.tar.gz"
        bad.write_bytes(content)
        with pytest.raises(ArchiveRefused):
            restore_archive(bad, migrate)
        assert base_state() == changed, label
    assert not list(Path(get_settings().attachments_dir).parent.glob(".*restoring*"))


def test_damage_anywhere_in_the_compressed_archive_is_refused(backups):
    """Also in its last bytes: the tar's zero padding and the gzip trailer (CRC and length),
    which a reader stopping at the tar's end marker never looks at."""
    some_base()
    data = Path(run().path).read_bytes()
    bad = backups / "bad.tar.gz"
    for at in range(len(data) - 40, len(data)):
        damaged = _flip(data, at)
        if damaged == data:
            continue  # a bit the decompressor never looks at: the archive is intact
        bad.write_bytes(damaged)
        with pytest.raises(ArchiveRefused):
            read_archive(bad)


def _flip(data: bytes, at: int) -> bytes:
    """``data`` with the lowest bit of byte ``at`` flipped, moving on to the next byte while the
    flip leaves the archive's content as it was (some bits of a deflate stream change nothing:
    such an archive is intact, and restoring it is right); ``data`` itself when none is left.
    An encrypted archive is authenticated: its byte ``at`` is flipped."""
    if not data.startswith(b"\x1f\x8b"):
        out = bytearray(data)
        out[at] ^= 0x01
        return bytes(out)
    content = gzip.decompress(data)
    for spot in range(at, len(data)):
        out = bytearray(data)
        out[spot] ^= 0x01
        try:
            if gzip.decompress(bytes(out)) == content:
                continue
        except (OSError, EOFError, zlib.error):
            pass
        return bytes(out)
    return data


def test_a_changed_file_inside_an_intact_tar_is_caught_by_its_checksum(backups, tmp_path):
    """A tar rebuilt with one file's content changed (valid tar, valid gzip) is refused."""
    ids = some_base()
    archive = Path(run().path)
    forged = tmp_path / "forged.tar"
    with tarfile.open(archive) as src, tarfile.open(forged, "w") as out:
        for member in src.getmembers():
            body = src.extractfile(member).read()
            if member.name.startswith("files/") and b"Contract" in body:
                body = body.replace(b"Contract", b"Kontract")
            out.addfile(member, io.BytesIO(body))
    change_everything(ids)
    changed = base_state()
    with pytest.raises(ArchiveRefused, match="does not match its checksum"):
        restore_archive(forged, migrate)
    assert base_state() == changed


def test_an_archive_of_a_newer_schema_is_refused(backups):
    some_base()
    with get_engine().begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_future'"))
    try:
        archive = Path(run(verify=False).path)
    finally:
        with get_engine().begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    make_client("Made later")
    before = base_state()
    with pytest.raises(ArchiveRefused, match="newer than this Callcard knows"):
        restore_archive(archive, migrate)
    assert base_state() == before


def test_an_archive_of_an_older_schema_is_migrated_after_restoring(backups):
    from alembic import command

    from callcard.schema import alembic_config

    some_base()
    url = get_settings().database_url
    command.downgrade(alembic_config(url), "0017_exchange")
    try:
        made = service.make_archive(get_settings())
    finally:
        migrate(url)
    before = base_state()
    make_client("Made later")
    done = restore_archive(made.path, migrate)
    assert done.migrated_from == "0017_exchange"
    assert base_state() == before
    with session_scope() as db:  # the table the newer revision adds is there again
        assert db.scalar(select(BackupRun.id).limit(1)) is None


def test_an_encrypted_archive_restores_with_its_key_only(backups, monkeypatch):
    ids = some_base()
    monkeypatch.setenv("CALLCARD_BACKUP_ENCRYPTION_KEY", "correct horse battery staple")
    get_settings.cache_clear()
    before = base_state()
    made = run()
    assert made.encrypted and made.verification == "passed", made.verification_detail
    archive = Path(made.path)
    assert archive.name.endswith(".tar.gz.enc")
    assert archive.read_bytes().startswith(MAGIC)
    assert b"Contract" not in archive.read_bytes()
    change_everything(ids)
    changed = base_state()

    for key, refusal in (("", "encrypted"), ("wrong key", "wrong encryption key")):
        monkeypatch.setenv("CALLCARD_BACKUP_ENCRYPTION_KEY", key)
        get_settings.cache_clear()
        with pytest.raises(ArchiveRefused, match=refusal):
            restore_archive(archive, migrate)
        assert base_state() == changed

    monkeypatch.setenv("CALLCARD_BACKUP_ENCRYPTION_KEY", "correct horse battery staple")
    get_settings.cache_clear()
    tampered = backups / "tampered.tar.gz.enc"
    tampered.write_bytes(_flip(archive.read_bytes(), archive.stat().st_size // 2))
    with pytest.raises(ArchiveRefused, match="wrong encryption key, or the file was changed"):
        restore_archive(tampered, migrate)
    restore_archive(archive, migrate)
    assert base_state() == before


async def run_and_listen() -> tuple[BackupRun, list[dict]]:
    """A run while listening to the bus as the admins' browsers do."""
    from crm_core.bus import get_bus

    heard: list[dict] = []
    async with get_bus().subscribe(handler=heard.append):
        made = await asyncio.to_thread(run)
        await asyncio.sleep(0.05)
    return made, heard


def test_a_failed_verification_is_recorded_and_admins_are_told_in_app_and_by_email(backups, users):
    from callcard.parts import connect_parts

    connect_parts()  # the notifier hears the failure (as in every Callcard process)
    admin = users.add("boss", role="admin", team=None)
    users.add("ops", role="operator")
    with session_scope() as db:
        db.execute(
            text("UPDATE users SET email = 'boss@example.com' WHERE id = :id"), {"id": admin.id}
        )
    ids = some_base()
    key = add_file(ids[4], "lost.txt", b"will vanish")
    (Path(get_settings().attachments_dir) / key).unlink()  # a record whose file is gone

    made, heard = asyncio.run(run_and_listen())

    assert made.status == "ok"
    assert made.verification == "failed"
    failures = [m for m in heard if m["type"] == "backup.failed"]
    assert failures == [
        {
            "type": "backup.failed",
            "audience": ["role:admin"],
            "run_id": made.id,
            "stage": "verification",
            "error": failures[0]["error"],
        }
    ]
    assert key in failures[0]["error"]
    assert f"attachment file {key} is not in the archive" in made.verification_detail
    with session_scope() as db:
        mails = outbox_rows(db, "backup-failed:")
        assert [(m.channel, m.recipient) for m in mails] == [("email", "boss@example.com")]
        assert f"#{made.id}" in mails[0].subject and key in mails[0].body
        assert service.last_good(db) is None


def test_a_backup_that_cannot_be_written_is_recorded_as_failed(backups, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    made = run(directory=blocker / "sub")
    assert made.status == "failed" and "backup directory cannot be used" in made.error
    assert made.verification == "skipped"


def test_a_sqlite_backup_while_writes_go_on_is_one_consistent_instant(
    sqlite_database, tmp_path, monkeypatch
):
    """Writers keep committing (a client and its phone per transaction) during the copy: the
    archive holds whole transactions only, and its counts match its own rows."""
    import sqlite3

    monkeypatch.setenv("CALLCARD_BACKUP_DIR", str(tmp_path / "backups"))
    get_settings.cache_clear()
    for n in range(3000):
        if n % 500 == 0:
            make_client(f"Seed {n}", phone=f"+4072200{n:04d}")
    stop, written = threading.Event(), [0]

    def writer() -> None:
        n = 0
        while not stop.is_set():
            make_client(f"Live {n}", phone=f"+4073300{n % 10000:04d}")
            n += 1
            written[0] = n

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            stop.wait(0.01)
        made = run()
        at_end = written[0]
    finally:
        stop.set()
        thread.join()
    assert made.verification == "passed", made.verification_detail
    assert at_end > 20
    copy = tmp_path / "copy.sqlite3"
    manifest = read_archive(Path(made.path), database_to=copy)
    with sqlite3.connect(copy) as conn:
        clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM clients c WHERE NOT EXISTS "
            "(SELECT 1 FROM client_phones p WHERE p.client_id = c.id)"
        ).fetchone()[0]
    assert clients == manifest.tables["clients"] >= 26
    assert orphans == 0


def test_cli_backup_prints_the_archive_last_and_restore_asks_first(
    sqlite_database, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from callcard.cli import app

    monkeypatch.setenv("CALLCARD_BACKUP_DIR", str(tmp_path / "unused"))
    get_settings.cache_clear()
    make_client("Before")
    runner = CliRunner()
    result = runner.invoke(app, ["backup", "--to", str(tmp_path / "nas")])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert Path(last).parent == tmp_path / "nas" and Path(last).is_file()

    make_client("After")
    refused = runner.invoke(app, ["restore", last], input="n\n")
    assert refused.exit_code == 1 and "Nothing was changed" in refused.output
    with session_scope() as db:
        assert db.scalar(text("SELECT count(*) FROM clients")) == 2

    done = runner.invoke(app, ["restore", last, "--yes"])
    assert done.exit_code == 0, done.output
    with session_scope() as db:
        assert db.scalar(text("SELECT count(*) FROM clients")) == 1

    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(Path(last).read_bytes()[:1000])
    bad = runner.invoke(app, ["restore", str(broken), "--yes"])
    said = " ".join(bad.output.split())
    assert bad.exit_code == 2 and "Refused: the archive is truncated" in said
    assert "Nothing was changed" in said


def test_the_scheduled_backup_runs_once_per_scheduled_time(backups, monkeypatch):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from crm_core.backups.scheduler import run_if_due
    from crm_core.database import utcnow

    local = (utcnow() - timedelta(minutes=1)).astimezone(ZoneInfo(get_settings().timezone))
    monkeypatch.setenv("CALLCARD_BACKUP_SCHEDULE", local.strftime("%H:%M"))
    get_settings.cache_clear()
    make_client("Ana")

    first = run_if_due()
    again = run_if_due()

    assert first is not None and again is None
    with session_scope() as db:
        made = db.get(BackupRun, first)
        assert made.trigger == "schedule" and made.status == "ok"
        assert made.verification == "passed" and made.slot
