"""E-mail newsletters.

- The body and subject are Jinja2 templates rendered in the sandbox (``notifier.templates.service``) with
  the client's fields; the body is HTML (autoescaped) and must contain ``{{ unsubscribe_url }}``.
- Recipients: the client list's filters (``crm_core.clients.filters.list_query`` with a
  ``ClientFilter``, evaluated with the sender's rights) or a saved segment; clients without an
  e-mail, unsubscribed addresses and e-mail opt-outs are left out.
- A test send to one address is required before the real send, and again after any edit.
- The real send writes one outbox row per client (key ``newsletter:c<client>:n<newsletter>``), so
  a repeated send never mails anyone twice; rate limits and status tracking are the engine's.
- The unsubscribe link carries a signed token; following it records the address and withdraws the
  newsletters still waiting in the outbox for that client.
"""

from __future__ import annotations

import hashlib
import re
from html import unescape
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client, Email
from crm_core.config import secret_key
from crm_core.database import utcnow
from crm_core.errors import Conflict, Invalid, NotFound
from notifier.config import get_settings
from notifier.newsletters.models import Newsletter, NewsletterUnsubscribe, SavedSegment
from notifier.newsletters.schemas import NewsletterOut, RecipientsOut, SendOut, TestSendOut
from notifier.outbox import service as outbox
from notifier.templates import service as templates

UNSUBSCRIBE_SALT = "newsletter-unsubscribe"
FILTER_FIELDS_IGNORED = ("sort", "limit", "offset", "page", "page_size", "deleted")


# --- filters and segments ---------------------------------------------------------------


def check_filters(filters: dict[str, Any] | None, field: str = "filters") -> dict[str, Any]:
    """Validate client-list filters with the client list's own schema; 422 naming the filter."""
    from crm_core.clients.schemas import ClientFilter

    data = {k: v for k, v in (filters or {}).items() if k not in FILTER_FIELDS_IGNORED}
    try:
        parsed = ClientFilter.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [field, *[str(p) for p in first.get("loc", ())]]
        raise Invalid(loc, first.get("msg", "invalid filter")) from None
    return parsed.model_dump(mode="json", exclude_defaults=True)


def create_segment(db: Session, actor: Principal, *, name: str, filters: dict) -> SavedSegment:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise Invalid("name", "must be 1 to 120 characters")
    row = SavedSegment(name=name, filters=check_filters(filters), created_by_id=actor.id)
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        raise Conflict(f"a segment named {name!r} exists") from None
    return row


def recipients(db: Session, actor: Principal, newsletter: Newsletter) -> list[tuple[Client, str]]:
    """(client, e-mail) pairs the newsletter goes to, with the sender's rights."""
    from crm_core.clients.filters import list_query
    from crm_core.clients.schemas import ClientFilter

    filters = dict(newsletter.filters or {})
    if newsletter.segment_id is not None:
        segment = db.get(SavedSegment, newsletter.segment_id)
        if segment is None:
            raise Invalid("segment_id", "the saved segment no longer exists")
        filters = dict(segment.filters or {})
    query = list_query(db, actor, ClientFilter.model_validate(filters)).order_by(Client.id)
    clients = list(db.scalars(query))
    if not clients:
        return []
    first_email: dict[int, str] = {}
    ids = [c.id for c in clients]
    for start in range(0, len(ids), 900):
        for client_id, address in db.execute(
            select(Email.client_id, Email.address)
            .where(Email.client_id.in_(ids[start : start + 900]))
            .order_by(Email.client_id, Email.position, Email.id)
        ):
            first_email.setdefault(client_id, address)
    addresses = {a.strip().lower() for a in first_email.values()}
    gone = set()
    wanted = sorted(addresses)
    for start in range(0, len(wanted), 900):
        gone.update(
            db.scalars(
                select(NewsletterUnsubscribe.email_lower).where(
                    NewsletterUnsubscribe.email_lower.in_(wanted[start : start + 900])
                )
            )
        )
    gone |= outbox.opted_out_numbers(db, addresses, "email")
    return [
        (c, first_email[c.id])
        for c in clients
        if c.id in first_email and first_email[c.id].strip().lower() not in gone
    ]


# --- newsletters ------------------------------------------------------------------------


def _content_hash(n: Newsletter) -> str:
    raw = repr((n.subject, n.body, n.filters, n.segment_id))
    return hashlib.sha256(raw.encode()).hexdigest()


