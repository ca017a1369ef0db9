"""Register complaints and read them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from flask_babel import gettext as _

from ..extensions import db
from ..models import Complaint, Customer, Letter, ReferenceCounter, User
from ..models.base import MAX_ROW_ID, utcnow
from .access import require_role, require_view
from .customers import matching_customer
from .deadline_extensions import extend_deadline
from .driver import start_workflow, update_process_data
from .duplicates import content_digest, mark_if_duplicate
from .errors import Conflict, InvalidInput, NotFound
from .processes import process_data
from .search import visible_to
from .this_transaction import registered_here


def next_reference(year: int) -> tuple[int, str]:
    """Take the next number of ``year`` inside this transaction: a rollback gives it back (gap-free)."""
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    counters = ReferenceCounter.__table__
    # One statement: the year's first number, or the next one under the row's lock.
    taken = dialect_insert(counters).values(year=year, last_number=1)
    number = db.session.connection().execute(
        taken.on_conflict_do_update(index_elements=["year"], set_={"last_number": counters.c.last_number + 1})
        .returning(counters.c.last_number)).scalar_one()
    return number, f"C-{year}-{number:06d}"


def find_or_create_customer(name: str, email: str | None, phone: str | None, language: str) -> Customer:
    """The stored customer the e-mail or phone names, whatever its other details (seeds, the simulation);
    people registering go through ``customers.customer_for``, which asks when the details differ."""
    customer = matching_customer(email, phone)
    if customer is None:
        customer = Customer(name=name, email=email, phone=phone, language=language)
        db.session.add(customer)
        db.session.flush()
    return customer


@dataclass(frozen=True)
class Intake:
    """A client's key for one registration, and a digest of what it sent with it."""

    key: str
    digest: str | None = None

    @classmethod
    def of(cls, key: str, payload=None) -> Intake:
        """Checks the key (1 to 100 visible ASCII characters; InvalidInput otherwise)."""
        if not (0 < len(key) <= 100 and key.isascii() and key.isprintable() and key.strip() == key):
            raise InvalidInput(_("an idempotency key is 1 to 100 visible ASCII characters"))
        digest = None if payload is None else hashlib.sha256(
            json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
        return cls(key, digest)


class IntakeKeyReused(Conflict):
    """The key came with other data than the registration it was first used for."""

    code = "idempotency_key_reused"


def registered_before(actor: User, intake: Intake) -> Complaint | None:
    """The complaint ``actor`` registered with this key already, if any. Sent with other data, the key is a
    mistake and raises Conflict (code ``idempotency_key_reused``): nothing is registered twice or overwritten."""
    earlier = db.session.scalar(select(Complaint).where(Complaint.intake_key == intake.key,
                                                        Complaint.created_by_id == actor.id))
    if earlier is not None and intake.digest is not None and earlier.intake_hash != intake.digest:
        raise IntakeKeyReused(_("this idempotency key was used for another registration (%(reference)s); "
                                "send a new key for a new complaint", reference=earlier.reference),
                              {"reference": earlier.reference})
    return earlier


def register_complaint(actor: User, *, customer: Customer, channel: str, category: str, description: str,
                       currency: str, language: str, jurisdiction: str, regime: str,
                       product: str | None = None, claimed_amount: Decimal | None = None,
                       received_at: datetime | None = None, extra_data: dict | None = None,
                       customer_changes: dict | None = None, intake: Intake | None = None,
                       answer_by: str | None = None, quote_description: bool = False,
                       check_duplicates: bool = False) -> Complaint:
    """Register a complaint, give it its reference and start its process (acknowledgement, triage).
    ``customer_changes`` (from ``customers.customer_for``) are the stored details the registration changed;
    ``intake`` the client's key for this registration (``registered_before`` finds it again); ``answer_by``
    how the customer asked to get our answers ("email", "post"; art. 5 of the Polish Act of 5 August 2015);
    ``quote_description`` whether the description is their own words that letters may quote;
    ``check_duplicates`` whether to mark it and the same registration by ``actor`` minutes before as possible
    duplicates (a registration without the client's own key)."""
    require_role(actor, "staff", "supervisor", "customer_centre", "admin")
    now = utcnow()
    number, reference = next_reference(now.year)
    complaint = Complaint(
        reference=reference, year=now.year, number=number, customer_id=customer.id, customer=customer,
        channel=channel, category=category, product=product, description=description,
        claimed_amount=claimed_amount, currency=currency, language=language, jurisdiction=jurisdiction,
        regime=regime, status="open", received_at=received_at or now, created_by_id=actor.id,
        intake_key=intake.key if intake else None, intake_hash=intake.digest if intake else None,
        answer_by=answer_by, answer_by_recorded_at=now if answer_by else None,
        answer_by_recorded_by_id=actor.id if answer_by else None, quote_description=quote_description,
        content_hash=content_digest(customer.id, channel, category, description, product, claimed_amount,
                                    currency, jurisdiction, regime),
    )
    db.session.add(complaint)
    db.session.flush()
    registered_here(complaint.id)
    plain = dict.fromkeys(("definition_id", "element_id", "element_name", "element_type", "task_id"))
    first = [{**plain, "kind": "complaint_registered", "data": {"reference": reference, "channel": channel}}]
    if customer_changes:
        first.append({**plain, "kind": "customer_updated",
                      "data": {"customer": customer.id, "changes": customer_changes}})
    start_workflow(complaint, actor, {**process_data(complaint), **(extra_data or {})}, first=first)
    if check_duplicates:
        mark_if_duplicate(actor, complaint)
    return complaint


def get_complaint(reference_or_id: str | int) -> Complaint:
    text = str(reference_or_id)
    if text.isascii() and text.isdigit():
        complaint = db.session.get(Complaint, int(text)) if int(text) <= MAX_ROW_ID else None
    else:
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference_or_id))
    if complaint is None:
        raise NotFound(_("no complaint %(reference)s", reference=reference_or_id))
    return complaint


