"""Compensation and letters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, in_list, utcnow

COMPENSATION_STATES = ("proposed", "approved", "rejected", "paid")
LETTER_STATES = ("draft", "rendered", "sent", "failed")
NO_ADDRESS = "no-address"  # delivery_error of a letter to a customer without an e-mail address


class Compensation(Base):
    __tablename__ = "compensations"
    __table_args__ = (
        CheckConstraint(in_list("status", COMPENSATION_STATES), name="status"),
        CheckConstraint("proposed_amount >= 0", name="proposed_amount"),
        # Four eyes, kept by the database too.
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> proposed_by_id", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    currency: Mapped[str] = mapped_column(String(3))
    proposed_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    dmn_proposed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    required_role: Mapped[str | None] = mapped_column(String(32))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]
    paid_on: Mapped[date | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payout_reference: Mapped[str | None] = mapped_column(String(100))


class Letter(Base):
    """A letter to the customer: one per diagram step; once sent it never changes (a correction is a new
    version of it)."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("complaint_id", "task_id", "version"),
        CheckConstraint(in_list("status", LETTER_STATES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    letter_type: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    context: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    template_version: Mapped[int | None]
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # Delivery by e-mail: at least once, always under the same Message-ID.
    message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    delivery_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    delivery_error: Mapped[str | None] = mapped_column(Text)
    # Failed hand-overs since the last success or request to send: the next pause grows with it, and at
    # the limit the letter stops (next_attempt_at None) for a person to post it or send it again.
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Version 1 comes from the diagram's step; a correction of a sent letter is the next version.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    # A step whose diagram asks for review (``review=true``): a person reads it before it goes out.
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]

    @property
    def waits_for_review(self) -> bool:
        return self.needs_review and self.reviewed_at is None

    @property
    def delivery_state(self) -> str | None:
        """Where a rendered letter's delivery stands: "review", "queued", "retrying", "stopped",
        "no_address" (None for drafts, sent and failed letters)."""
        if self.status != "rendered":
            return None
        if self.waits_for_review:
            return "review"
        if self.next_attempt_at is not None:
            return "retrying" if self.failed_attempts else "queued"
        return "no_address" if self.delivery_error == NO_ADDRESS else "stopped"
