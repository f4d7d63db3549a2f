"""Clients as vCard 4.0 (RFC 6350), one file with one card per client: phones and Outlook
read it. Lines are folded at 75 octets, text values escaped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import Client
from crm_core.exchange.export import _batches, _ClientLists

PHONE_TYPES = {"mobile": "cell,voice", "work": "work,voice", "home": "home,voice", "fax": "fax"}


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets (never inside a UTF-8 character)."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out) + "\r\n"


def card(client: Client, phones: list, emails: list, address, tags: list[str], org: str) -> str:
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:urn:callcard:client:{client.id}"]
    if client.kind == "organization":
        lines += ["KIND:org", f"FN:{escape(client.org_name)}", f"ORG:{escape(client.org_name)}"]
    else:
        parts = (client.last_name, client.first_name, client.middle_name, "", "")
        lines += [f"FN:{escape(client.display_name)}", "N:" + ";".join(escape(p) for p in parts)]
        if org:
            lines.append(f"ORG:{escape(org)}")
    if client.job_title:
        lines.append(f"TITLE:{escape(client.job_title)}")
    for kind, e164 in phones:
        lines.append(f'TEL;VALUE=uri;TYPE="{PHONE_TYPES.get(kind, "voice")}":tel:{e164}')
    lines += [f"EMAIL:{escape(address)}" for address in emails]
    if address is not None:
        fields = ("", "", address.street, address.city, address.region, address.postal_code)
        lines.append("ADR:" + ";".join(escape(f) for f in fields) + f";{escape(address.country)}")
    if client.birthday:
        lines.append(f"BDAY:{client.birthday.strftime('%Y%m%d')}")
    if tags:
        lines.append("CATEGORIES:" + ",".join(escape(t) for t in sorted(tags)))
    if client.comment:
        lines.append(f"NOTE:{escape(client.comment)}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def vcard_stream(db: Session, actor: Principal, query: Select) -> Iterator[bytes]:
    """The clients of ``query`` as vCard 4.0 text, a batch of cards at a time."""
    require(actor.can_export, "export clients")
    for clients in _batches(db, query, 500):
        ids = [c.id for c in clients]
        lists = _ClientLists.read(db, ids)
        kinds = _phone_kinds(db, ids)
        orgs = {c.id: c.organization.org_name for c in clients if c.organization is not None}
        yield "".join(
            card(
                c,
                kinds.get(c.id, []),
                lists.emails.get(c.id, []),
                lists.addresses.get(c.id),
                lists.tags.get(c.id, []),
                orgs.get(c.id, ""),
            )
            for c in clients
        ).encode("utf-8")


def _phone_kinds(db: Session, ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    from sqlalchemy import select

    from crm_core.clients.models import Phone

    out: dict[int, list[tuple[str, str]]] = {}
    q = select(Phone.client_id, Phone.kind, Phone.e164).where(Phone.client_id.in_(list(ids)))
    for cid, kind, e164 in db.execute(q.order_by(Phone.position, Phone.id)):
        out.setdefault(cid, []).append((kind, e164))
    return out
