"""Deployed process versions, running workflow instances and the open-task projection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, in_list, utcnow

TASK_STATES = ("open", "completed", "cancelled")


class ProcessDefinition(Base):
    """One immutable deployed version of a process: its files, stored once, and its compiled spec."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    # Large: loaded only when a process needs them (the runtime caches the parsed spec per version).
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    elements: Mapped[dict] = mapped_column(JSON, deferred=True)
    comment: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    files: Mapped[list[DefinitionFile]] = relationship(
        back_populates="definition", cascade="all, delete-orphan", order_by="DefinitionFile.filename"
    )

    @property
    def cache_key(self) -> str:
        return self.key_for(self.id, self.content_hash)

    @staticmethod
    def key_for(definition_id: int, content_hash: str) -> str:
        """What the runtime caches a version's parsed spec under."""
        return f"{definition_id}:{content_hash}"


class DefinitionFile(Base):
    __tablename__ = "definition_files"
    __table_args__ = (UniqueConstraint("definition_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    definition: Mapped[ProcessDefinition] = relationship(back_populates="files")


class WorkflowInstance(Base):
    """The saved engine state of one complaint's process; ``lock_version`` guards concurrent saves."""

    __tablename__ = "workflow_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(40))
    lock_version: Mapped[int] = mapped_column(default=1)
    next_timer_due_at: Mapped[datetime | None] = mapped_column(index=True)
    is_completed: Mapped[bool] = mapped_column(default=False)
    has_incident: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    definition: Mapped[ProcessDefinition] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A task for a person, projected from the engine on every save (inboxes read this table)."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        CheckConstraint(in_list("state", TASK_STATES), name="state"),
        Index("ix_human_tasks_open_role", "state", "role"),
        Index("ix_human_tasks_open_assignee", "state", "assignee_id"),
        # Who was given or did a task: which complaints a person may see for it (search.visible_to).
        Index("ix_human_tasks_assignee", "assignee_id", "complaint_id"),
        Index("ix_human_tasks_completed_by", "completed_by_id", "complaint_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(32))
    form: Mapped[list] = mapped_column(JSON)
    properties: Mapped[dict] = mapped_column(JSON)
    # The process data the task's rules name (``*_var`` properties): what queues show and check.
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Reminders at fractions of the time between created_at and due_at (see domain/reminders.py).
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")


class ProcessDraft(Base):
    """A diagram being redrawn in the browser: every file of a version, edited, not yet deployed."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
    files: Mapped[dict] = mapped_column(JSON)  # file name -> XML text
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deployed_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
