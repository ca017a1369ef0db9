"""Compensation proposed, approved and paid."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, in_list, utcnow

COMPENSATION_STATES = ("proposed", "approved", "rejected", "paid")


class Compensation(Base):
    __tablename__ = "compensations"
    __table_args__ = (
        CheckConstraint(in_list("status", COMPENSATION_STATES), name="status"),
        CheckConstraint("proposed_amount >= 0", name="proposed_amount"),
        # Four eyes, kept by the database too.
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> proposed_by_id", name="four_eyes"),
        Index("ix_compensations_paid", "status", "paid_at"),  # the reports' payouts per month
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
