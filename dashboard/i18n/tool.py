"""Extract, update and compile the gettext catalogs (``callcard i18n extract|compile``).

The sources are the Python modules and Jinja templates of ``dashboard/``; the catalogs live
in ``dashboard/locale/<lang>/LC_MESSAGES/``: ``messages.po`` and one catalog per business area
(``sales.po``, ``admin.po``...), each with its compiled ``.mo`` beside. A message stays in the
catalog that holds it; a new message goes to ``messages.po`` (move it to an area's catalog by
hand if it belongs there); a message no longer used leaves every catalog.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dashboard.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

SOURCE_DIR = LOCALE_DIR.parent
#: the parts below the dashboard: their messages marked with ``said(...)`` (crm_core.errors)
#: and the texts they word for readers (``words.gettext(...)``..., crm_core.wording) are shown to
#: people, translated by the dashboard
LOWER_PARTS = ("crm_core", "cti", "notifier", "voicebots")
LOWER_KEYWORDS = {
    "said": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
METHOD_MAP = [
    ("i18n/tool.py", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "lazy": None,
}


def is_translated(message) -> bool:
    value = message.string
    if isinstance(value, str):
        return bool(value)
    return bool(value) and all(value)


def template_path() -> Path:
    return LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def area_po_paths(language: str) -> list[Path]:
    """The language's catalogs other than ``messages.po``, one per business area."""
    return sorted(p for p in po_path(language).parent.glob("*.po") if p.stem != DOMAIN)


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def all_messages(language: str) -> list:
    """Every message of the language, from ``messages.po`` and the area catalogs."""
    return [
        m
        for path in [po_path(language), *area_po_paths(language)]
        for m in read_catalog(path, language)
        if m.id
    ]


def extract(write: bool = True) -> Catalog:
    """All translatable strings of the dashboard, as a template catalog (messages.pot)."""
    catalog = Catalog(project="Callcard", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE_DIR), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for part in LOWER_PARTS:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(SOURCE_DIR.parent / part), [("**.py", "python")], {}, LOWER_KEYWORDS
        ):
            catalog.add(
                message,
                None,
                [(f"../{part}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    if not write:
        return catalog
    template_path().parent.mkdir(parents=True, exist_ok=True)
    with template_path().open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    return catalog


def _key(message) -> tuple:
    return (message.context, message.id)


def _subset(template: Catalog, keys: set[tuple] | None, exclude: set[tuple]) -> Catalog:
    part = Catalog(project="Callcard", charset="utf-8", fuzzy=False)
    for message in template:
        if message.id and (keys is None or _key(message) in keys) and _key(message) not in exclude:
            part[message.id] = message  # type: ignore[index]
    return part


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, ignore_obsolete=True)


def update(template: Catalog) -> dict[str, int]:
    """Merge new strings into each language's catalogs; returns untranslated counts."""
    missing: dict[str, int] = {}
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        in_areas: set[tuple] = set()
        for area in area_po_paths(language):
            catalog = read_catalog(area, language)
            keys = {_key(m) for m in catalog if m.id}
            in_areas |= keys
            catalog.update(_subset(template, keys, set()), no_fuzzy_matching=True)
            _write(area, catalog)
            missing[language] = missing.get(language, 0) + sum(
                1 for m in catalog if m.id and not is_translated(m)
            )
        if path.exists():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, project="Callcard", charset="utf-8")
        catalog.update(_subset(template, None, in_areas), no_fuzzy_matching=True)
        _write(path, catalog)
        missing[language] = missing.get(language, 0) + sum(
            1 for m in catalog if m.id and not is_translated(m)
        )
    return missing


def compile_all() -> list[Path]:
    """Write each catalog's .mo beside its .po."""
    written = []
    for language in LANGUAGES:
        for path in [po_path(language), *area_po_paths(language)]:
            if not path.exists():
                continue
            catalog = read_catalog(path, language)
            mo = path.with_suffix(".mo")
            with mo.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            written.append(mo)
    from dashboard.i18n import translations

    translations.cache_clear()
    return written
