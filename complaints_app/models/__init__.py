"""SQLAlchemy 2 typed models: no request state, no domain logic."""

from .audit import AuditEvent, Incident
from .base import Base
from .calendars import BusinessCalendar, ClosureDay, StatutoryCalendar
from .complaints import Attachment, Customer, Complaint, Note, ReferenceCounter
from .compensations import Compensation
from .letters import Enclosure, Letter, Letterhead, PrintBatch, PublishedText
from .notifications import Notification
from .outbox import OutboxJob
from .process import DefinitionFile, HumanTask, ProcessDefinition, ProcessDraft, WorkflowInstance
from .users import ROLES, ApiToken, AuthorityLimit, LaneRole, User, UserRole

__all__ = [
    "ROLES", "ApiToken", "Attachment", "AuditEvent", "AuthorityLimit", "Base", "BusinessCalendar", "ClosureDay",
    "Compensation", "Complaint", "Customer", "DefinitionFile", "Enclosure", "HumanTask", "Incident", "LaneRole",
    "Letter", "Letterhead", "Note", "Notification", "OutboxJob", "PrintBatch", "ProcessDefinition", "ProcessDraft", "PublishedText",
    "ReferenceCounter", "StatutoryCalendar", "User", "UserRole", "WorkflowInstance",
]