def _validate_content(subject: str, body: str) -> None:
    if not subject or not subject.strip():
        raise Invalid("subject", "must not be empty")
    if len(subject) > 250:
        raise Invalid("subject", "must be at most 250 characters")
    if not body or not body.strip():
        raise Invalid("body", "must not be empty")
    if len(body) > 200_000:
        raise Invalid("body", "must be at most 200000 characters")
    if "unsubscribe_url" not in body:
        raise Invalid("body", "must contain the unsubscribe link {{ unsubscribe_url }}")
    sample = dict(templates.SAMPLE_CLIENT)
    templates.validate(subject, sample, field="subject")
    templates.validate(body, sample, field="body", html=True)


def get_newsletter(db: Session, newsletter_id: int) -> Newsletter:
    row = db.get(Newsletter, newsletter_id)
    if row is None:
        raise NotFound(f"newsletter {newsletter_id} not found")
    return row


def create_newsletter(
    db: Session, actor: Principal, *, name: str, subject: str, body: str,
    filters: dict | None = None, segment_id: int | None = None,
) -> Newsletter:  # fmt: skip
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise Invalid("name", "must be 1 to 200 characters")
    _validate_content(subject, body)
    if segment_id is not None and db.get(SavedSegment, segment_id) is None:
        raise Invalid("segment_id", f"no saved segment {segment_id}")
    row = Newsletter(
        name=name, subject=subject, body=body, filters=check_filters(filters),
        segment_id=segment_id, created_by_id=actor.id, status="draft",
    )  # fmt: skip
    db.add(row)
    db.flush()
    return row


def update_newsletter(
    db: Session, actor: Principal, newsletter_id: int, changes: dict
) -> Newsletter:
    row = get_newsletter(db, newsletter_id)
    if row.status == "sent":
        raise Conflict("this newsletter was sent; copy it to send again")
    for name, value in changes.items():
        if name not in ("name", "subject", "body", "filters", "segment_id"):
            raise Invalid(name, "cannot be changed")
        if name == "filters":
            value = check_filters(value)
        if name == "segment_id" and value is not None and db.get(SavedSegment, value) is None:
            raise Invalid("segment_id", f"no saved segment {value}")
        if name in ("name", "subject", "body") and value is None:
            raise Invalid(name, "must not be empty")
        setattr(row, name, value)
    _validate_content(row.subject, row.body)
    db.flush()
    return row


def _unsubscribe_url(client_id: int | None, email: str, newsletter_id: int) -> str:
    token = URLSafeSerializer(secret_key(), salt=UNSUBSCRIBE_SALT).dumps(
        {"c": client_id, "e": email.strip().lower(), "n": newsletter_id}
    )
    return f"{get_settings().public_url.rstrip('/')}/api/notifier/unsubscribe/{token}"


def _plain_text(html: str, unsubscribe_url: str) -> str:
    """The text/plain part: the HTML without tags, then the unsubscribe link spelled out."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h[1-6]>|</li>|</tr>", "\n", text)
    text = unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()
    return f"{text}\n\n--\nUnsubscribe: {unsubscribe_url}"


def _render(newsletter: Newsletter, client: Client | None, email: str) -> tuple[str, str, str, str]:
    """(subject, text body, HTML body, unsubscribe URL) for one recipient."""
    context = templates.client_context(client)
    url = _unsubscribe_url(client.id if client else None, email, newsletter.id)
    context["unsubscribe_url"] = url
    subject = templates.render(newsletter.subject, context)
    html = templates.render(newsletter.body, context, html=True)
    return subject, _plain_text(html, url), html, url


def test_send(db: Session, actor: Principal, newsletter_id: int, *, email: str) -> TestSendOut:
    """Send the newsletter to one address, rendered with the first recipient's data."""
    row = get_newsletter(db, newsletter_id)
    address = outbox.normalise_recipient("email", email, field="email")
    targets = recipients(db, actor, row)
    client = targets[0][0] if targets else None
    subject, text, html, url = _render(row, client, address)
    now = utcnow()
    message = outbox.enqueue(
        db,
        channel="email",
        recipient=address,
        subject=f"[TEST] {subject}",
        body=text,
        idempotency_key=f"newsletter-test:n{row.id}:{now.timestamp():.6f}",
        purpose="newsletter_test",
        template=f"newsletter:{row.id}",
        meta={"newsletter_id": row.id, "html": html, "unsubscribe_url": url},
    )
    row.tested_hash = _content_hash(row)
    row.tested_to = address
    row.tested_at = now
    db.flush()
    return TestSendOut(message_id=message.id, to=address, recipients=len(targets))


