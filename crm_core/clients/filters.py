"""The client list's filters as one query, with the row rights applied.

Every filter is index-backed; the same query feeds the list, the export and the newsletter
recipients.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, and_, false, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from crm_core.auth.principal import Principal
from crm_core.auth.rights import require, visible_clients
from crm_core.clients.models import ENTITY, Address, Client, ClientTag
from crm_core.clients.schemas import ClientFilter
from crm_core.customfields import service as customfields
from crm_core.errors import Invalid


def _as_utc(value: datetime, field: str) -> datetime:
    """Naive means UTC; an instant no backend can store is a 422, not a crash."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(field, "date out of range") from None
    if not 1900 <= moment.year <= 9000:
        raise Invalid(field, "year must be between 1900 and 9000")
    return moment


def unindexed(column):
    """``+column``: the same values and order, but SQLite will not use an index on it."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


#: ``cf.balance=debtors`` (owes money in some currency) or ``cf.balance=credit``: read from
#: ``client_balances`` (kept by crm_core.invoices) through its balance index
BALANCE_FILTER = "balance"


def _balance_clause(raw: str):
    from crm_core.invoices.models import ClientBalance

    value = raw.strip().lower()
    if value not in ("debtors", "credit"):
        raise Invalid(f"cf.{BALANCE_FILTER}", "must be debtors or credit")
    owing = ClientBalance.balance > 0 if value == "debtors" else ClientBalance.balance < 0
    return Client.id.in_(select(ClientBalance.client_id).where(owing))


def list_query(
    db: Session, actor: Principal, f: ClientFilter, *, team_index: bool = True
) -> Select:
    """The filtered (unsorted, unpaginated) query; raises Invalid naming a bad filter.

    ``team_index=False`` (SQLite only) writes the row rights' and the team filter's
    ``team_id`` as ``+team_id``, so the planner cannot drive the query by the team index."""
    if (f.tag is not None or f.city is not None) and db.get_bind().dialect.name == "sqlite":
        # the tag's or city's index must drive the query (IN below); in a base never analyzed
        # SQLite would start from the team index for an operator (0.1 s at a million clients)
        team_index = False
    team = Client.team_id if team_index else unindexed(Client.team_id)
    if f.deleted:
        require(actor.is_admin, "list deleted clients")
        conditions = [Client.deleted_at.is_not(None)]
    else:
        conditions = [visible_clients(actor, team)]
    if f.team is not None:
        conditions.append(team == f.team)
        if not f.deleted and not actor.sees_all_clients and f.team != actor.team_id:
            # another team's clients are not visible; said outright, since PostgreSQL does not
            # see the contradiction with the row rights and scans the team index (0.3 s at 1M)
            conditions.append(false())
    if f.owner is not None:
        owned = Client.owner_id == f.owner
        if db.get_bind().dialect.name == "sqlite":
            # one owner has few of the clients; SQLite's statistics (seeded or imported bases
            # where most clients have no owner) would otherwise say the owner index is useless
            owned = func.unlikely(owned)
        conditions.append(owned)
    if f.category is not None:
        conditions.append(Client.category == f.category)
    if f.status is not None:
        conditions.append(Client.status == f.status)
    if f.kind is not None:
        conditions.append(Client.kind == f.kind)
    if f.organization is not None:
        conditions.append(Client.organization_id == f.organization)
    # IN (index lookup) rather than EXISTS: a rare tag or city must drive the query, not be
    # probed for each client along the sort index
    if f.tag is not None:
        tagged = select(ClientTag.client_id).where(ClientTag.tag == f.tag.strip())
        conditions.append(Client.id.in_(tagged))
    if f.city is not None:
        located = select(Address.client_id).where(Address.city == f.city.strip())
        conditions.append(Client.id.in_(located))
    if f.created_from is not None:
        conditions.append(Client.created_at >= _as_utc(f.created_from, "created_from"))
    if f.created_to is not None:
        conditions.append(Client.created_at < _as_utc(f.created_to, "created_to"))
    for key, raw in f.custom.items():
        if key == BALANCE_FILTER:
            conditions.append(_balance_clause(raw))
            continue
        try:
            conditions.append(customfields.filter_clause(db, ENTITY, key, raw))
        except Invalid as exc:
            raise Invalid(f"cf.{key}", exc.message.split(": ", 1)[-1]) from None
    return select(Client).where(and_(*conditions))
