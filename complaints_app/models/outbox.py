"""Jobs asked for and not yet done: the record that a message for them is on its way to a worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class OutboxJob(Base):
    """One job (``render_letter`` of letter 12) between the transaction that asked for it and the worker
    that does it. Written with that transaction; deleted by the job when it runs. While it exists, no new
    message is sent for the same job; ``resend_at`` is when the sweep sends one again, in case the first
    was lost (each later than the one before)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("job", "argument"),
        Index("ix_outbox_resend_at", "resend_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    argument: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime]
    sends: Mapped[int] = mapped_column(default=1)
    resend_at: Mapped[datetime]
