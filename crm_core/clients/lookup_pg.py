"""The caller card on PostgreSQL through libpq itself: the card statement prepared once per
connection and run with the socket polled for the answer (see :func:`pg_card_row`); the
statement and the card's shape are :mod:`crm_core.clients.lookup`'s."""

from __future__ import annotations

import json
import re
import select
import time
from typing import Any

from sqlalchemy import Connection

#: the card statement's parameters on PostgreSQL, as $1..$4, and their type oids
_PG_PARAMS = ("e164", "all_clients", "team", "max_tasks")
_PG_TYPES = (25, 16, 23, 23)  # text, bool, int4, int4
_PG_SQL: dict[str, bytes] = {}  # the card statement -> the same with $n parameters
_PG_NAME = {True: b"callcard_card_sales", False: b"callcard_card"}
_PG_PREPARED = {True: "callcard_card_sales_prepared", False: "callcard_card_prepared"}


def _int(value: bytes | None) -> int | None:
    return None if value is None else int(value)


def _pg_row(result, encoding: str) -> tuple:
    """The card row from libpq's text-format values (ints, texts and three JSON arrays)."""
    value = result.get_value

    def text(col: int) -> str | None:
        raw = value(0, col)
        return None if raw is None else raw.decode(encoding)

    def array(col: int) -> list:
        raw = value(0, col)
        return [] if raw is None else json.loads(raw)

    return (
        int(value(0, 0)),
        text(1),
        text(2),
        text(3),
        _int(value(0, 4)),
        int(value(0, 5)),
        _int(value(0, 6)),
        _int(value(0, 7)),
        text(8),
        _int(value(0, 9)),
        text(10),
        int(value(0, 11)),
        array(12),
        array(13),
        array(14),
        *((array(15), array(16)) if result.nfields > 15 else ()),
    )


#: How long (ns) the lookup polls the socket for the server's answer before sleeping on it.
#: Sleeping costs a wake-up when the answer comes: on an idle machine (a VM here) that alone is
#: ~60 µs, more than the server's work, e.g. an empty statement's round trip took 84 µs
#: sleeping and 26 µs polling (docs/benchmarks.md). The card takes the server ~50 µs, so the
#: poll is usually over in well under this bound; a slower answer is then waited for asleep.
POLL_NS = 1_000_000


def _exec_polling(pgconn, values: list, name: bytes) -> Any:
    """``exec_prepared`` of the card statement, polling for the answer for up to ``POLL_NS``."""
    pgconn.send_query_prepared(name, values)  # raises if it cannot be sent
    give_up = time.perf_counter_ns() + POLL_NS
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            break
        if time.perf_counter_ns() > give_up:
            select.select([pgconn.socket], [], [], 1.0)
    result = pgconn.get_result()
    while pgconn.get_result() is not None:  # the statement's end; nothing else was sent
        pass
    return result


def pg_card_row(
    connection: Connection, params: dict[str, Any], statement: str, sales: bool
) -> tuple | None:
    """The card query ``statement`` (with or without the ``sales`` columns) through libpq
    itself (``psycopg.Connection.pgconn``), as a statement prepared once per connection (kept
    in the pool record's ``info``, which SQLAlchemy clears when the connection is replaced).

    Same statement, same plan, same round trip as a psycopg cursor, minus the cursor's Python
    work per call (query conversion, parameter dumpers, result loaders): measured on 1,000,000
    clients, the client's CPU per lookup fell by 30-55 µs (docs/benchmarks.md). Run under the
    connection's lock; in an open transaction it reads within it, otherwise on its own (a read).
    """
    from psycopg import errors, pq

    raw = connection.connection.driver_connection
    encoding = raw.info.encoding
    values = [
        params["e164"].encode(),
        b"t" if params["all_clients"] else b"f",
        None if params["team"] is None else str(params["team"]).encode(),
        str(params["max_tasks"]).encode(),
    ]
    if statement not in _PG_SQL:
        _PG_SQL[statement] = re.sub(
            r":(\w+)", lambda m: f"${_PG_PARAMS.index(m[1]) + 1}", statement
        ).encode()
    name, marker = _PG_NAME[sales], _PG_PREPARED[sales]
    with raw.lock:
        pgconn = raw.pgconn
        for attempt in (1, 2):
            if not connection.info.get(marker):
                prepared = pgconn.prepare(name, _PG_SQL[statement], _PG_TYPES)
                if prepared.status != pq.ExecStatus.COMMAND_OK:
                    raise errors.error_from_result(prepared, encoding)
                connection.info[marker] = True
            result = _exec_polling(pgconn, values, name)
            if result.status == pq.ExecStatus.TUPLES_OK:
                break
            if result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
                # deallocated behind our back (DEALLOCATE ALL, a pooler): prepare it again,
                # now if no transaction was aborted by the failure, else in the next one
                connection.info.pop(marker, None)
                if attempt == 1 and pgconn.transaction_status == pq.TransactionStatus.IDLE:
                    continue
            raise errors.error_from_result(result, encoding)
    return _pg_row(result, encoding) if result.ntuples else None
