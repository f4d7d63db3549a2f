"""Row rights: who sees which clients. Every service that reads client data goes through here.

- admin, manager: every client;
- operator: the clients of their own team plus unassigned ones (no team);
- records hanging off a client (history entries, tasks) follow the client; a task is also seen
  by its assignee and creator, and a task without a client by its team;
- a row the actor may not see is reported as missing (404), so ids do not leak.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.errors import Forbidden, NotFound
from crm_core.history.models import Interaction
from crm_core.tasks.models import Task


def visible_clients(
    actor: Principal, team: ColumnElement[int | None] | None = None
) -> ColumnElement[bool]:
    """A WHERE clause limiting clients to those ``actor`` may see (soft-deleted excluded).

    ``team`` stands for ``clients.team_id`` in the clause: the client list passes SQLite's
    ``+team_id`` there to keep the planner off the team index (crm_core.clients.filters)."""
    alive = Client.deleted_at.is_(None)
    if actor.sees_all_clients:
        return alive
    if actor.role != "operator":
        return Client.id.is_(None) & alive  # wall tokens and unknown roles see no client
    team_id = Client.team_id if team is None else team
    if actor.team_id is None:
        return alive & team_id.is_(None)
    return alive & ((team_id == actor.team_id) | team_id.is_(None))


def can_see_client(actor: Principal, client: Client) -> bool:
    if client.deleted_at is not None:
        return False
    if actor.sees_all_clients:
        return True
    if actor.role != "operator":
        return False
    return client.team_id is None or client.team_id == actor.team_id


def get_visible_client(db: Session, actor: Principal, client_id: int) -> Client:
    client = db.get(Client, client_id)
    if client is None or not can_see_client(actor, client):
        raise NotFound(f"client {client_id} not found")
    return client


def visible_client_ids(actor: Principal):
    """Subquery of client ids the actor may see, for records hanging off a client."""
    return select(Client.id).where(visible_clients(actor))


def visible_interactions(actor: Principal) -> ColumnElement[bool]:
    """WHERE clause: history entries of clients the actor may see."""
    if actor.role == "system":
        return Interaction.id.is_not(None)
    return Interaction.client_id.in_(visible_client_ids(actor))


def visible_tasks(actor: Principal) -> ColumnElement[bool]:
    """WHERE clause: tasks the actor may see."""
    if actor.sees_all_clients:
        return true()
    if actor.role != "operator" or actor.id is None:
        return false()
    same_team = (
        Task.team_id.is_(None)
        if actor.team_id is None
        else or_(Task.team_id.is_(None), Task.team_id == actor.team_id)
    )
    return or_(
        Task.assignee_id == actor.id,
        Task.creator_id == actor.id,
        Task.client_id.in_(visible_client_ids(actor)),
        and_(Task.client_id.is_(None), same_team),
    )


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise Forbidden(f"Your role may not {what}")