def find_customers(text: str, limit: int = 10) -> list[Customer]:
    """Customers whose name, e-mail or phone contains ``text`` (taken literally: ``%`` and ``_`` are not
    wildcards, so the search cannot list every customer)."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    return list(db.session.scalars(select(Customer).where(
        Customer.name.icontains(text, autoescape=True) | Customer.email.icontains(text, autoescape=True)
        | Customer.phone.icontains(text, autoescape=True)).order_by(Customer.name).limit(limit)))


@dataclass
class Recent:
    """A customer's recent complaints as one viewer may know them: those they may open, and how many
    others exist (handled by teams the viewer does not see)."""

    visible: list[Complaint]
    hidden: int

    def __bool__(self) -> bool:
        return bool(self.visible) or self.hidden > 0


def recent_complaints(actor: User, customer: Customer, days: int = 30, exclude: int | None = None,
                      product: str | None = None) -> Recent:
    """The customer's complaints of the last ``days`` days (newest first), optionally about ``product``."""
    since = utcnow() - timedelta(days=days)
    conditions = [Complaint.customer_id == customer.id, Complaint.received_at >= since]
    if exclude is not None:
        conditions.append(Complaint.id != exclude)
    if product is not None:
        conditions.append(func.lower(func.trim(Complaint.product)) == product.strip().lower())
    visible = list(db.session.scalars(visible_to(actor).where(*conditions).order_by(Complaint.received_at.desc())))
    total = db.session.scalar(select(func.count()).select_from(Complaint).where(*conditions))
    return Recent(visible, total - len(visible))


def extend_by_hand(actor: User, complaint: Complaint, reasons: str, circumstances: str = "",
                   expected_on: str | None = None) -> Letter:
    """Extend the statutory deadline from the complaint page (a supervisor, the customer centre or an admin):
    the extension and its notice, and the process told its new rule and deadline."""
    require_role(actor, "supervisor", "customer_centre", "admin")
    require_view(actor, complaint)
    letter = extend_deadline(actor, complaint, reasons, circumstances, expected_on)
    update_process_data(complaint, actor, {"statutory_rule": complaint.statutory_rule,
                                           "statutory_due": complaint.statutory_due_on.isoformat()},
                        "deadline_extended")
    return letter
