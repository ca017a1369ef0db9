"""What the app tells a person: reminders before a task's deadline, alerts to supervisors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_mail_due", "mail_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    # "reminder", "statutory_near", "statutory_breached", "letter_undelivered"
    kind: Mapped[str] = mapped_column(String(40))
    # What the sentence needs (task name, reference, due time, share of the time gone): shown in the
    # reader's language when read, not frozen in the language of whoever caused it.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]  # when the e-mail was handed over
    # The next e-mail attempt (None: nothing more to send: sent, no address, read in the app meanwhile, or
    # stopped after too many failures, which mail_error then tells).
    mail_due_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    mail_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    mail_error: Mapped[str | None] = mapped_column(Text)
