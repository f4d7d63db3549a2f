"""Tasks and events: list with filters, create, change, assign, complete, cancel, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core import wording
from crm_core.apitypes import ERROR_RESPONSES, QueryId, RowId
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.customfields import service as customfields
from crm_core.database import request_session, utcnow
from crm_core.tasks import service
from crm_core.tasks.models import Task
from crm_core.tasks.schemas import Assign, Kind, Status, TaskCreate, TaskOut, TaskPage, TaskUpdate

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=ERROR_RESPONSES)


def render(db: Session, rows: list[Task], actor: Principal) -> list[TaskOut]:
    """The tasks as ``actor`` reads them (``display_*``: :mod:`crm_core.wording`)."""
    now = utcnow()
    values = customfields.values_for(db, "task", [t.id for t in rows])
    with wording.reading_as(actor):
        shown = wording.shown_tasks(db, rows)
    return [
        TaskOut.model_validate(t).model_copy(
            update={
                "overdue": service.is_overdue(t, now),
                "custom": values.get(t.id, {}),
                "display_title": words.title,
                "display_description": words.description,
            }
        )
        for t, words in zip(rows, shown, strict=True)
    ]


@router.get("", response_model=TaskPage, summary="Tasks and events the caller may see")
def list_tasks(
    mine: bool = Query(False, description="assigned to me"),
    today: bool = Query(False, description="due today (in the configured time zone)"),
    overdue: bool = Query(False, description="open or in progress and due in the past"),
    client_id: QueryId = None,
    assignee_id: QueryId = None,
    status: list[Status] | None = Query(None),
    kind: Kind | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    rows, total = service.list_tasks(
        db,
        actor,
        mine=mine,
        today=today,
        overdue=overdue,
        client_id=client_id,
        assignee_id=assignee_id,
        status=list(status) if status else None,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return TaskPage(items=render(db, rows, actor), total=total)


@router.post("", response_model=TaskOut, status_code=201, summary="Create a task or event")
def create_task(
    body: TaskCreate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.create_task(db, actor, **body.model_dump())], actor)[0]


@router.get("/{task_id}", response_model=TaskOut, summary="One task")
def get_task(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.get_task(db, actor, task_id)], actor)[0]


@router.patch("/{task_id}", response_model=TaskOut, summary="Change a task")
def update_task(
    task_id: RowId,
    body: TaskUpdate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    task = service.update_task(db, actor, task_id, body.model_dump(exclude_unset=True))
    return render(db, [task], actor)[0]


@router.post("/{task_id}/assign", response_model=TaskOut, summary="Assign to a colleague")
def assign_task(
    task_id: RowId,
    body: Assign,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.assign_task(db, actor, task_id, body.assignee_id)], actor)[0]


@router.post("/{task_id}/complete", response_model=TaskOut, summary="Mark done")
def complete_task(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.complete_task(db, actor, task_id)], actor)[0]


@router.post("/{task_id}/cancel", response_model=TaskOut, summary="Cancel")
def cancel_task(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return render(db, [service.cancel_task(db, actor, task_id)], actor)[0]


@router.delete("/{task_id}", status_code=204, summary="Delete (managers and admins)")
def delete_task(
    task_id: RowId,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    service.delete_task(db, actor, task_id)
