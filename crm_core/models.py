"""Import every crm_core model so that the metadata is complete."""

from crm_core.attachments.models import Attachment
from crm_core.audit.models import AuditEntry
from crm_core.auth.models import AuthSession, LoginAttempt, Team, User
from crm_core.clients.models import Address, Client, ClientTag, Email, Handle, Phone
from crm_core.customfields.models import CustomField, CustomFieldValue, FieldLabel
from crm_core.history.models import ChoiceItem, Interaction
from crm_core.search.models import SearchRefreshQueue, SearchRefreshState
from crm_core.tasks.models import Task

__all__ = [
    "Address",
    "Attachment",
    "AuditEntry",
    "AuthSession",
    "ChoiceItem",
    "Client",
    "ClientTag",
    "CustomField",
    "CustomFieldValue",
    "Email",
    "FieldLabel",
    "Handle",
    "Interaction",
    "LoginAttempt",
    "Phone",
    "SearchRefreshQueue",
    "SearchRefreshState",
    "Task",
    "Team",
    "User",
]
