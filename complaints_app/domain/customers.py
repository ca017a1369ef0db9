"""Who a complaint is from. A stored customer is found by e-mail, else by phone; when the details typed
differ from the stored ones (another name, another phone), a person decides whether it is the same
customer, and whether the stored details should take the new ones, instead of the app guessing."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import Complaint, Customer, User
from .access import SEE_ALL
from .errors import Conflict, Forbidden
from .search import visible_to


class CustomerMismatch(Conflict):
    """The e-mail or phone belongs to a stored customer whose other details differ."""

    code = "customer_mismatch"


def _name(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _phone(text: str | None) -> str:
    return re.sub(r"[^\d+]", "", text or "")


def differences(customer: Customer, name: str | None, email: str | None, phone: str | None) -> dict:
    """The details given that differ from the stored ones: {field: {"stored": ..., "given": ...}}.
    Case, spacing and phone punctuation do not count; a detail not given never differs."""
    found = {}
    if name and _name(name) != _name(customer.name):
        found["name"] = {"stored": customer.name, "given": name}
    if email and (customer.email or "").casefold() != email.casefold():
        found["email"] = {"stored": customer.email, "given": email}
    if phone and _phone(phone) != _phone(customer.phone):
        found["phone"] = {"stored": customer.phone, "given": phone}
    return found


def matching_customer(email: str | None, phone: str | None) -> Customer | None:
    customer = None
    if email:
        customer = db.session.scalar(select(Customer).where(Customer.email == email).order_by(Customer.id).limit(1))
    if customer is None and phone:
        customer = db.session.scalar(select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1))
    return customer


def may_change_customer(actor: User, customer: Customer) -> bool:
    """Whether ``actor`` may change a stored customer's details (where their letters go, how they are
    called): only someone who may see every complaint of that customer (``search.visible_to``), so that
    nobody redirects the letters of complaints another team handles."""
    if actor.has_role(*SEE_ALL):
        return True
    theirs = select(func.count()).select_from(Complaint).where(Complaint.customer_id == customer.id)
    seen = select(func.count()).select_from(visible_to(actor).where(Complaint.customer_id == customer.id).subquery())
    return db.session.scalar(theirs) == db.session.scalar(seen)


def customer_for(actor: User, name: str, email: str | None, phone: str | None, language: str, *,
                 chosen: Customer | None = None, same_as: int | None = None, update: bool = False,
                 new: bool = False) -> tuple[Customer, dict]:
    """The customer a new complaint is from, and the stored details changed on the way ({} for none):
    ``chosen`` (picked from a search), else the stored one the e-mail or phone names, else a new one; with
    ``new`` a new one whatever matches (another person sharing a phone, say). When the stored customer's
    details differ from those given, raise CustomerMismatch unless the caller confirmed it is the same
    person (``same_as`` = its id); with ``update`` the stored details then take the ones given, if ``actor``
    may change them (``may_change_customer``; Forbidden otherwise, nothing changed). Flushes."""
    customer = None if new else chosen or matching_customer(email, phone)
    if customer is None:
        customer = Customer(name=name, email=email, phone=phone, language=language)
        db.session.add(customer)
        db.session.flush()
        return customer, {}
    changed = differences(customer, name, email, phone)
    if changed and same_as != customer.id:
        raise CustomerMismatch(
            _("The customer %(name)s is stored with these contact details, but with another %(fields)s. "
              "Is it the same person?", name=customer.name, fields=", ".join(_labels(changed))),
            {"customer": {"id": customer.id, "name": customer.name, "email": customer.email,
                          "phone": customer.phone}, "differences": changed,
             "may_update": may_change_customer(actor, customer)})
    if not (changed and update):
        return customer, {}
    if not may_change_customer(actor, customer):
        raise Forbidden(_("The stored details of %(name)s can be changed only by someone who may see all of "
                          "their complaints: register it for the customer as stored, or ask a supervisor of "
                          "the team that handles them.", name=customer.name))
    for field, values in changed.items():
        setattr(customer, field, values["given"])
    db.session.flush()
    return customer, changed


def _labels(changed: dict) -> list[str]:
    words = {"name": _("name"), "email": _("e-mail"), "phone": _("phone")}
    return [words[field] for field in changed]
