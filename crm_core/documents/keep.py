"""The generated file kept on the record as an attachment (crm_core/attachments' store).

When: with ``?keep=1`` on any print-form request, and automatically the first time the PDF
of an issued invoice or credit note is produced: an issued invoice never changes (it is
cancelled by a credit note), so that first PDF is the copy of record. The file hangs off the
client (``client_id``) with ``owner_type`` naming the record ("invoice", "order", "contract"),
so it is listed among the client's files and follows the client's row rights."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.attachments import service as attachments
from crm_core.attachments.models import Attachment
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal


def kept_files(db: Session, owner_type: str, owner_id: int) -> list[Attachment]:
    return list(
        db.scalars(
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )


def keep_file(
    db: Session,
    actor: Principal,
    *,
    owner_type: str,
    owner_id: int,
    client_id: int,
    filename: str,
    content_type: str,
    content: bytes,
) -> Attachment:
    """Store ``content`` and record it on the record (the caller has checked the rights)."""
    sink = attachments.UploadSink(limit=max(len(content), 1))
    try:
        sink.write(content)
        sink.close()
        key = f"{sink.sha256[:2]}/{sink.path.name}"
        target = attachments.store_root() / key
        target.parent.mkdir(parents=True, exist_ok=True)
        sink.path.replace(target)
    except BaseException:
        sink.discard()
        raise
    item = Attachment(
        client_id=client_id,
        owner_type=owner_type,
        owner_id=owner_id,
        filename=attachments.clean_filename(filename),
        content_type=content_type,
        size=len(content),
        sha256=sink.sha256,
        storage_key=key,
        uploaded_by_id=actor.id,
    )
    db.add(item)
    db.flush()
    record(db, actor, "create", "attachment", item.id, None, snapshot(item))
    return item


def should_keep_issued(db: Session, owner_type: str, owner_id: int, status: str) -> bool:
    """An issued invoice's first PDF is kept (see the module's docstring)."""
    if owner_type != "invoice" or status == "draft":
        return False
    return not any(f.content_type == "application/pdf" for f in kept_files(db, "invoice", owner_id))
