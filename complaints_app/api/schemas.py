"""Request and response shapes of the JSON API (pydantic: validation and the OpenAPI schemas)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from ..domain.forms import storable
from ..models.base import MAX_ROW_ID
from ..models.complaints import CATEGORIES, CHANNELS, CURRENCIES, JURISDICTIONS, LANGUAGES, REGIMES

Channel = Literal[CHANNELS]  # type: ignore[valid-type]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Jurisdiction = Literal[JURISDICTIONS]  # type: ignore[valid-type]
Regime = Literal[REGIMES]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
Currency = Literal[CURRENCIES]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data):
        """No text anywhere in a request may hold NUL or a lone surrogate (``forms.storable``)."""
        def walk(value):
            if isinstance(value, str) and not storable(value):
                raise ValueError("text contains a character that cannot be stored (NUL or a lone surrogate)")
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(key)
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
        walk(data)
        return data


class AddressIn(Strict):
    street: str = Field(min_length=1, max_length=200)
    postcode: str = Field(min_length=1, max_length=16, description="checked per country: PL 00-001, GB SW1A 1AA, UA 01001")
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 code, e.g. PL")


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    # For the letters' greeting ("Szanowna Pani", "Dear Ms Nowak", "Шановна пані Олено!"); none: a neutral one.
    title: Literal["ms", "mr"] | None = None
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    address: AddressIn | None = Field(default=None, description="where letters go on paper")
    # A stored customer's id: the complaint is theirs even where the details given differ (a 409
    # customer_mismatch names the stored customer, the differences and may_update); with update_details the
    # stored details take the ones given, for a user who may see all of that customer's complaints (else 403).
    id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    update_details: bool = False

    @model_validator(mode="after")
    def _contact(self):
        if not self.email and not self.phone:
            raise ValueError("give the customer's e-mail or phone")
        return self


class ComplaintIn(Strict):
    customer: CustomerIn
    channel: Channel
    category: Category
    description: str = Field(min_length=1, max_length=20000)
    product: str | None = Field(default=None, max_length=200)
    claimed_amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: Currency = "PLN"
    language: Language = "pl"
    jurisdiction: Jurisdiction = "PL"
    regime: Regime = "consumer"
    received_at: AwareDatetime | None = Field(default=None, description="with its time zone; not in the future")
    answer_by: Literal["email", "post"] | None = Field(
        default=None, description="how the customer asked to get our answers (a Polish financial-market entity "
                                  "answers on paper unless they asked for e-mail)")
    quote_description: bool = Field(default=False, description="the description is the customer's own words: "
                                                               "letters may quote it")

    @field_validator("received_at")
    @classmethod
    def _not_future(cls, value):
        if value is not None and value > datetime.now(timezone.utc) + timedelta(minutes=5):
            raise ValueError("a complaint cannot be received in the future")
        if value is not None and value.year < 1900:
            raise ValueError("a complaint cannot be received before 1900")
        return value


class CompleteIn(Strict):
    data: dict[str, Any] = Field(default_factory=dict, description="the form's field values by field id")


class MessageIn(Strict):
    name: str = Field(description="the message the diagram catches, e.g. complaint_withdrawn", max_length=200)
    reason: str = Field(description="why (recorded in the history)", max_length=2000)


class MessageOut(BaseModel):
    name: str
    element_id: str
    element_name: str | None
    interrupting: bool


class FormField(BaseModel):
    id: str
    type: str
    label: str | None
    default: str | None = None
    properties: dict[str, str | None] = {}
    validation: dict[str, str | None] = {}
    options: list[dict[str, str | None]] = []


class TaskOut(BaseModel):
    id: str
    complaint: str
    name: str
    element_id: str
    lane: str | None
    role: str | None
    state: str
    assignee: str | None
    created_at: datetime
    due_at: datetime | None
    form: list[FormField]
    # The process data the task opened with that its diagram shows (property ``show``) or checks.
    context: dict[str, Any] = {}


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: str | None
    element_id: str | None
    element_name: str | None
    data: dict[str, Any] | None


class IncidentOut(BaseModel):
    id: int
    element_id: str | None
    element_name: str | None
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None


class LetterOut(BaseModel):
    id: int
    number: int | None = Field(default=None, description="its number within the complaint: C-2026-000123/<number>")
    letter_type: str
    language: str
    status: str
    channel: str | None = Field(default=None, description="email or post")
    created_at: datetime
    sent_at: datetime | None = None
    posted_on: date | None = None
    returned_at: datetime | None = None
    returned_reason: str | None = None
    # Of a rendered letter: review (waits for a person), queued, retrying, stopped (failed too often),
    # to_post (in the print queue), no_address (no address to send it to); None otherwise.
    delivery_state: str | None = None
    delivery_error: str | None = None


class NoteIn(Strict):
    body: str = Field(min_length=1, max_length=5000, description="for staff only: never shown to the customer")


class NoteOut(BaseModel):
    id: int
    body: str
    author: str | None
    created_at: datetime


class CompensationOut(BaseModel):
    id: int
    status: str
    currency: str
    proposed_amount: Decimal
    approved_by: str | None
    proposed_by: str | None
    payout_reference: str | None


class ComplaintOut(BaseModel):
    reference: str
    status: str
    channel: str
    category: str
    product: str | None
    description: str
    claimed_amount: Decimal | None
    currency: str
    language: str
    jurisdiction: str
    regime: str
    team: str | None
    priority: str | None
    statutory_rule: str | None
    received_at: datetime
    customer: dict[str, Any]
    process_version: int | None = None
    tasks: list[TaskOut] = []
    history: list[EventOut] = []
    letters: list[LetterOut] = []
    compensations: list[CompensationOut] = []
    incidents: list[IncidentOut] = []
    notes: list[NoteOut] = Field(default=[], description="internal notes: for staff only")
    answer_by: str | None = None
    answered_at: datetime | None = Field(default=None, description="when the answer the statutory rule counts went "
                                                                   "out (e-mailed, or posted)")
    messages: list[MessageOut] = Field(default=[], description="what you may record now (e.g. a withdrawal)")
    possible_duplicate_of: str | None = Field(
        default=None, description="the reference of a complaint the same user registered with the same details "
                                  "minutes before or after: keep both or merge (/duplicate/keep, /duplicate/merge)")
    merged_into: str | None = Field(default=None, description="status merged: the complaint it is handled as")


class TaskListOut(BaseModel):
    tasks: list[TaskOut]


class ComplaintSummaryOut(BaseModel):
    reference: str
    status: str
    received_at: datetime
    customer: str
    channel: str
    category: str
    product: str | None
    claimed_amount: Decimal | None
    currency: str
    jurisdiction: str
    team: str | None
    priority: str | None
    statutory_due_on: date | None


class ComplaintListOut(BaseModel):
    complaints: list[ComplaintSummaryOut]
    next_offset: int | None = Field(description="the offset of the next page; null on the last one, and when "
                                                "paging by cursor")
    next_after: str | None = Field(default=None, description="the cursor of the next page (after=); null on the "
                                                             "last one")


class ErrorOut(BaseModel):
    error: dict[str, Any] = Field(description="code, message and details")


class DeadlineOut(BaseModel):
    rule: str
    received: date
    due: date
    explanation: list[str]
    source: str
    consequence: str
