"""Letters to customers, the company's identity they carry, what goes with them, and the post."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, in_list, utcnow

LETTER_STATES = ("draft", "rendered", "sent", "failed", "withdrawn")
CHANNELS = ("email", "post")  # how a letter reaches the customer
NO_ADDRESS = "no-address"  # delivery_error of a letter that has no address to go to (e-mail or postal)
BATCH_STATES = ("assembling", "ready", "failed")
ADR_PARTICIPATION = ("obliged", "willing", "unwilling")


class Letter(Base):
    """A letter to the customer: one per diagram step; once sent it never changes (a correction is a new
    version of it)."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("complaint_id", "task_id", "version"),
        UniqueConstraint("complaint_id", "number", name="uq_letters_complaint_number"),
        CheckConstraint(in_list("status", LETTER_STATES), name="status"),
        CheckConstraint(f"channel IS NULL OR {in_list('channel', CHANNELS)}", name="channel"),
        Index("ix_letters_to_post", "channel", "status", "posted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    # The diagram step that wrote it (a review task names the step whose letter it reviews).
    element_id: Mapped[str | None] = mapped_column(String(255))
    # The letter's number within its complaint (printed as "C-2026-000123/3"): every letter, corrections too.
    number: Mapped[int | None]
    letter_type: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    context: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    template_version: Mapped[int | None]
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # How it goes (decided when it is rendered, by the law of the complaint and the customer's request).
    channel: Mapped[str | None] = mapped_column(String(8))
    # Who answers: the person named (with their position) under the letter.
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Delivery by e-mail: at least once, always under the same Message-ID.
    message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    delivery_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    delivery_error: Mapped[str | None] = mapped_column(Text)
    # Failed hand-overs since the last success or request to send: the next pause grows with it, and at
    # the limit the letter stops (next_attempt_at None) for a person to post it or send it again.
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # Delivery by post: the print run it went into, the day it was posted (what stops a Polish financial
    # entity's clock) and, if it came back, when and why.
    print_batch_id: Mapped[int | None] = mapped_column(ForeignKey("print_batches.id"), index=True)
    posted_on: Mapped[date | None] = mapped_column(Date)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None]
    returned_reason: Mapped[str | None] = mapped_column(Text)
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
        "no_address", "to_post" (in the print queue) (None for drafts, sent, failed and withdrawn letters)."""
        if self.status != "rendered":
            return None
        if self.waits_for_review:
            return "review"
        if self.channel == "post":
            return "no_address" if self.delivery_error == NO_ADDRESS else "to_post"
        if self.next_attempt_at is not None:
            return "retrying" if self.failed_attempts else "queued"
        return "no_address" if self.delivery_error == NO_ADDRESS else "stopped"


class Letterhead(Base):
    """Who the company is in one country: what its letters carry at the top and the bottom, who signs
    where the law wants the head to sign, and the bodies its letters point the customer to."""

    __tablename__ = "letterheads"
    __table_args__ = (
        CheckConstraint(f"adr_participation IS NULL OR {in_list('adr_participation', ADR_PARTICIPATION)}",
                        name="adr_participation"),
    )

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(200))
    # Registration numbers by key (KRS, NIP, ...; company_number, fca_frn; edrpou): which keys a country
    # has is ``domain.letterheads.REGISTRATION``.
    registration: Mapped[dict] = mapped_column(JSON, default=dict)
    # The person who signs where no handler does (the head, in Ukraine), and their position per language.
    signatory_name: Mapped[str | None] = mapped_column(String(200))
    signatory_position: Mapped[dict] = mapped_column(JSON, default=dict)
    # The out-of-court body for consumer disputes and whether the company takes part (PL art. 32 of the
    # Act of 23 September 2016; GB ADR Regulations 2015 reg. 19).
    adr_name: Mapped[str | None] = mapped_column(String(200))
    adr_website: Mapped[str | None] = mapped_column(String(200))
    adr_participation: Mapped[str | None] = mapped_column(String(12))
    # GB: whether the firm consents to the Financial Ombudsman considering complaints referred late.
    fos_waiver_consent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where an appeal goes beyond the company (Ukraine: the body above it), per language.
    appeal_body: Mapped[dict] = mapped_column(JSON, default=dict)
    # Seeded by ``complaints init`` with example data until an administrator replaces it.
    is_example: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Enclosure(Base):
    """A document that goes with certain letters (the Financial Ombudsman's leaflet), uploaded by an admin
    and kept in the letters' store by its SHA-256."""

    __tablename__ = "enclosures"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    pages: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PrintBatch(Base):
    """One print run: the letters to post, each followed by its enclosures, in one PDF."""

    __tablename__ = "print_batches"
    __table_args__ = (
        UniqueConstraint("day", "sequence"),
        CheckConstraint(in_list("status", BATCH_STATES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    sequence: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default="assembling")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    letter_count: Mapped[int] = mapped_column(default=0)
    page_count: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    assembled_at: Mapped[datetime | None]


class PublishedText(Base):
    """A text the company publishes (the complaints procedure at /standards), per language, in Markdown."""

    __tablename__ = "published_texts"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
