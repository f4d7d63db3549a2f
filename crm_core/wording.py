"""Texts the system writes for people (a missed call's callback task, a call's history entry),
worded for whoever reads them.

Such a text is stored once, in English, as :data:`STORED` words it (exports, the audit log,
search and old rows keep it); wherever it is shown it is worded again from the facts it was made
of, in the reader's language and time zone. The functions that word a text take a :class:`Words`
and call ``words.gettext(...)``, ``words.ngettext(...)``, ``words.pgettext(...)`` (``callcard i18n
extract`` collects those calls from every part), ``words.moment(...)`` and ``words.day(...)``.

The catalogs and the reader's language and zone belong to the web UI, above every part that
writes such texts: the root installs its :class:`Reader` in every process (:func:`install`);
without one, readers get the stored English.

Each part registers how to word its rows again: tasks per ``source``
(:func:`word_tasks_with`), history entries per ``kind`` (:func:`word_entries_with`). Pages and
API answers ask :func:`shown_tasks` and :func:`shown_subjects`. A text a person has edited since
is shown as they wrote it: see :func:`shown_tasks`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, Protocol, TypeVar

from crm_core.auth.principal import Principal

log = logging.getLogger("callcard.wording")


class Words(Protocol):
    """gettext's calls with ``%(name)s`` params filled in, a moment and a day as the reader
    reads them."""

    def gettext(self, message: str, **params: object) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str: ...

    def pgettext(self, context: str, message: str, **params: object) -> str: ...

    def moment(self, value: datetime) -> str: ...

    def day(self, value: date) -> str: ...


class Reader(Words, Protocol):
    """The words of the current reader, and a way to read as another one for a while."""

    def reading(self, language: str, zone: str) -> AbstractContextManager[None]: ...


class _Stored:
    """English with every moment in UTC (``2026-12-07 14:05 UTC``), days in ISO: as stored."""

    def gettext(self, message: str, **params: object) -> str:
        return message % params if params else message

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        params.setdefault("num", n)
        return (singular if n == 1 else plural) % params

    def pgettext(self, context: str, message: str, **params: object) -> str:
        return self.gettext(message, **params)

    def moment(self, value: datetime) -> str:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return f"{value:%Y-%m-%d %H:%M} UTC"

    def day(self, value: date) -> str:
        return value.isoformat()


STORED: Words = _Stored()
_reader: Reader | None = None


def install(reader: Reader | None) -> None:
    """Word texts for readers with ``reader`` from now on (None: the stored English again)."""
    global _reader
    _reader = reader


def reader() -> Words:
    """The words of whoever reads now (a page's user), else the stored English."""
    return _reader if _reader is not None else STORED


def reading_as(principal: Principal) -> AbstractContextManager[None]:
    """Word texts for ``principal`` (their language and zone) within the block: an API answer,
    a popup or a reminder made for one user outside a page."""
    if _reader is None:
        return nullcontext()
    return _reader.reading(principal.language, principal.timezone)


# --- what parts register --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskWords:
    title: str
    description: str


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Worded(Generic[T]):
    """A row's text as the system stored it from its facts, and as the reader reads it."""

    stored: T
    shown: T


#: (database, rows of one source or kind, the reader's words) -> per row, in order: its texts,
#: or None when the system did not write it or its facts are gone (it then shows as stored)
TaskWording = Callable[[Any, Sequence[Any], Words], list[Worded[TaskWords] | None]]
EntryWording = Callable[[Any, Sequence[Any], Words], list[Worded[str] | None]]

_task_wordings: dict[str, list[TaskWording]] = {}
_entry_wordings: dict[str, list[EntryWording]] = {}


def word_tasks_with(source: str, wording: TaskWording) -> None:
    """Tasks of ``source`` (``missed_call``...) are worded for readers by ``wording``."""
    if wording not in _task_wordings.setdefault(source, []):
        _task_wordings[source].append(wording)


def word_entries_with(kind: str, wording: EntryWording) -> None:
    """History entries of ``kind`` (``call``...) are worded for readers by ``wording``, after
    the wordings registered for that kind before it: each answers None for the entries it did
    not write, which the next one is asked about."""
    if wording not in _entry_wordings.setdefault(kind, []):
        _entry_wordings[kind].append(wording)


def _worded(
    db: Any, rows: Sequence[Any], key: str, registry: dict[str, list[Any]], words: Words
) -> dict[int, Worded[Any]]:
    """Row index -> its texts, for the rows whose ``key`` has wordings and that one words."""
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        name = getattr(row, key, "") or ""
        if name in registry:
            groups.setdefault(name, []).append(index)
    found: dict[int, Worded[Any]] = {}
    for name, indexes in groups.items():
        for wording in registry[name]:
            left = [i for i in indexes if i not in found]
            if not left:
                break
            try:
                answers = wording(db, [rows[i] for i in left], words)
            except Exception:  # one part's fault must not cost a page or a popup: as stored
                log.exception("texts of %s %r shown as stored", key, name)
                continue
            for index, worded in zip(left, answers, strict=True):
                if worded is not None:
                    found[index] = worded
    return found


def shown_tasks(db: Any, rows: Sequence[Any], words: Words | None = None) -> list[TaskWords]:
    """Each task's title and description as the reader reads them, in the order of ``rows``.

    A task the system wrote is worded anew from its facts in the reader's language and zone;
    each text of it that a person has edited since shows as they wrote it. Edited means: the
    stored text differs from what the system stores for those facts (the registered wording
    in :data:`STORED` words), so no flag is kept and rows written before this existed, or
    changed through the API to the very same text, count as the system's. ``db`` is a session
    or a connection; rows need ``source``, ``title`` and, if shown, ``description``.
    """
    out = [TaskWords(row.title, getattr(row, "description", "") or "") for row in rows]
    for index, worded in _worded(db, rows, "source", _task_wordings, words or reader()).items():
        title, description = out[index].title, out[index].description
        out[index] = TaskWords(
            _unless_edited(title, worded.stored.title, worded.shown.title),
            _unless_edited(description, worded.stored.description, worded.shown.description),
        )
    return out


def shown_subjects(db: Any, rows: Sequence[Any], words: Words | None = None) -> list[str]:
    """Each history entry's subject as the reader reads it (as :func:`shown_tasks`)."""
    out = [row.subject or "" for row in rows]
    for index, worded in _worded(db, rows, "kind", _entry_wordings, words or reader()).items():
        out[index] = _unless_edited(out[index], worded.stored, worded.shown)
    return out


def _unless_edited(text: str, stored: str, shown: str) -> str:
    return shown if text == stored else text
