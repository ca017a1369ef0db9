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
from .addresses import clean_address
from .errors import Conflict, Forbidden, InvalidInput
from .search import visible_to


class CustomerMismatch(Conflict):
    """The e-mail or phone belongs to a stored customer whose other details differ."""

    code = "customer_mismatch"


def _name(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _phone(text: str | None) -> str:
    return re.sub(r"[^\d+]", "", text or "")


SALUTATION = ("title", "given_name", "family_name")
ADDRESS = ("street", "postcode", "city", "country")


def written_address(values) -> str:
    """An address as one line (for the question whether it is the same customer)."""
    get = values.get if isinstance(values, dict) else (lambda key: getattr(values, key))
    parts = [get("street"), f"{get('postcode') or ''} {get('city') or ''}".strip(), get("country")]
    return ", ".join(p for p in parts if p)


def differences(customer: Customer, name: str | None, email: str | None, phone: str | None,
                address: dict | None = None) -> dict:
    """The details given that differ from the stored ones: {field: {"stored": ..., "given": ...}}.
    Case, spacing and phone punctuation do not count; a detail not given never differs. A postal address
    given differs from none stored: where letters go is never set without the question."""
    found = {}
    if address and written_address(address).casefold() != written_address(customer).casefold():
        found["address"] = {"stored": written_address(customer) or None, "given": written_address(address)}
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
                 details: dict | None = None, chosen: Customer | None = None, same_as: int | None = None,
                 update: bool = False, new: bool = False) -> tuple[Customer, dict]:
    """The customer a new complaint is from, and the stored details changed on the way ({} for none):
    ``chosen`` (picked from a search), else the stored one the e-mail or phone names, else a new one; with
    ``new`` a new one whatever matches (another person sharing a phone, say). When the stored customer's
    details differ from those given, raise CustomerMismatch unless the caller confirmed it is the same
    person (``same_as`` = its id); with ``update`` the stored details then take the ones given, if ``actor``
    may change them (``may_change_customer``; Forbidden otherwise, nothing changed). ``details`` are the
    salutation (title, given and family name: filled in where none is stored) and the postal address (an
    address like any other detail). Flushes."""
    details = details or {}
    address = {key: details[key] for key in ADDRESS if details.get(key)}
    customer = None if new else chosen or matching_customer(email, phone)
    if customer is None:
        customer = Customer(name=name, email=email, phone=phone, language=language,
                            **{key: details.get(key) for key in (*SALUTATION, *ADDRESS)})
        db.session.add(customer)
        db.session.flush()
        return customer, {}
    for key in SALUTATION:  # how to greet them: filled in, never a reason to ask
        if details.get(key) and not getattr(customer, key):
            setattr(customer, key, details[key])
    changed = differences(customer, name, email, phone, address or None)
    if changed and same_as != customer.id:
        raise CustomerMismatch(
            _("The customer %(name)s is stored with these contact details, but with another %(fields)s. "
              "Is it the same person?", name=customer.name, fields=", ".join(_labels(changed))),
            {"customer": {"id": customer.id, "name": customer.name, "email": customer.email,
                          "phone": customer.phone, "address": written_address(customer) or None},
             "differences": changed,
             "may_update": may_change_customer(actor, customer)})
    if not (changed and update):
        return customer, {}
    if not may_change_customer(actor, customer):
        raise Forbidden(_("The stored details of %(name)s can be changed only by someone who may see all of "
                          "their complaints: register it for the customer as stored, or ask a supervisor of "
                          "the team that handles them.", name=customer.name))
    for field, values in changed.items():
        if field == "address":
            for key in ADDRESS:
                setattr(customer, key, address.get(key))
        else:
            setattr(customer, field, values["given"])
    for key in SALUTATION:
        if details.get(key):
            setattr(customer, key, details[key])
    db.session.flush()
    return customer, changed


def _labels(changed: dict) -> list[str]:
    words = {"name": _("name"), "email": _("e-mail"), "phone": _("phone"), "address": _("postal address")}
    return [words[field] for field in changed]


def change_contact(actor: User, complaint: Complaint, values: dict) -> dict:
    """Change the customer's e-mail, phone, postal address or salutation from a complaint's page (after post
    came back, say): only for someone who may see all of that customer's complaints. Returns what changed."""
    customer = complaint.customer
    if not may_change_customer(actor, customer):
        raise Forbidden(_("The stored details of %(name)s can be changed only by someone who may see all of "
                          "their complaints.", name=customer.name))
    address = clean_address(values.get("street"), values.get("postcode"), values.get("city"), values.get("country"))
    email = (values.get("email") or "").strip() or None
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(_("Not an e-mail address."), {"fields": {"email": _("Not an e-mail address.")}})
    title = values.get("title") or None
    if title not in (None, "ms", "mr"):
        raise InvalidInput(_("Choose how to address the customer."))
    wanted = {"email": email, "phone": (values.get("phone") or "").strip()[:40] or None, "title": title,
              "given_name": " ".join((values.get("given_name") or "").split())[:100] or None,
              "family_name": " ".join((values.get("family_name") or "").split())[:100] or None,
              **({key: getattr(address, key) for key in ADDRESS} if address else dict.fromkeys(ADDRESS))}
    changed = {key: {"stored": getattr(customer, key), "given": value} for key, value in wanted.items()
               if getattr(customer, key) != value}
    if not wanted["email"] and not wanted["phone"]:
        raise InvalidInput(_("Give the customer's e-mail or phone."))
    for key, value in changed.items():
        setattr(customer, key, value["given"])
    db.session.flush()
    return changed
