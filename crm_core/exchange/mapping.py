"""Which column of an imported file is which client field.

A column is matched by its header (a field name, a known spelling of one in English, Romanian
or Russian, or a custom field key), unless the importer maps it explicitly.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from crm_core.clients.models import ENTITY
from crm_core.customfields import service as customfields
from crm_core.errors import Invalid

SCALAR_TARGETS = (
    "kind",
    "first_name",
    "last_name",
    "middle_name",
    "org_name",
    "job_title",
    "category",
    "status",
    "source",
    "birthday",
    "discount_percent",
    "comment",
    "language",
    "timezone",
)
PHONE_TARGETS = ("phone", "phone_mobile", "phone_work", "phone_home", "phone_fax", "phone_other")
ADDRESS_TARGETS = ("street", "city", "region", "postal_code", "country")
OTHER_TARGETS = ("email", "tags", "team", "owner")
TARGETS = SCALAR_TARGETS + PHONE_TARGETS + ADDRESS_TARGETS + OTHER_TARGETS
#: header spellings (lowercased, spaces/dashes as _) recognised without an explicit mapping
ALIASES = {
    "name": "first_name",
    "firstname": "first_name",
    "prenume": "first_name",
    "имя": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "nume": "last_name",
    "фамилия": "last_name",
    "отчество": "middle_name",
    "company": "org_name",
    "organization": "org_name",
    "organisation": "org_name",
    "companie": "org_name",
    "firma": "org_name",
    "компания": "org_name",
    "организация": "org_name",
    "telephone": "phone",
    "tel": "phone",
    "telefon": "phone",
    "телефон": "phone",
    "mobile": "phone_mobile",
    "mobil": "phone_mobile",
    "мобильный": "phone_mobile",
    "e_mail": "email",
    "mail": "email",
    "почта": "email",
    "oras": "city",
    "oraș": "city",
    "город": "city",
    "adresa": "street",
    "address": "street",
    "адрес": "street",
    "categorie": "category",
    "категория": "category",
    "tag": "tags",
    "etichete": "tags",
    "теги": "tags",
    "notes": "comment",
    "birthday": "birthday",
    "date_of_birth": "birthday",
    "birth_date": "birthday",
    "data_nașterii": "birthday",
    "data_de_naștere": "birthday",
    "zi_de_naștere": "birthday",
    "дата_рождения": "birthday",
    "день_рождения": "birthday",
    "județ": "region",
    "regiune": "region",
    "регион": "region",
    "область": "region",
    "cod_poștal": "postal_code",
    "индекс": "postal_code",
    "țara": "country",
    "страна": "country",
    "функция": "job_title",
    "должность": "job_title",
    "funcție": "job_title",
    "note": "comment",
    "comentariu": "comment",
    "комментарий": "comment",
}


def _norm(header: str) -> str:
    """Lower case, spaces as ``_``, Romanian cedilla letters (ş ţ, as old code pages write
    them) as the comma-below ones (ș ț)."""
    key = re.sub(r"[\s\-]+", "_", header.strip().lower())
    return key.replace("ş", "ș").replace("ţ", "ț")


def guess_mapping(db: Session, headers: list[str]) -> dict[str, str]:
    """Column header -> client field for the headers that name a field (or an alias of one)."""
    custom_keys = {f.key for f in customfields.fields_for(db, ENTITY)}
    mapping: dict[str, str] = {}
    for header in headers:
        key = _norm(header)
        if key in TARGETS:
            mapping[header] = key
        elif key in ALIASES:
            mapping[header] = ALIASES[key]
        elif key.startswith("cf.") and key[3:] in custom_keys:
            mapping[header] = key
        elif key in custom_keys:
            mapping[header] = f"cf.{key}"
    return mapping


def check_mapping(db: Session, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    custom_keys = {f.key for f in customfields.fields_for(db, ENTITY)}
    for column, target in mapping.items():
        if column not in headers:
            raise Invalid(["mapping", column], "no such column in the file")
        if target == "":
            continue
        if target.startswith("cf."):
            if target[3:] not in custom_keys:
                raise Invalid(["mapping", column], f"no client custom field {target[3:]!r}")
        elif target not in TARGETS:
            raise Invalid(
                ["mapping", column], f"unknown field {target!r}; one of {', '.join(TARGETS)}"
            )
    return {c: t for c, t in mapping.items() if t}


def resolve_mapping(
    db: Session, headers: list[str], mapping: dict[str, str] | None
) -> dict[str, str]:
    """Column -> field for the import: the guessed one, where an explicit mapping wins ("" in
    it leaves a column out); Invalid when no column matches a field."""
    guessed = guess_mapping(db, headers)
    if mapping:
        explicit = check_mapping(db, headers, mapping)
        guessed = {c: t for c, t in guessed.items() if c not in mapping}
        mapping = {**guessed, **explicit}
    else:
        mapping = guessed
    if not mapping:
        raise Invalid("mapping", "no column matches a client field; send a mapping")
    return mapping
