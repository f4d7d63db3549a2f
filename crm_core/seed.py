"""Bulk synthetic clients for benchmarks: ``callcard seed --clients 1000000``.

Realistic Romanian, Russian, Moldovan and international names and numbers (every number is a
valid one for its country), about 1.3 phones per client, a few percent organizations.
Rows go in through the driver in bulk: SQLite ``executemany`` in one transaction per chunk with
the search index rebuilt once at the end; PostgreSQL ``COPY`` with the trigram index rebuilt at
the end. Not for production data: no audit entries are written.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers

from crm_core.search.text import digit_runs, fold

CHUNK = 25_000

RO_FIRST = [
    "Ion", "Maria", "Andrei", "Elena", "Mihai", "Ioana", "Alexandru", "Ana", "Gheorghe", "Cristina",
    "Vasile", "Mihaela", "Constantin", "Andreea", "Ștefan", "Gabriela", "Florin", "Daniela",
    "Radu", "Alina", "Bogdan", "Raluca", "Cătălin", "Simona", "Dumitru", "Oana", "Nicolae",
    "Roxana", "Marius", "Irina", "Adrian", "Larisa", "Sorin", "Bianca", "Ionuț", "Diana",
    "Costel", "Lăcrămioara", "Tudor", "Ileana", "Cezar", "Georgiana", "Victor", "Teodora",
]  # fmt: skip
RO_LAST = [
    "Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe",
    "Matei", "Ciobanu", "Rusu", "Munteanu", "Constantin", "Moldovan", "Mihai", "Lungu",
    "Marin", "Tudor", "Ene", "Ștefănescu", "Țurcanu", "Oprea", "Dinu", "Neagu", "Florea",
    "Sârbu", "Barbu", "Nistor", "Cristea", "Toma", "Bălan", "Căpraru", "Dobre", "Tănase",
    "Vlad", "Manole", "Ardeleanu", "Mocanu", "Zamfir", "Iordache", "Voicu", "Preda", "Surdu",
]  # fmt: skip
RU_FIRST = [
    "Александр", "Елена", "Дмитрий", "Ольга", "Сергей", "Наталья", "Андрей", "Ирина", "Алексей",
    "Татьяна", "Иван", "Анна", "Михаил", "Мария", "Николай", "Светлана", "Юрий", "Екатерина",
]  # fmt: skip
RU_LAST = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
]  # fmt: skip
INTL_FIRST = [
    "John", "Emma", "Lukas", "Sophie", "Marco", "Giulia", "Pierre", "Camille", "Jan", "Zofia",
    "Mehmet", "Ayşe", "Noah", "Olivia", "Hans", "Chloé", "Javier", "Lucía", "Yuki", "Wei",
]  # fmt: skip
INTL_LAST = [
    "Smith", "Müller", "Rossi", "Dubois", "Kowalski", "Yılmaz", "García", "Schmidt", "Brown",
    "Bianchi", "Martin", "Nowak", "Demir", "Fernández", "Wagner", "O'Connor", "Tanaka", "Chen",
]  # fmt: skip
ORG_WORDS = [
    "Dacia", "Carpați", "Transilvania", "Delta", "Nord", "Sud", "Est", "Vest", "Alfa", "Omega",
    "Tehno", "Agro", "Construct", "Logistic", "Trans", "Med", "Farm", "Soft", "Grup", "Euro",
]  # fmt: skip
ORG_FORMS = ["SRL", "SA", "ООО", "GmbH", "Ltd", "SRL-D", "PFA", "II"]
CATEGORIES = ["regular"] * 70 + ["prospect"] * 18 + ["vip"] * 7 + ["partner"] * 5
STATUSES = ["active"] * 75 + ["lead"] * 15 + ["inactive"] * 10
SOURCES = ["", "", "website", "referral", "call", "fair", "import"]
DOMAINS = ["gmail.com", "yahoo.com", "mail.ru", "yandex.ru", "outlook.com", "example.ro"]

#: (country code, national prefix, digits after the prefix, share) of valid number blocks
NUMBER_BLOCKS = [
    (40, "72", 7, 14), (40, "73", 7, 8), (40, "74", 7, 10), (40, "75", 7, 6), (40, "76", 7, 6),
    (40, "77", 7, 5), (40, "78", 7, 3), (40, "21", 7, 5), (40, "31", 7, 3), (40, "264", 6, 1),
    (40, "232", 6, 1), (40, "256", 6, 1),
    (7, "91", 8, 8), (7, "92", 8, 4), (7, "98", 8, 3), (7, "495", 7, 3), (7, "812", 7, 2),
    (373, "69", 6, 2), (373, "79", 6, 2), (373, "22", 6, 1),
    (380, "67", 7, 1), (380, "50", 7, 1), (44, "7700", 6, 1), (44, "20", 8, 1),
    (49, "151", 8, 1), (49, "30", 8, 1), (39, "33", 8, 1), (33, "6", 8, 1), (1, "212", 7, 1),
    (34, "6", 8, 1), (48, "5", 8, 1), (90, "53", 8, 1),
]  # fmt: skip


@dataclass
class SeedReport:
    clients: int
    phones: int
    emails: int
    seconds: float
    backend: str
    phases: dict[str, float]


def _valid_blocks(rng: random.Random) -> list[tuple[int, str, int]]:
    """Keep the blocks whose random members phonenumbers accepts (checked once, 20 samples)."""
    blocks: list[tuple[int, str, int]] = []
    weights: list[int] = []
    for cc, prefix, rest, share in NUMBER_BLOCKS:
        ok = True
        for _ in range(20):
            # first digit after the prefix 2-9: subscriber numbers rarely start with 0 or 1
            tail = str(rng.randint(2, 9)) + "".join(
                rng.choice("0123456789") for _ in range(rest - 1)
            )
            number = phonenumbers.parse(f"+{cc}{prefix}{tail}", None)
            if not phonenumbers.is_valid_number(number):
                ok = False
                break
        if ok:
            blocks.append((cc, prefix, rest))
            weights.append(share)
    expanded = [b for b, w in zip(blocks, weights, strict=True) for _ in range(w)]
    return expanded


def _written(rng: random.Random, cc: int, nsn: str) -> str:
    """How a person typed it: national for Romania sometimes, else international variants."""
    style = int(rng.random() * 5)
    if cc == 40 and style < 2:
        national = "0" + nsn
        if style == 0:
            return national
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    if style == 2:
        return f"+{cc}{nsn}"
    if style == 3:
        return f"00{cc} {nsn}"
    return f"+{cc} {nsn[:3]} {nsn[3:6]} {nsn[6:]}".strip()


def _ascii(text: str) -> str:
    folded = fold(text)
    return "".join(c for c in folded if c.isascii() and c.isalnum()) or "client"


def _timestamps(rng: random.Random, count: int, sqlite: bool) -> list:
    now = datetime.now(UTC).replace(microsecond=0)
    moments = [now - timedelta(seconds=rng.randint(0, 5 * 365 * 86400)) for _ in range(count)]
    if sqlite:  # SQLAlchemy's SQLite DATETIME storage format, naive UTC
        return [m.strftime("%Y-%m-%d %H:%M:%S.000000") for m in moments]
    return moments


def generate(n: int, start_id: int, team_ids: list[int | None], seed: int = 1, sqlite=True):
    """Yield chunks of (client rows, phone rows, e-mail rows) with explicit client ids.

    ``search_text`` is composed here exactly as :func:`build_search_text` would (the tests
    check that) without parsing each number again: seeding a million must stay fast.
    """
    rng = random.Random(seed)
    r = rng.random
    blocks = _valid_blocks(rng)
    stamps = _timestamps(rng, 20_000, sqlite)
    folded: dict[str, str] = {}
    ascii_names: dict[str, str] = {}
    # (share, first names, last names, the language the business writes to them in)
    people = [
        (0.62, RO_FIRST, RO_LAST, "ro"),
        (0.85, RU_FIRST, RU_LAST, "ru"),
        (1.0, INTL_FIRST, INTL_LAST, ""),
    ]

    def pick(items):
        return items[int(r() * len(items))]

    next_id = start_id
    org_ids: list[int] = []
    while next_id < start_id + n:
        size = min(CHUNK, start_id + n - next_id)
        clients, phones, emails = [], [], []
        for client_id in range(next_id, next_id + size):
            roll = r()
            organization_id = None
            if roll < 0.04:
                kind = "organization"
                first = last = language = ""
                org = f"{pick(ORG_WORDS)} {pick(ORG_WORDS)} {pick(ORG_FORMS)}"
                display = org
                org_ids.append(client_id)
                if len(org_ids) > 2000:
                    org_ids.pop(0)
            else:
                kind, org = "person", ""
                for limit, firsts, lasts, tongue in people:
                    if roll < limit:
                        first, last, language = pick(firsts), pick(lasts), tongue
                        break
                display = f"{first} {last}"
                if org_ids and r() < 0.1:
                    organization_id = pick(org_ids)
            name = folded.get(display)
            if name is None:
                name = folded[display] = fold(display)
            parts = [name]
            roll = r()
            count = 1 if roll < 0.75 else (2 if roll < 0.95 else 3)
            for position in range(count):
                cc, prefix, rest = pick(blocks)
                nsn = f"{prefix}{int(r() * 8) + 2}{int(r() * 10 ** (rest - 1)):0{rest - 1}d}"
                phones.append(
                    (
                        client_id,
                        "mobile" if position == 0 else pick(("work", "home", "other")),
                        _written(rng, cc, nsn),
                        f"+{cc}{nsn}",
                        position,
                    )
                )
                run = digit_runs(cc, nsn)
                if run not in parts:
                    parts.append(run)
            if r() < 0.4:
                local = ascii_names.get(display)
                if local is None:
                    local = ascii_names[display] = _ascii(display).replace(" ", ".")[:40]
                address = f"{local}{client_id}@{pick(DOMAINS)}"
                emails.append((client_id, "work", address, address, 0))
                parts.append(address)
            created = pick(stamps)
            clients.append(
                (
                    client_id,
                    kind,
                    first,
                    last,
                    "",
                    org,
                    display,
                    "",
                    organization_id,
                    None,
                    pick(team_ids),
                    pick(CATEGORIES),
                    pick(STATUSES),
                    pick(SOURCES),
                    None,
                    0,
                    "",
                    language,
                    "",
                    None,
                    None,
                    " | ".join(parts),
                    created,
                    created,
                    None,
                    None,
                )
            )
        yield clients, phones, emails
        next_id += size


_END = object()


def prefetched(chunks, depth: int = 2):
    """Make the next chunks in a thread while the current one is written: the driver releases
    the GIL while the database works, so generating and writing overlap."""
    import queue
    import threading

    pipe: queue.Queue = queue.Queue(maxsize=depth)

    def produce() -> None:
        try:
            for chunk in chunks:
                pipe.put(chunk)
        except BaseException as exc:  # handed to the consumer
            pipe.put(exc)
            return
        pipe.put(_END)

    threading.Thread(target=produce, name="seed-rows", daemon=True).start()
    while (item := pipe.get()) is not _END:
        if isinstance(item, BaseException):
            raise item
        yield item


CLIENT_COLUMNS = (
    "id, kind, first_name, last_name, middle_name, org_name, display_name, job_title, "
    "organization_id, owner_id, team_id, category, status, source, birthday, discount_percent, "
    "comment, language, timezone, last_rating, last_rated_at, search_text, created_at, "
    "updated_at, created_by_id, deleted_at"
)
PHONE_COLUMNS = "client_id, kind, number, e164, position"
EMAIL_COLUMNS = "client_id, kind, address, address_lower, position"


def _teams(cur, sqlite: bool) -> list[int | None]:
    """Sales and Support (created when missing) plus unassigned clients."""
    ids = []
    for name in ("Sales", "Support"):
        cur.execute("SELECT id FROM teams WHERE name = " + ("?" if sqlite else "%s"), (name,))
        row = cur.fetchone()
        if row is None:
            now = datetime.now(UTC)
            cur.execute(
                "INSERT INTO teams (name, created_at) VALUES "
                + ("(?, ?)" if sqlite else "(%s, %s)"),
                (name, now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now),
            )
            cur.execute("SELECT id FROM teams WHERE name = " + ("?" if sqlite else "%s"), (name,))
            row = cur.fetchone()
        ids.append(row[0])
    return [ids[0], ids[0], ids[1], None]


def seed_clients(
    url: str,
    n: int,
    progress: Callable[[int], None] | None = None,
    *,
    seed: int = 1,
) -> SeedReport:
    """Add ``n`` synthetic clients to the (migrated) database at ``url``."""
    from crm_core.database import make_engine, migrate

    migrate(url)
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    started = time.perf_counter()
    totals = [0, 0, 0]
    phases: dict[str, float] = {}
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if sqlite:
            _seed_sqlite(driver, n, seed, progress, totals, phases)
        else:
            _seed_postgresql(driver, n, seed, progress, totals, phases)
    finally:
        raw.close()
        engine.dispose()
    return SeedReport(
        clients=totals[0],
        phones=totals[1],
        emails=totals[2],
        seconds=time.perf_counter() - started,
        backend=engine.dialect.name,
        phases={k: round(v, 1) for k, v in phases.items()},
    )


class _Clock:
    """Adds the seconds spent in each phase of a seed run to ``phases``."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self.last
        self.last = now


