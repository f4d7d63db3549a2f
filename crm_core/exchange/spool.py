"""The checked records of an import job, kept on disk between its check and its write.

The check pass reads, parses and checks each row once and keeps the records it would write
(duplicates of the file already left out); the write pass reads them back here instead of
reading and checking the file a second time. One pickle per batch, appended, read back one
batch at a time, so memory stays flat for any file. A record is kept as a tuple of its parts
(without ``where``, which only names the columns of the check's errors): half the time of
pickling the objects. The unpickler admits only the types of the values a record holds: the
file is data, never code, whoever wrote it.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crm_core.exchange.records import Record

#: what a pickled batch may name: the record itself and the values of its fields
_ALLOWED = {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("decimal", "Decimal"),
}


class _RecordsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of an import record")
        return super().find_class(module, name)


@dataclass
class SpooledBatch:
    last_row: int  # the file's number of the batch's last row (written or not)
    rows: int  # the file's rows the batch covers
    records: list[Record]  # the ones to write


class RecordSpool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def start(self) -> None:
        self.path.write_bytes(b"")

    def append(self, batch: SpooledBatch) -> None:
        with self.path.open("ab") as out:
            records = [
                (r.number, r.fields, r.phones, r.emails, r.addresses, r.tags, r.custom, r.company)
                for r in batch.records
            ]
            pickle.dump(
                (batch.last_row, batch.rows, records), out, protocol=pickle.HIGHEST_PROTOCOL
            )

    def batches(self, after: int = 0) -> Iterator[SpooledBatch]:
        """The batches whose last row is after ``after``, in the order they were spooled."""
        with self.path.open("rb") as source:
            while True:
                try:  # a new unpickler each time: one keeps every object it loaded
                    last_row, rows, records = _RecordsOnly(source).load()
                except EOFError:
                    return
                if last_row > after:
                    yield SpooledBatch(last_row, rows, [Record(*parts) for parts in records])

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
