"""Users and teams: admins manage; every signed-in user lists colleagues."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from crm_core.apitypes import ErrorOut, RowId, text
from crm_core.auth.deps import admins, staff
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.users import service
from crm_core.users.schemas import (
    ColleagueOut,
    TeamCreate,
    TeamOut,
    TeamUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)

#: a taken extension, username or team name; the last admin; a team still in use
CONFLICT = {409: {"model": ErrorOut, "description": "the change conflicts with other records"}}

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[ColleagueOut], summary="Colleagues (for assignment)")
def list_users(
    include_inactive: bool = False,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    return service.list_users(db, actor, include_inactive=include_inactive)


@router.post(
    "/users",
    responses=CONFLICT,
    response_model=UserOut,
    status_code=201,
    summary="Add a user (admin)",
)
def create_user(
    body: UserCreate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.create_user(db, actor, **body.model_dump())


@router.get("/users/{user_id}", response_model=UserOut, summary="One user (admin)")
def get_user(
    user_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.get_user(db, user_id)


@router.patch(
    "/users/{user_id}", responses=CONFLICT, response_model=UserOut, summary="Change a user (admin)"
)
def update_user(
    user_id: RowId,
    body: UserUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.update_user(db, actor, user_id, body.model_dump(exclude_unset=True))


@router.delete(
    "/users/{user_id}",
    responses=CONFLICT,
    response_model=UserOut,
    summary="Deactivate a user (admin)",
)
def deactivate_user(
    user_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.deactivate_user(db, actor, user_id)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: text(200) | None = Field(None, description="null: generate one (returned once)")


class PasswordOut(BaseModel):
    user_id: int
    password: str | None = Field(description="the generated password, shown this once")


@router.post(
    "/users/{user_id}/password",
    response_model=PasswordOut,
    summary="Set or generate a user's password; their sessions end (admin)",
)
def reset_password(
    user_id: RowId,
    body: PasswordIn,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    user, password = service.reset_password(db, actor, user_id, body.password)
    return PasswordOut(user_id=user.id, password=None if body.password else password)


@router.get("/teams", response_model=list[TeamOut], summary="Teams")
def list_teams(actor: Principal = Depends(staff), db: Session = request_session):
    return service.list_teams(db)


@router.post(
    "/teams",
    responses=CONFLICT,
    response_model=TeamOut,
    status_code=201,
    summary="Add a team (admin)",
)
def create_team(
    body: TeamCreate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.create_team(db, actor, **body.model_dump())


@router.patch(
    "/teams/{team_id}",
    responses=CONFLICT,
    response_model=TeamOut,
    summary="Rename a team, set its manager",
)
def update_team(
    team_id: RowId,
    body: TeamUpdate,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    return service.update_team(db, actor, team_id, body.model_dump(exclude_unset=True))


@router.delete(
    "/teams/{team_id}", responses=CONFLICT, status_code=204, summary="Delete an empty team (admin)"
)
def delete_team(
    team_id: RowId,
    actor: Principal = Depends(admins),
    db: Session = request_session,
):
    service.delete_team(db, actor, team_id)