def _seed_sqlite(conn, n, seed, progress, totals, phases) -> None:
    clock = _Clock(phases)
    conn.isolation_level = None  # explicit BEGIN/COMMIT below
    # a bulk load writes new pages only: a rollback journal costs next to nothing, where WAL
    # would write every page twice (log, then checkpoint). Back to WAL at the end.
    journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    try:
        conn.execute("PRAGMA journal_mode=TRUNCATE")
    except sqlite3.OperationalError:  # another connection is open: stay in WAL
        journal = None
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("PRAGMA temp_store=MEMORY")
    cur = conn.cursor()
    cur.execute("BEGIN")
    teams = _teams(cur, True)
    start = (cur.execute("SELECT max(id) FROM clients").fetchone()[0] or 0) + 1
    # the search index is rebuilt once at the end: far faster than a trigger per row
    triggers = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND name LIKE 'clients_fts_%'"
    ).fetchall()
    for name, _ in triggers:
        cur.execute(f"DROP TRIGGER {name}")
    # so are the secondary indexes: one sort per index instead of a million random inserts
    indexes = cur.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('clients', 'client_phones', 'client_emails')"
    ).fetchall()
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    conn.commit()
    clock.lap("prepare")
    try:
        for clients, phones, emails in prefetched(generate(n, start, teams, seed, sqlite=True)):
            clock.lap("wait for rows")
            cur.execute("BEGIN")
            cur.executemany(
                f"INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ({', '.join('?' * 26)})", clients
            )
            cur.executemany(
                f"INSERT INTO client_phones ({PHONE_COLUMNS}) VALUES (?, ?, ?, ?, ?)", phones
            )
            cur.executemany(
                f"INSERT INTO client_emails ({EMAIL_COLUMNS}) VALUES (?, ?, ?, ?, ?)", emails
            )
            conn.commit()
            totals[0] += len(clients)
            totals[1] += len(phones)
            totals[2] += len(emails)
            if progress:
                progress(len(clients))
            clock.lap("insert rows")
    finally:
        cur.execute("BEGIN")
        for _, sql in indexes:
            cur.execute(sql)
        clock.lap("create indexes")
        cur.execute("INSERT INTO clients_fts(clients_fts) VALUES ('rebuild')")
        for _, sql in triggers:
            cur.execute(sql)
        conn.commit()
        clock.lap("build search index")
        cur.execute("PRAGMA analysis_limit=2000")
        cur.execute("ANALYZE")
        conn.commit()
        if journal:
            conn.execute(f"PRAGMA journal_mode={journal}")
        clock.lap("analyze")


