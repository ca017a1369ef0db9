"""Customers and their complaints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, false,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, in_list, utcnow

STATUSES = ("open", "escalated", "awaiting_customer", "resolved", "closed", "withdrawn", "merged")
# Nothing more happens to a complaint in these ("merged": registered twice, handled as the other one).
CLOSED_STATUSES = ("closed", "withdrawn", "merged")
OPEN_ONLY = "status IN ('open', 'escalated', 'awaiting_customer')"
CHANNELS = ("phone", "email", "web", "chat", "letter", "in_person")
CATEGORIES = ("product", "service", "billing", "delivery", "staff", "other")
JURISDICTIONS = ("PL", "GB", "UA")
REGIMES = ("consumer", "financial", "payment_services")
LANGUAGES = ("pl", "en", "uk")
CURRENCIES = ("PLN", "EUR", "GBP", "UAH")
TITLES = ("ms", "mr")  # how a customer is addressed; none: a neutral salutation
ANSWER_CHANNELS = ("email", "post")


def trigram_index(table: str, column: str) -> Index:
    """A trigram index for "contains" searches (ILIKE '%word%') on PostgreSQL, which has no Polish or
    Ukrainian full-text configuration; none on SQLite."""
    return Index(f"ix_{table}_{column}_trgm", column, postgresql_using="gin",
                 postgresql_ops={column: "gin_trgm_ops"}).ddl_if(dialect="postgresql")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint(f"title IS NULL OR {in_list('title', TITLES)}", name="title"),
                      trigram_index("customers", "name"), trigram_index("customers", "email"),
                      trigram_index("customers", "phone"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(8), default="pl")
    # For the salutation ("Szanowna Pani", "Dear Ms Nowak", "Шановна пані Олено!"); empty: a neutral one.
    title: Mapped[str | None] = mapped_column(String(4))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    # The postal address letters go to (validated per country: ``domain.addresses``).
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def has_postal_address(self) -> bool:
        return bool(self.street and self.postcode and self.city and self.country)


class ReferenceCounter(Base):
    """The last complaint number issued in a year; updated in the registering transaction (gap-free)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("year", "number"),
        CheckConstraint(in_list("status", STATUSES), name="status"),
        CheckConstraint(in_list("channel", CHANNELS), name="channel"),
        CheckConstraint(in_list("category", CATEGORIES), name="category"),
        CheckConstraint(in_list("jurisdiction", JURISDICTIONS), name="jurisdiction"),
        CheckConstraint(in_list("regime", REGIMES), name="regime"),
        CheckConstraint(in_list("language", LANGUAGES), name="language"),
        CheckConstraint("claimed_amount IS NULL OR claimed_amount >= 0", name="claimed_amount"),
        Index("ix_complaints_status_received", "status", "received_at"),
        UniqueConstraint("intake_key", "created_by_id"),  # a key is per registering user
        CheckConstraint(f"answer_by IS NULL OR {in_list('answer_by', ANSWER_CHANNELS)}", name="answer_by"),
        Index("ix_complaints_content", "created_by_id", "content_hash"),
        Index("ix_complaints_received", "received_at", "id"),  # the list, newest first, paged by cursor
        # The open ones by statutory deadline (the at-risk page): 2 % of the table, not all of it.
        Index("ix_complaints_open_statutory", "statutory_due_on", postgresql_where=text(OPEN_ONLY),
              sqlite_where=text(OPEN_ONLY)),
        trigram_index("complaints", "reference"), trigram_index("complaints", "description"),
        trigram_index("complaints", "product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    number: Mapped[int]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    product: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    claimed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(8))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    regime: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    team: Mapped[str | None] = mapped_column(String(80), index=True)
    priority: Mapped[str | None] = mapped_column(String(16))
    statutory_rule: Mapped[str | None] = mapped_column(String(40))
    # The last day to answer under the statutory rule, counted at triage (see domain/deadlines.py).
    statutory_due_on: Mapped[date | None] = mapped_column(index=True)
    # The company's own resolution target, in working hours of the complaint's calendar (counted at triage).
    resolution_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # When the statutory clock needs a look next (the warning, then the breach); None when it is stopped.
    clock_next_at: Mapped[datetime | None] = mapped_column(index=True)
    statutory_warned_at: Mapped[datetime | None]
    statutory_breached_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    satisfaction_score: Mapped[int | None]
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    # The key a registering client sent so that sending the registration again is safe (the API's
    # Idempotency-Key, the web form's token), with a hash of what it sent: the same key gives this complaint back.
    intake_key: Mapped[str | None] = mapped_column(String(100))
    intake_hash: Mapped[str | None] = mapped_column(String(64))
    # How the customer asked to get our answers (a Polish financial entity answers on paper unless the
    # customer asked for e-mail, art. 5 of the Act of 5 August 2015); None: as the law and the address give.
    answer_by: Mapped[str | None] = mapped_column(String(8))
    answer_by_recorded_at: Mapped[datetime | None]
    answer_by_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Whether the description is the customer's own words that letters may quote back (never by default).
    quote_description: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When the answer that satisfies the statutory rule left: e-mailed, or posted (the day posted). The
    # statutory clock runs until then.
    answered_at: Mapped[datetime | None]
    # What was registered (customer, channel, category, description, product, amount), hashed: the same
    # registration by the same person a few minutes later is marked as a possible duplicate on both
    # (``possible_duplicate_id``, the other one) until staff keep both or merge one into the other
    # (``merged_into_id``, status "merged").
    content_hash: Mapped[str | None] = mapped_column(String(64))
    possible_duplicate_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))

    customer: Mapped[Customer] = relationship()


class Note(Base):
    """An internal note on a complaint: for the people handling it, never shown or sent to the customer."""

    __tablename__ = "notes"
    __table_args__ = (trigram_index("notes", "body"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)


class Attachment(Base):
    """A file sent with a complaint: kept outside the row, named by its SHA-256 (identical files stored once)."""

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_bytes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
