"""Rotation keeps the newest archive of the last N days, weeks and months (properties over any
set of archive times), deletes only our archives; the encrypted stream survives any chunking
and refuses any cut or flipped byte; the schedule knows when the next run is due."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.backups import crypto
from crm_core.backups.rotation import Policy, archive_name, archive_time, prune, to_keep

times = st.lists(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    max_size=80,
    unique=True,
)
policies = st.builds(
    Policy,
    daily=st.integers(0, 10),
    weekly=st.integers(0, 6),
    monthly=st.integers(0, 14),
)


@settings(deadline=None)
@given(times, policies)
def test_kept_archives_are_some_of_them_newest_first_and_bounded(stamps, policy):
    keep = to_keep(stamps, policy)
    assert keep <= set(stamps)
    if stamps:
        assert max(stamps) in keep
    assert len(keep) <= policy.daily + policy.weekly + policy.monthly + 1


@settings(deadline=None)
@given(times, policies)
def test_the_newest_of_each_recent_day_week_and_month_is_kept(stamps, policy):
    keep = to_keep(stamps, policy)
    for bucket, count in (
        (lambda t: t.date(), policy.daily),
        (lambda t: t.date().isocalendar()[:2], policy.weekly),
        (lambda t: (t.year, t.month), policy.monthly),
    ):
        buckets = sorted({bucket(t) for t in stamps}, reverse=True)[:count]
        for b in buckets:
            assert max(t for t in stamps if bucket(t) == b) in keep


@settings(deadline=None)
@given(times, policies)
def test_rotating_twice_deletes_nothing_more(stamps, policy):
    keep = to_keep(stamps, policy)
    assert to_keep(keep, policy) == keep


@settings(deadline=None)
@given(times)
def test_a_daily_archive_for_a_year_keeps_the_documented_count(stamps):
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    daily = [start + timedelta(days=n) for n in range(365)]
    keep = to_keep(daily, Policy(7, 4, 12))
    # 7 days, the 4 weeks end on days already kept or 3 more, 12 months mostly earlier
    assert 7 <= len(keep) <= 7 + 4 + 12
    assert set(daily[-7:]) <= keep


def test_prune_deletes_only_archives_the_policy_drops(tmp_path):
    start = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    names = [
        archive_name(start + timedelta(days=n), compressed=True, encrypted=n % 2 == 0)
        for n in range(30)
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".callcard-backup-20260301T030000Z.tar.gz.partial").write_bytes(b"x")
    spared = names[0]

    removed = prune(tmp_path, Policy(daily=3, weekly=0, monthly=0), spare=[spared])

    left = sorted(p.name for p in tmp_path.iterdir())
    assert set(names[-3:]) <= set(left) and spared in left
    assert "notes.txt" in left and ".callcard-backup-20260301T030000Z.tar.gz.partial" in left
    assert len(removed) == 30 - 3 - 1
    assert all(archive_time(p.name) is not None for p in removed)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(crypto, "CHUNK", 64)


def _seal(data: bytes, key: str = "k") -> bytes:
    out = io.BytesIO()
    writer = crypto.EncryptingWriter(out, key)
    for start in range(0, len(data), 37):
        writer.write(data[start : start + 37])
    writer.close()
    return out.getvalue()


def _open(sealed: bytes, key: str = "k", step: int = 50) -> bytes:
    reader = crypto.DecryptingReader(io.BytesIO(sealed), key)
    parts = []
    while chunk := reader.read(step):
        parts.append(chunk)
    return b"".join(parts)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600), step=st.integers(1, 200))
def test_encrypted_stream_round_trips_in_any_read_size(small_chunks, data, step):
    assert _open(_seal(data), step=step) == data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=400), cut=st.integers(0, 10_000))
def test_an_encrypted_stream_cut_anywhere_is_refused(small_chunks, data, cut):
    sealed = _seal(data)
    cut = cut % len(sealed)
    with pytest.raises(crypto.DecryptionFailed):
        _open(sealed[:cut])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=400), at=st.integers(0, 10_000))
def test_a_flipped_byte_anywhere_is_refused(small_chunks, data, at):
    sealed = bytearray(_seal(data))
    sealed[at % len(sealed)] ^= 0x20
    with pytest.raises(crypto.DecryptionFailed):
        _open(bytes(sealed))


def test_the_wrong_key_is_refused(small_chunks):
    with pytest.raises(crypto.DecryptionFailed, match="wrong encryption key"):
        _open(_seal(b"secret data" * 20), key="other")


def test_the_schedule_names_the_next_run_and_the_due_slot():
    from crm_core.backups.scheduler import due_slot, next_run_at
    from crm_core.config import CoreSettings

    s = CoreSettings(backup_schedule="03:00", timezone="Europe/Bucharest")
    before = datetime(2026, 6, 10, 23, 0, tzinfo=UTC)  # 02:00 in Bucharest (summer, UTC+3)
    assert next_run_at(s, before) == datetime(2026, 6, 11, 0, 0, tzinfo=UTC)
    assert due_slot(s, before, None) is None  # yesterday's is 23 h old: not caught up
    after = datetime(2026, 6, 11, 0, 5, tzinfo=UTC)
    assert due_slot(s, after, None) == "2026-06-11T03:00:00+03:00"
    assert due_slot(s, after, not_before=after) is None  # started after it: wait for tomorrow
    assert next_run_at(CoreSettings(backup_schedule=""), after) is None