def _seed_postgresql(conn, n, seed, progress, totals, phases) -> None:
    clock = _Clock(phases)
    with conn.cursor() as cur:
        teams = _teams(cur, False)
        cur.execute("SELECT coalesce(max(id), 0) + 1 FROM clients")
        start = cur.fetchone()[0]
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        # secondary indexes (the trigram one included) are rebuilt once at the end
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename IN ('clients', 'client_phones', 'client_emails') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        conn.commit()
        clock.lap("prepare")
        try:
            for clients, phones, emails in prefetched(
                generate(n, start, teams, seed, sqlite=False)
            ):
                clock.lap("wait for rows")
                with cur.copy(f"COPY clients ({CLIENT_COLUMNS}) FROM STDIN") as copy:
                    for row in clients:
                        copy.write_row(row)
                with cur.copy(f"COPY client_phones ({PHONE_COLUMNS}) FROM STDIN") as copy:
                    for row in phones:
                        copy.write_row(row)
                with cur.copy(f"COPY client_emails ({EMAIL_COLUMNS}) FROM STDIN") as copy:
                    for row in emails:
                        copy.write_row(row)
                conn.commit()
                totals[0] += len(clients)
                totals[1] += len(phones)
                totals[2] += len(emails)
                if progress:
                    progress(len(clients))
                clock.lap("copy rows")
        finally:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('clients', 'id'), "
                "(SELECT coalesce(max(id), 1) FROM clients))"
            )
            for _, definition in indexes:
                cur.execute(definition)
            conn.commit()
            clock.lap("build search index")
            cur.execute("ANALYZE clients")
            cur.execute("ANALYZE client_phones")
            cur.execute("ANALYZE client_emails")
            conn.commit()
            clock.lap("analyze")
