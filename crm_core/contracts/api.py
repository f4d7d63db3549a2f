"""Contracts: list, create, change, the signed scan."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, QueryId, RowId
from crm_core.attachments import service as attachments
from crm_core.attachments.api import UPLOAD_BODY, receive_file
from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from crm_core.clients.models import Client
from crm_core.contracts import service
from crm_core.contracts.models import Contract
from crm_core.contracts.schemas import (
    ContractCreate,
    ContractOut,
    ContractPage,
    ContractUpdate,
    Status,
)
from crm_core.database import request_session, utcnow

router = APIRouter(prefix="/contracts", tags=["contracts"], responses=ERROR_RESPONSES)


def render(db: Session, contract: Contract, details: bool = True) -> ContractOut:
    today = utcnow().date()
    name = db.scalar(select(Client.display_name).where(Client.id == contract.client_id)) or ""
    return ContractOut.model_validate(contract).model_copy(
        update={
            "client_name": name,
            "expires_in_days": (contract.ends_on - today).days if contract.ends_on else None,
            "invoice_ids": service.invoice_ids(db, contract.id) if details else [],
        }
    )


@router.get("", response_model=ContractPage, summary="Contracts the caller may see")
def list_contracts(
    client_id: QueryId = None,
    status: Status | None = None,
    expiring_within: int | None = Query(None, ge=0, le=3650, description="days"),
    owner_id: QueryId = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=100_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    rows, total = service.list_contracts(
        db,
        actor,
        client_id=client_id,
        status=status,
        expiring_within=expiring_within,
        owner_id=owner_id,
        limit=limit,
        offset=offset,
    )
    return ContractPage(items=[render(db, c, details=False) for c in rows], total=total)


@router.post("", response_model=ContractOut, status_code=201, summary="New contract (numbered)")
def create_contract(
    body: ContractCreate, actor: Principal = Depends(staff), db: Session = request_session
):
    return render(db, service.create_contract(db, actor, body.model_dump()))


@router.get("/{contract_id}", response_model=ContractOut, summary="One contract")
def get_contract(
    contract_id: RowId, actor: Principal = Depends(staff), db: Session = request_session
):
    return render(db, service.get_contract(db, actor, contract_id))


@router.patch("/{contract_id}", response_model=ContractOut, summary="Change a contract")
def update_contract(
    contract_id: RowId,
    body: ContractUpdate,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    changes = body.model_dump(exclude_unset=True)
    return render(db, service.update_contract(db, actor, contract_id, changes))


@router.post(
    "/{contract_id}/scan",
    response_model=ContractOut,
    summary="Upload the signed scan (multipart field `file`; kept as a file on the client)",
    openapi_extra=UPLOAD_BODY,
)
async def upload_scan(
    contract_id: RowId,
    request: Request,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    contract = service.get_contract(db, actor, contract_id)
    filename, content_type, sink = await receive_file(request)
    item = attachments.attach(
        db,
        actor,
        owner_type="client",
        owner_id=contract.client_id,
        filename=filename,
        content_type=content_type,
        sink=sink,
    )
    path = attachments.path_of(item)
    try:
        contract = service.update_contract(db, actor, contract_id, {"scan_attachment_id": item.id})
        db.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return render(db, contract)
