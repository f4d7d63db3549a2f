"""Synthetic clients: realistic Romanian, Russian, Moldovan and international names and numbers
(every number is a valid one for its country), about 1.3 phones per client, a few percent
organizations. Made as rows ready for a bulk load (:mod:`crm_core.seed`, the demo).
"""

from __future__ import annotations

import random
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
    return _ClientMaker(team_ids, seed, sqlite).chunks(start_id, n)


#: (share, first names, last names, the language the business writes to them in)
PEOPLE = [
    (0.62, RO_FIRST, RO_LAST, "ro"),
    (0.85, RU_FIRST, RU_LAST, "ru"),
    (1.0, INTL_FIRST, INTL_LAST, ""),
]
#: the last organizations made, which new contact persons are picked from
RECENT_ORGS = 2000


class _ClientMaker:
    """Synthetic clients, the same for the same seed (the order of the random draws is part of
    that: keep it when changing a step)."""

    def __init__(self, team_ids: list[int | None], seed: int, sqlite: bool) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.blocks = _valid_blocks(self.rng)
        self.stamps = _timestamps(self.rng, 20_000, sqlite)
        self.team_ids = team_ids
        self.folded: dict[str, str] = {}
        self.ascii_names: dict[str, str] = {}
        self.org_ids: list[int] = []

    def pick(self, items):
        return items[int(self.r() * len(items))]

    def chunks(self, start_id: int, n: int):
        next_id = start_id
        while next_id < start_id + n:
            size = min(CHUNK, start_id + n - next_id)
            clients: list[tuple] = []
            phones: list[tuple] = []
            emails: list[tuple] = []
            for client_id in range(next_id, next_id + size):
                clients.append(self.client(client_id, phones, emails))
            yield clients, phones, emails
            next_id += size

    def client(self, client_id: int, phones: list[tuple], emails: list[tuple]) -> tuple:
        """The client row (in CLIENT_COLUMNS order); its phones and e-mail are appended."""
        kind, first, last, language, org, display, organization_id = self.identity(client_id)
        parts = [self.fold(display)]
        self.add_phones(client_id, parts, phones)
        self.add_email(client_id, display, parts, emails)
        created = self.pick(self.stamps)
        pick = self.pick
        return (client_id, kind, first, last, "", org, display, "", organization_id, None,
                pick(self.team_ids), pick(CATEGORIES), pick(STATUSES), pick(SOURCES), None, 0,
                "", language, "", None, None, " | ".join(parts), created, created, None, None)  # fmt: skip

    def identity(self, client_id: int) -> tuple:
        """(kind, first, last, language, org name, display name, organization id)."""
        pick = self.pick
        roll = self.r()
        if roll < 0.04:
            org = f"{pick(ORG_WORDS)} {pick(ORG_WORDS)} {pick(ORG_FORMS)}"
            self.org_ids.append(client_id)
            if len(self.org_ids) > RECENT_ORGS:
                self.org_ids.pop(0)
            return "organization", "", "", "", org, org, None
        for limit, firsts, lasts, tongue in PEOPLE:
            if roll < limit:
                first, last, language = pick(firsts), pick(lasts), tongue
                break
        organization_id = pick(self.org_ids) if self.org_ids and self.r() < 0.1 else None
        return "person", first, last, language, "", f"{first} {last}", organization_id

    def fold(self, display: str) -> str:
        name = self.folded.get(display)
        if name is None:
            name = self.folded[display] = fold(display)
        return name

    def add_phones(self, client_id: int, parts: list[str], phones: list[tuple]) -> None:
        """One to three numbers of valid blocks, written the ways people write them."""
        r, pick = self.r, self.pick
        roll = r()
        count = 1 if roll < 0.75 else (2 if roll < 0.95 else 3)
        for position in range(count):
            cc, prefix, rest = pick(self.blocks)
            nsn = f"{prefix}{int(r() * 8) + 2}{int(r() * 10 ** (rest - 1)):0{rest - 1}d}"
            kind = "mobile" if position == 0 else pick(("work", "home", "other"))
            phones.append((client_id, kind, _written(self.rng, cc, nsn), f"+{cc}{nsn}", position))
            run = digit_runs(cc, nsn)
            if run not in parts:
                parts.append(run)

    def add_email(self, client_id: int, display: str, parts: list[str], emails: list) -> None:
        """Four clients in ten have an e-mail address."""
        if self.r() < 0.4:
            local = self.ascii_names.get(display)
            if local is None:
                local = self.ascii_names[display] = _ascii(display).replace(" ", ".")[:40]
            address = f"{local}{client_id}@{self.pick(DOMAINS)}"
            emails.append((client_id, "work", address, address, 0))
            parts.append(address)
