"""SQLAlchemy 2 typed models: no request state, no domain logic."""

from .audit import AuditEvent, Incident
from .base import Base
from .calendars import BusinessCalendar, ClosureDay
from .complaints import Attachment, Customer, Complaint, ReferenceCounter
from .money import Compensation, Letter
from .notifications import Notification
from .process import DefinitionFile, HumanTask, ProcessDefinition, ProcessDraft, WorkflowInstance
from .users import ROLES, ApiToken, AuthorityLimit, LaneRole, User, UserRole

__all__ = [
    "ROLES", "ApiToken", "Attachment", "AuditEvent", "AuthorityLimit", "Base", "BusinessCalendar", "ClosureDay",
    "Compensation", "Complaint", "Customer",
    "DefinitionFile", "HumanTask", "Incident", "LaneRole", "Letter", "Notification", "ProcessDefinition", "ProcessDraft",
    "ReferenceCounter", "User", "UserRole", "WorkflowInstance",
]
