"""Import every crm_core model so that the metadata is complete."""

from crm_core.attachments.models import Attachment
from crm_core.audit.models import AuditEntry
from crm_core.auth.models import AuthSession, LoginAttempt, Team, User
from crm_core.backups.models import BackupRun
from crm_core.calendar_feed.models import CalendarFeed
from crm_core.catalog import models as catalog_models  # noqa: F401
from crm_core.clients.models import Address, Client, ClientTag, Email, Handle, Phone
from crm_core.contracts import models as contracts_models  # noqa: F401
from crm_core.customfields.models import ChoiceLabel, CustomField, CustomFieldValue, FieldLabel
from crm_core.documents import models as documents_models  # noqa: F401
from crm_core.exchange.models import ImportJob, ImportMapping
from crm_core.history.models import ChoiceItem, Interaction
from crm_core.invoices import models as invoices_models  # noqa: F401
from crm_core.orders import models as orders_models  # noqa: F401
from crm_core.search.models import SearchRefreshQueue, SearchRefreshState
from crm_core.tasks.models import Task

__all__ = [
    "Address",
    "Attachment",
    "AuditEntry",
    "AuthSession",
    "CalendarFeed",
    "BackupRun",
    "ChoiceItem",
    "ChoiceLabel",
    "Client",
    "ClientTag",
    "CustomField",
    "CustomFieldValue",
    "Email",
    "FieldLabel",
    "Handle",
    "ImportJob",
    "ImportMapping",
    "Interaction",
    "LoginAttempt",
    "Phone",
    "SearchRefreshQueue",
    "SearchRefreshState",
    "Task",
    "Team",
    "User",
]
