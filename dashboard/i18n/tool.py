"""Extract, update and compile the gettext catalogs (``callcard i18n extract|compile``).

The sources are the Python modules and Jinja templates of ``dashboard/``; the catalogs live
in ``dashboard/locale/<lang>/LC_MESSAGES/messages.po`` with their compiled ``.mo`` beside.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dashboard.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

SOURCE_DIR = LOCALE_DIR.parent
METHOD_MAP = [
    ("i18n/tool.py", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None}


def is_translated(message) -> bool:
    value = message.string
    if isinstance(value, str):
        return bool(value)
    return bool(value) and all(value)


def template_path() -> Path:
    return LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(write: bool = True) -> Catalog:
    """All translatable strings of the dashboard, as a template catalog (messages.pot)."""
    catalog = Catalog(project="Callcard", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SOURCE_DIR), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    if not write:
        return catalog
    template_path().parent.mkdir(parents=True, exist_ok=True)
    with template_path().open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True)
    return catalog


def update(template: Catalog) -> dict[str, int]:
    """Merge new strings into each language's .po; returns untranslated counts."""
    missing: dict[str, int] = {}
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=language)
        else:
            catalog = Catalog(locale=language, project="Callcard", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=True, ignore_obsolete=True)
        missing[language] = sum(1 for m in catalog if m.id and not is_translated(m))
    return missing


def compile_all() -> list[Path]:
    """Write messages.mo beside each messages.po."""
    written = []
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        mo = path.with_suffix(".mo")
        with mo.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        written.append(mo)
    from dashboard.i18n import translations

    translations.cache_clear()
    return written
