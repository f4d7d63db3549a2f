"""What the notifier writes for people, worded for each reader: the history entries of an SMS
opt-out or opt-in and of a survey rating, the task a low rating opens for the manager and the
one a contract's end opens for its owner.

Stored once in English (:data:`~crm_core.wording.STORED`); :func:`connect` registers how pages,
API answers and popups word them again for their reader (:mod:`crm_core.wording`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select

from crm_core import wording
from crm_core.auth.models import User
from crm_core.clients.models import Client
from crm_core.contracts.models import Contract
from crm_core.wording import TaskWords, Worded, Words
from notifier.surveys.models import Survey

#: ``tasks.source`` of the task a low rating opens, and of the one a contract's end opens
LOW_RATING_SOURCE = "low_rating"
CONTRACT_END_SOURCE = "contract_expiry"


def consent_subject(opted_out: bool, words: Words | None = None) -> str:
    """ "SMS opt-out" or "SMS opt-in": the client's answer changed the number's consent."""
    w = words or wording.reader()
    return w.gettext("SMS opt-out") if opted_out else w.gettext("SMS opt-in")


def rating_subject(rating: int, words: Words | None = None) -> str:
    """E.g. "Rating 4/5"."""
    return (words or wording.reader()).gettext("Rating %(rating)s/5", rating=rating)


def low_rating_title(rating: int, client: str, words: Words | None = None) -> str:
    """E.g. "Low rating 2/5 from Ion Popescu"."""
    w = words or wording.reader()
    return w.gettext("Low rating %(rating)s/5 from %(client)s", rating=rating, client=client)[
        :250
    ].strip()


def low_rating_description(
    rating: int, operator: str | None, reply: str, words: Words | None = None
) -> str:
    """What the client answered, and who handled the call."""
    w = words or wording.reader()
    if operator:
        return w.gettext(
            "The client rated the service %(rating)s/5 (call handled by %(operator)s). "
            "Reply: %(reply)s",
            rating=rating,
            operator=operator,
            reply=reply[:1000],
        )
    return w.gettext(
        "The client rated the service %(rating)s/5. Reply: %(reply)s",
        rating=rating,
        reply=reply[:1000],
    )


def contract_end_title(number: str, ends_on: date, renews: bool, words: Words | None = None) -> str:
    """E.g. "Contract C-2026-7 ends on 2026-12-31 (renews automatically)"."""
    w = words or wording.reader()
    day = w.day(ends_on)
    if renews:
        text = w.gettext(
            "Contract %(number)s ends on %(date)s (renews automatically)", number=number, date=day
        )
    else:
        text = w.gettext("Contract %(number)s ends on %(date)s", number=number, date=day)
    return text[:250].strip()


# --- rows worded again for their readers ----------------------------------------------------


def _matching(
    rows: Sequence[Any], candidates: dict[str, Callable[[Words], str]], words: Words
) -> list[Worded[str] | None]:
    """Entries whose subject is one the system stores (``candidates``: stored text -> the
    function that words it for ``words``); no query, the subject says all there is."""
    out: list[Worded[str] | None] = []
    for row in rows:
        make = candidates.get(row.subject or "")
        out.append(None if make is None else Worded(row.subject, make(words)))
    return out


def word_consent_entries(db: Any, rows: Sequence[Any], words: Words) -> list[Worded[str] | None]:
    candidates = {
        consent_subject(value, wording.STORED): partial(consent_subject, value)
        for value in (True, False)
    }
    return _matching(rows, candidates, words)


def word_rating_entries(db: Any, rows: Sequence[Any], words: Words) -> list[Worded[str] | None]:
    candidates = {
        rating_subject(value, wording.STORED): partial(rating_subject, value)
        for value in range(1, 6)
    }
    return _matching(rows, candidates, words)


def word_low_rating_tasks(
    db: Any, rows: Sequence[Any], words: Words
) -> list[Worded[TaskWords] | None]:
    """Low-rating tasks, from the survey that opened each (found through the client's surveys,
    ``ix_surveys_client_created``); the client's and operator's names as they are now."""
    client_ids = sorted({row.client_id for row in rows if row.client_id})
    if not client_ids:
        return [None] * len(rows)
    surveys = {
        s.low_rating_task_id: s
        for s in db.execute(
            select(
                Survey.low_rating_task_id, Survey.rating, Survey.reply, Survey.operator_user_id
            ).where(Survey.client_id.in_(client_ids), Survey.low_rating_task_id.is_not(None))
        )
    }
    clients = dict(
        db.execute(select(Client.id, Client.display_name).where(Client.id.in_(client_ids))).all()
    )
    operator_ids = sorted({s.operator_user_id for s in surveys.values() if s.operator_user_id})
    operators = {
        u.id: u.full_name or u.username
        for u in db.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(operator_ids))
        )
    }
    out: list[Worded[TaskWords] | None] = []
    for row in rows:
        survey = surveys.get(row.id)
        if survey is None or survey.rating is None:
            out.append(None)
            continue
        client = clients.get(row.client_id) or str(row.client_id)
        facts = (survey.rating, client, operators.get(survey.operator_user_id), survey.reply)
        out.append(Worded(_low_words(*facts, wording.STORED), _low_words(*facts, words)))
    return out


def _low_words(rating: int, client: str, operator: str | None, reply: str, w: Words) -> TaskWords:
    return TaskWords(
        low_rating_title(rating, client, w), low_rating_description(rating, operator, reply, w)
    )


def word_contract_end_tasks(
    db: Any, rows: Sequence[Any], words: Words
) -> list[Worded[TaskWords] | None]:
    """Contract-end tasks: the contract is the client's whose number, end and renewal the title
    was made of (``ix_contracts_client``); a contract renewed since shows the stored text."""
    client_ids = sorted({row.client_id for row in rows if row.client_id})
    contracts: dict[int, list[tuple[str, date, bool]]] = {}
    if client_ids:
        for client_id, number, ends_on, renews in db.execute(
            select(
                Contract.client_id, Contract.number, Contract.ends_on, Contract.auto_renew
            ).where(Contract.client_id.in_(client_ids), Contract.ends_on.is_not(None))
        ):
            contracts.setdefault(client_id, []).append((number, ends_on, renews))
    out: list[Worded[TaskWords] | None] = []
    for row in rows:
        found = None
        for facts in contracts.get(row.client_id, ()):
            stored = contract_end_title(*facts, wording.STORED)
            if stored == row.title:
                shown = contract_end_title(*facts, words)
                found = Worded(TaskWords(stored, ""), TaskWords(shown, ""))
                break
        out.append(found)
    return out


def connect() -> None:
    """Register the notifier's texts with :mod:`crm_core.wording` (the root does, once)."""
    wording.word_entries_with("sms", word_consent_entries)
    wording.word_entries_with("rating", word_rating_entries)
    wording.word_tasks_with(LOW_RATING_SOURCE, word_low_rating_tasks)
    wording.word_tasks_with(CONTRACT_END_SOURCE, word_contract_end_tasks)