def send(db: Session, actor: Principal, newsletter_id: int) -> SendOut:
    """Queue the newsletter for every recipient (after a test send of this exact content)."""
    row = get_newsletter(db, newsletter_id)
    if row.status == "sent":
        raise Conflict("this newsletter was already sent (nobody gets it twice)")
    if not row.tested_hash:
        raise Conflict("send a test to one address first")
    if row.tested_hash != _content_hash(row):
        raise Conflict("the newsletter changed since its test; send a new test first")
    targets = recipients(db, actor, row)
    messages = []
    for client, email in targets:
        subject, text, html, url = _render(row, client, email)
        messages.append(
            {
                "channel": "email",
                "recipient": email,
                "subject": subject,
                "body": text,
                "idempotency_key": f"newsletter:c{client.id}:n{row.id}",
                "client_id": client.id,
                "purpose": "newsletter",
                "template": f"newsletter:{row.id}",
                # the e-mail channel sends ``html`` as the HTML part and ``unsubscribe_url`` as
                # the List-Unsubscribe header
                "meta": {"newsletter_id": row.id, "html": html, "unsubscribe_url": url},
            }
        )
    valid = []
    for message in messages:
        try:
            outbox.normalise_recipient("email", message["recipient"])
        except Invalid:
            continue
        valid.append(message)
    queued = outbox.enqueue_many(db, valid)
    row.status = "sent"
    row.sent_at = utcnow()
    row.recipients = len(valid)
    db.flush()
    return SendOut(queued=queued, recipients=len(valid))


# --- unsubscribe ------------------------------------------------------------------------


def read_token(token: str) -> dict[str, Any]:
    try:
        data = URLSafeSerializer(secret_key(), salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        raise NotFound("this unsubscribe link is not valid") from None
    if not isinstance(data, dict) or not data.get("e"):
        raise NotFound("this unsubscribe link is not valid")
    return data


def unsubscribe(db: Session, token: str) -> str:
    """Honour an unsubscribe link (idempotent); returns the address."""
    data = read_token(token)
    email = str(data["e"])[:254]
    client_id = data.get("c")
    if client_id is not None and db.get(Client, client_id) is None:
        client_id = None
    newsletter_id = data.get("n")
    if newsletter_id is not None and db.get(Newsletter, newsletter_id) is None:
        newsletter_id = None
    exists = db.scalar(
        select(NewsletterUnsubscribe).where(NewsletterUnsubscribe.email_lower == email)
    )
    if exists is None:
        try:
            with db.begin_nested():
                db.add(
                    NewsletterUnsubscribe(
                        email_lower=email, client_id=client_id, newsletter_id=newsletter_id
                    )
                )
        except IntegrityError:
            pass
    if client_id is not None:
        outbox.withdraw(db, idempotency_key_prefix=f"newsletter:c{client_id}:")
    db.flush()
    return email


def newsletter_out(row: Newsletter) -> NewsletterOut:
    return NewsletterOut(
        id=row.id,
        name=row.name,
        subject=row.subject,
        body=row.body,
        filters=row.filters,
        segment_id=row.segment_id,
        status=row.status,
        tested_to=row.tested_to or None,
        tested_at=row.tested_at.isoformat() if row.tested_at else None,
        test_is_current=bool(row.tested_hash) and row.tested_hash == _content_hash(row),
        sent_at=row.sent_at.isoformat() if row.sent_at else None,
        recipients=row.recipients,
    )


def list_newsletters(db: Session) -> list[NewsletterOut]:
    return [
        newsletter_out(n) for n in db.scalars(select(Newsletter).order_by(Newsletter.id.desc()))
    ]


def list_segments(db: Session) -> list[SavedSegment]:
    return list(db.scalars(select(SavedSegment).order_by(SavedSegment.name)))


def recipients_summary(db: Session, actor: Principal, newsletter_id: int) -> RecipientsOut:
    """How many clients the newsletter would reach, and the first addresses."""
    targets = recipients(db, actor, get_newsletter(db, newsletter_id))
    return RecipientsOut(count=len(targets), sample=[e for _, e in targets[:20]])
