"""Files on a client or on one of its records (a history entry, a task).

Uploads stream into a temporary file beside the store while their size is counted and their
SHA-256 computed; past ``settings.max_upload_bytes`` the temporary file is removed and the
upload refused (413) before any row exists. A finished upload is moved into place under
``settings.attachments_dir`` and only then recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from crm_core.attachments.models import Attachment
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.auth.rights import (
    get_visible_client,
    visible_client_ids,
    visible_interactions,
    visible_tasks,
)
from crm_core.config import get_settings
from crm_core.errors import Forbidden, Invalid, NotFound, TooLarge, said
from crm_core.history.models import Interaction
from crm_core.tasks.models import Task

OWNER_TYPES = ("client", "interaction", "task")
#: the records other than a client that carry files: their model and who may see them
RECORD_OWNERS = {"interaction": (Interaction, visible_interactions), "task": (Task, visible_tasks)}
CONTENT_TYPE_RE = re.compile(r"^[a-zA-Z0-9][\w.+-]*/[\w.+-]+$")


def store_root() -> Path:
    root = Path(get_settings().attachments_dir)
    root.mkdir(parents=True, exist_ok=True)
    return root


class UploadSink:
    """Receives the bytes of one upload; refuses past the size limit, leaving nothing behind."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = get_settings().max_upload_bytes if limit is None else limit
        tmp_dir = store_root() / ".incoming"
        tmp_dir.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.size = 0
        self.hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.discard()
            raise TooLarge(
                f"the file is larger than the limit of {self.limit} bytes",
                limit=self.limit,
            )
        self.hash.update(chunk)
        self.file.write(chunk)

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    @property
    def sha256(self) -> str:
        return self.hash.hexdigest()


def clean_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:255] or "file"


def clean_content_type(value: str | None) -> str:
    value = (value or "").split(";", 1)[0].strip().lower()
    return (
        value if CONTENT_TYPE_RE.match(value) and len(value) <= 120 else "application/octet-stream"
    )


def owner_client_id(db: Session, actor: Principal, owner_type: str, owner_id: int) -> int | None:
    """The client behind an owner the actor may see (NotFound otherwise)."""
    if owner_type == "client":
        return get_visible_client(db, actor, owner_id).id
    if owner_type not in RECORD_OWNERS:
        raise Invalid(
            "owner_type",
            said("must be one of %(choices)s"),
            params={"choices": ", ".join(OWNER_TYPES)},
        )
    model, visible = RECORD_OWNERS[owner_type]
    found = db.execute(
        select(model.client_id).where(model.id == owner_id, visible(actor))
    ).one_or_none()
    if found is None:
        raise NotFound(f"{owner_type} {owner_id} not found")
    return found.client_id


def attach(
    db: Session,
    actor: Principal,
    *,
    owner_type: str,
    owner_id: int,
    filename: str | None,
    content_type: str | None,
    sink: UploadSink,
) -> Attachment:
    """Move a finished upload into the store and record it (the caller commits)."""
    try:
        client_id = owner_client_id(db, actor, owner_type, owner_id)
        if sink.size == 0:
            raise Invalid("file", said("is empty"))
        sink.close()
        key = f"{sink.sha256[:2]}/{uuid.uuid4().hex}"
        target = store_root() / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(sink.path, target)
    except BaseException:
        sink.discard()
        raise
    item = Attachment(
        client_id=client_id,
        owner_type=owner_type,
        owner_id=owner_id,
        filename=clean_filename(filename),
        content_type=clean_content_type(content_type),
        size=sink.size,
        sha256=sink.sha256,
        storage_key=key,
        uploaded_by_id=actor.id,
    )
    db.add(item)
    db.flush()
    record(db, actor, "create", "attachment", item.id, None, snapshot(item))
    return item


def path_of(item: Attachment) -> Path:
    return store_root() / item.storage_key


def _visible(actor: Principal):
    if actor.role == "system":
        return Attachment.id.is_not(None)
    client_ok = Attachment.client_id.in_(visible_client_ids(actor))
    task_ok = (Attachment.owner_type == "task") & Attachment.owner_id.in_(
        select(Task.id).where(visible_tasks(actor))
    )
    return client_ok | task_ok


def get_attachment(db: Session, actor: Principal, attachment_id: int) -> Attachment:
    item = db.scalar(select(Attachment).where(Attachment.id == attachment_id, _visible(actor)))
    if item is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return item


def list_for(db: Session, actor: Principal, owner_type: str, owner_id: int) -> list[Attachment]:
    owner_client_id(db, actor, owner_type, owner_id)
    query = select(Attachment).order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
    if owner_type == "client":
        # a client's files include those on its history entries and tasks
        query = query.where(Attachment.client_id == owner_id)
    else:
        query = query.where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
    return list(db.scalars(query))


def delete_attachment(db: Session, actor: Principal, attachment_id: int) -> Path:
    """Remove the row; returns the file to unlink once the transaction has committed."""
    item = get_attachment(db, actor, attachment_id)
    if not (actor.can_delete or (actor.id is not None and item.uploaded_by_id == actor.id)):
        raise Forbidden(said("Only the uploader or a manager may delete this file"))
    path = path_of(item)
    before = snapshot(item)
    db.delete(item)
    db.flush()
    record(db, actor, "delete", "attachment", attachment_id, before, None)
    return path


def rehome(db: Session, owner_type: str, owner_id: int, client_id: int | None) -> None:
    """A record is being deleted: its files stay with the client (or, without one, go too)."""
    where = (Attachment.owner_type == owner_type) & (Attachment.owner_id == owner_id)
    if client_id is None:
        db.execute(delete(Attachment).where(where))
    else:
        db.execute(update(Attachment).where(where).values(owner_type="client", owner_id=client_id))
