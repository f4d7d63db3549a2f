"""Import jobs read and check each row once: the check spools the records it would write and
the write pass writes those. What a user (or an admin restoring files) could notice: a job
goes on after a crash even when its spool is gone, rows someone added meanwhile are skipped
rather than doubled, a tampered spool runs nothing, and no spool is left behind."""

from __future__ import annotations

import pickle
from pathlib import Path

from sqlalchemy import func, select

from crm_core.auth.principal import SYSTEM
from tests.factories import add_client


def big_csv(path: Path, rows: int) -> Path:
    lines = ["Prenume,Nume,Telefon,Email,Oraș"]
    lines += [f"Ion{i},Țurcanu,07{20000000 + i},ion{i}@example.ro,Iași" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def new_job(path: Path) -> int:
    from crm_core.database import session_scope
    from crm_core.exchange import jobs

    with session_scope() as db:
        return jobs.create_job(db, SYSTEM, path, path.name).id


def job_row(job_id: int):
    from crm_core.database import session_scope
    from crm_core.exchange.models import ImportJob

    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        db.expunge(job)
        return job


def spool_path(job_id: int) -> Path:
    from crm_core.exchange import jobs

    return jobs.spool_of(job_row(job_id)).path


def phones_held() -> tuple[int, int]:
    """(clients, distinct numbers): equal when nobody was written twice."""
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope

    with session_scope() as db:
        clients = db.scalar(select(func.count(Client.id)))
        numbers = db.scalar(select(func.count(func.distinct(Phone.e164))))
        return clients, numbers


def test_a_finished_job_leaves_no_spool(database, tmp_path):
    from crm_core.exchange import jobs

    job_id = new_job(big_csv(tmp_path / "c.csv", 2500))
    assert jobs.run_job(job_id, stop_after_batches=1) == "importing"
    assert spool_path(job_id).exists()  # kept for the rest of the job
    assert jobs.run_job(job_id) == "done"
    assert not spool_path(job_id).exists()
    assert phones_held() == (2500, 2500)


def test_a_job_whose_spool_is_gone_checks_the_rest_again(database, tmp_path):
    from crm_core.exchange import jobs

    job_id = new_job(big_csv(tmp_path / "c.csv", 5000))
    assert jobs.run_job(job_id, stop_after_batches=1) == "importing"
    spool_path(job_id).unlink()  # e.g. the files folder restored from an older copy
    assert jobs.run_job(job_id) == "done"
    job = job_row(job_id)
    assert (job.imported, job.skipped, job.done_rows) == (5000, 0, 5000)
    assert phones_held() == (5000, 5000)


def test_a_number_added_during_the_job_is_skipped_not_doubled(database, tmp_path):
    from crm_core.exchange import jobs

    job_id = new_job(big_csv(tmp_path / "c.csv", 5000))
    assert jobs.run_job(job_id, stop_after_batches=1) == "importing"
    add_client("Ana Rusu", phone="0720004321")  # row 4323 of the file, added by an operator
    assert jobs.run_job(job_id) == "done"
    job = job_row(job_id)
    assert (job.imported, job.skipped) == (4999, 1)
    assert job.message == "Imported: 4999, skipped: 1."
    assert phones_held() == (5000, 5000)


def test_a_tampered_spool_runs_nothing(database, tmp_path):
    from crm_core.exchange import jobs

    job_id = new_job(big_csv(tmp_path / "c.csv", 3000))
    assert jobs.run_job(job_id, stop_after_batches=1) == "importing"
    marker = tmp_path / "ran"

    class Touch:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = pickle.dumps((9999, 1, [Touch()]))
    spool_path(job_id).write_bytes(evil)
    assert jobs.run_job(job_id) == "failed"
    assert not marker.exists()
    job = job_row(job_id)
    assert job.message == "The import stopped: UnpicklingError."
    assert phones_held() == (2000, 2000)  # the first batch stays; nothing else was written
    assert not spool_path(job_id).exists()


def test_reading_the_spool_keeps_one_batch_in_memory(tmp_path):
    """A million-row job reads 500 batches back: memory must not grow with each one."""
    import tracemalloc

    from crm_core.exchange.records import Record
    from crm_core.exchange.spool import RecordSpool, SpooledBatch

    spool = RecordSpool(tmp_path / "job.records")
    spool.start()
    for b in range(40):
        records = [
            Record(n, {"first_name": f"Ion{n}"}, phones=[("mobile", "0722", f"+40722{n:06d}")])
            for n in range(b * 500, b * 500 + 500)
        ]
        spool.append(SpooledBatch(b * 500 + 500, 500, records))
    tracemalloc.start()
    try:
        held, numbers = [], []
        for batch in spool.batches():
            numbers.append(batch.records[0].number)
            held.append(tracemalloc.get_traced_memory()[0])  # while reading: the batch's own
            del batch
    finally:
        tracemalloc.stop()
    assert numbers == list(range(0, 20_000, 500))  # every batch, in order
    assert held[-1] < 2 * held[1]  # the 40th batch read holds what the second did
