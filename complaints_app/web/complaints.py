"""Complaints: register, browse with filters (and CSV), one complaint's whole story with its diagram."""

from __future__ import annotations

import secrets
from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..domain.access import require_role, require_view
from ..domain.addresses import clean_address, countries
from ..domain.attachments import add_attachment, open_attachment, read_upload
from ..domain.complaints import (
    Intake,
    extend_by_hand,
    find_customers,
    get_complaint,
    recent_complaints,
    register_complaint,
    registered_before,
)
from ..domain.customers import CustomerMismatch, change_contact, customer_for, may_change_customer
from ..domain.deadlines import RULES, extension_of, receipt_date
from ..domain.deadlines import compute as compute_deadline
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.audit import audit
from ..domain.letter_delivery import channel_for, set_answer_channel
from ..domain.notes import add_note, notes_of
from ..domain.messages import available_messages, send_message
from ..domain.search import Cursor, Filters, at_risk, every_match, page_of, stuck_among
from ..domain.tasks import retry_incident
from ..domain.views import complaint_story, diagram_position, usernames
from ..extensions import db
from ..domain.forms import parse_amount, storable
from ..unit_of_work import idempotent
from ..models import Attachment, Complaint, Customer, Incident, User
from ..models.base import utcnow
from .export import csv_lines
from .terms import choices
from ..models.complaints import CATEGORIES, CHANNELS, CURRENCIES, JURISDICTIONS, LANGUAGES, REGIMES, STATUSES

bp = Blueprint("complaints", __name__)
REGISTER_ROLES = ("staff", "supervisor", "customer_centre", "admin")


def _choices(values):
    return [SelectChoice(v, v.replace("_", " ")) for v in values]


class AmountField(StringField):
    """Money as people type it (1500,50 · 1 500,50 · 1500.50), shown as typed; ``data`` is a Decimal. Not an
    ``<input type=number>``: a browser there drops a decimal comma without a word (1500,50 became 150050)."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw.strip():
            self.data = parse_amount(self.raw)  # a ValueError becomes the field's error

    def _value(self):
        return getattr(self, "raw", None) or ("" if self.data is None else f"{self.data:.2f}")


class ComplaintForm(FlaskForm):
    # One per form shown: the same form sent twice (a double click, a reload after a timeout) registers once.
    intake_key = HiddenField(validators=[Optional(), Length(max=100)])
    customer_name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=200)])
    customer_title = SelectField(_l("How to address them"), choices=[
        SelectChoice("", _l("— (a neutral greeting)")), SelectChoice("ms", _l("Ms (Pani, пані)")),
        SelectChoice("mr", _l("Mr (Pan, пан)"))], default="")
    customer_given_name = StringField(_l("Given name"), validators=[Optional(), Length(max=100)])
    customer_family_name = StringField(_l("Family name"), validators=[Optional(), Length(max=100)])
    customer_email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    customer_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    customer_street = StringField(_l("Street and number"), validators=[Optional(), Length(max=200)])
    customer_postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=16)])
    customer_city = StringField(_l("Town"), validators=[Optional(), Length(max=100)])
    customer_country = SelectField(_l("Country"), choices=[], default="PL")
    answer_by_email = BooleanField(_l("The customer asked for our answers by e-mail"))
    quote_description = BooleanField(_l("The description is the customer's own words: our letters may quote it"))
    channel = SelectField(_l("Channel"), choices=choices("channel", CHANNELS), default="phone")
    category = SelectField(_l("Category"), choices=choices("category", CATEGORIES))
    product = StringField(_l("Product or order"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=20000)])
    claimed_amount = AmountField(_l("Amount claimed"), validators=[Optional()])
    currency = SelectField(_l("Currency"), choices=_choices(CURRENCIES))
    language = SelectField(_l("Customer's language"), choices=choices("language", LANGUAGES))
    jurisdiction = SelectField(_l("Jurisdiction"), choices=_choices(JURISDICTIONS))
    regime = SelectField(_l("Regime"), choices=choices("regime", REGIMES))
    received_at = DateTimeLocalField(_l("Received (local time; empty for now)"), validators=[Optional()],
                                     format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_country.choices = [SelectChoice(code, name) for code, name in countries()]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        try:
            self.address = clean_address(self.customer_street.data, self.customer_postcode.data,
                                         self.customer_city.data, self.customer_country.data)
        except InvalidInput as err:
            for part, message in err.details["address"].items():
                getattr(self, f"customer_{part}").errors = [*getattr(self, f"customer_{part}").errors, message]
            ok = False
        if self.answer_by_email.data and not self.customer_email.data:
            self.answer_by_email.errors = [*self.answer_by_email.errors,
                                           _("Give the e-mail address the customer asked us to write to.")]
            ok = False
        for field in self:
            if isinstance(field.data, str) and not storable(field.data):
                field.errors = [*field.errors, _("contains a character that cannot be stored")]
                ok = False
        amount = self.claimed_amount.data
        if amount is not None and not 0 <= amount <= 10**11:
            self.claimed_amount.errors.append(_("The amount must be from 0 to 100,000,000,000."))
            ok = False
        if not self.customer_email.data and not self.customer_phone.data:
            self.customer_phone.errors.append(_("Give the customer's e-mail or phone."))
            ok = False
        if self.received_at.data and self.received_utc() > utcnow() + timedelta(minutes=5):
            self.received_at.errors.append(_("A complaint cannot be received in the future."))
            ok = False
        return ok

    def received_utc(self):
        """The receipt time typed in the office's time zone, in UTC (now when left empty)."""
        if not self.received_at.data:
            return None
        zone = ZoneInfo(str(get_timezone()))  # zoneinfo: pytz zones must not go into replace()
        return self.received_at.data.replace(tzinfo=zone).astimezone(timezone.utc)


@bp.route("/complaints/new", methods=["GET", "POST"])
@login_required
@idempotent
def new():
    """Register a complaint: a new customer or one found by name, e-mail or phone; files attached."""
    require_role(current_user, *REGISTER_ROLES)
    chosen = _chosen_customer()
    form = ComplaintForm()
    if chosen is not None and request.method == "GET":
        form.customer_name.data, form.customer_email.data = chosen.name, chosen.email
        form.customer_phone.data, form.language.data = chosen.phone, chosen.language
        form.customer_title.data = chosen.title or ""
        form.customer_given_name.data, form.customer_family_name.data = chosen.given_name, chosen.family_name
        form.customer_street.data, form.customer_postcode.data = chosen.street, chosen.postcode
        form.customer_city.data, form.customer_country.data = chosen.city, chosen.country or "PL"
    if not form.intake_key.data:
        form.intake_key.data = secrets.token_urlsafe(18)
    uploads, upload_error = _uploads() if request.method == "POST" else ([], None)
    if form.validate_on_submit() and upload_error is None:
        intake = Intake.of(form.intake_key.data)
        if (earlier := registered_before(current_user, intake)) is not None:
            return _sent_twice(earlier)
        same_as, update, new = _customer_choice(form)
        details = {"title": form.customer_title.data or None,
                   "given_name": " ".join((form.customer_given_name.data or "").split()) or None,
                   "family_name": " ".join((form.customer_family_name.data or "").split()) or None,
                   **(vars(form.address) if form.address else {})}
        try:
            customer, changed = customer_for(
                current_user, form.customer_name.data.strip(), form.customer_email.data or None,
                form.customer_phone.data or None, form.language.data, details=details, chosen=chosen,
                same_as=same_as, update=update, new=new)
        except CustomerMismatch as err:  # the form comes back with the question; nothing is registered
            return _new_page(form, chosen, None, mismatch=err, had_files=bool(uploads)), 409
        except Forbidden as err:  # storing the details typed was not theirs to do; nothing is registered
            flash(err.message, "error")
            return _new_page(form, chosen, None, had_files=bool(uploads)), 403
        # The same form sent twice at once: one registers, the other loses the race on its key and, run
        # again by the door (``idempotent``), finds it registered.
        complaint = register_complaint(
            current_user, customer=customer, channel=form.channel.data, category=form.category.data,
            description=form.description.data, product=form.product.data or None,
            claimed_amount=form.claimed_amount.data, currency=form.currency.data, language=form.language.data,
            jurisdiction=form.jurisdiction.data, regime=form.regime.data, received_at=form.received_utc(),
            customer_changes=changed, intake=intake, answer_by="email" if form.answer_by_email.data else None,
            quote_description=form.quote_description.data, check_duplicates=True)
        for upload in uploads:
            add_attachment(current_user, complaint, upload)
        flash(_("Registered %(reference)s; the acknowledgement is on its way.", reference=complaint.reference), "info")
        if complaint.product and complaint.product.strip():
            _flash_same_product(recent_complaints(current_user, customer, exclude=complaint.id,
                                                  product=complaint.product))
        return redirect(url_for("complaints.show", reference=complaint.reference))
    return _new_page(form, chosen, upload_error), 400 if form.errors or upload_error else 200


def _sent_twice(earlier: Complaint):
    flash(_("This form was sent already: %(reference)s is registered once.", reference=earlier.reference), "info")
    return redirect(url_for("complaints.show", reference=earlier.reference))


def _new_page(form, chosen, upload_error, mismatch=None, had_files=False):
    found = find_customers(request.args.get("find", "")) if request.args.get("find") else []
    recent = recent_complaints(current_user, chosen) if chosen else None
    return render_template("complaint_new.html", form=form, chosen=chosen, found=found, recent=recent,
                           find=request.args.get("find", ""), upload_error=upload_error, mismatch=mismatch,
                           had_files=had_files)


def _customer_choice(form) -> tuple[int | None, bool, bool]:
    """The answer to the same-customer question: (the stored customer confirmed, update their details,
    a new customer instead). The answer holds for the contact details it was given about: changed since,
    the question is asked again."""
    choice, _sep, raw = request.form.get("customer_choice", "").partition(":")
    if choice == "new":
        return None, False, True
    if choice not in ("same", "update") or not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        return None, False, False
    if (request.form.get("asked_email", "") != (form.customer_email.data or "")
            or request.form.get("asked_phone", "") != (form.customer_phone.data or "")):
        return None, False, False
    return int(raw), choice == "update", False


def _flash_same_product(same) -> None:
    """The repeat-complaint hint: references the user may open, a count of the others."""
    if same.visible:
        flash(_("Note: this customer complained about the same product in the last 30 days: %(refs)s.",
                refs=", ".join(c.reference for c in same.visible)), "warning")
    if same.hidden:
        flash(ngettext("Note: this customer has %(num)d more complaint about the same product in the last 30 "
                       "days, handled by another team.",
                       "Note: this customer has %(num)d more complaints about the same product in the last 30 "
                       "days, handled by other teams.", same.hidden), "warning")


def _uploads():
    """The files sent with the form, read and checked (before anything is registered)."""
    try:
        return [read_upload(f.filename, f.stream) for f in request.files.getlist("attachments") if f and f.filename], None
    except InvalidInput as err:
        return [], err.message


def _chosen_customer():
    raw = request.values.get("customer_id", "")
    if not raw:
        return None
    customer = db.session.get(Customer, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    if customer is None:
        raise NotFound(_("No such customer."))
    return customer


@bp.post("/complaints/<reference>/attachments")
@login_required
def attach(reference):
    complaint = get_complaint(reference)
    require_view(current_user, complaint)
    uploads, error = _uploads()
    if error:
        raise InvalidInput(error)
    if not uploads:
        raise InvalidInput(_("Choose a file to attach."))
    for upload in uploads:
        add_attachment(current_user, complaint, upload)
    flash(_("Attached."), "info")
    return redirect(url_for("complaints.show", reference=reference))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id):
    attachment, path = open_attachment(current_user, attachment_id)
    return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.filename, max_age=0)


def _filters() -> Filters:
    args = request.args

    def day(name):
        try:
            return date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    def one_of(name, values):
        value = args.get(name)
        return value if value in values else None

    return Filters(status=one_of("status", STATUSES), category=one_of("category", CATEGORIES),
                   channel=one_of("channel", CHANNELS), jurisdiction=one_of("jurisdiction", JURISDICTIONS),
                   overdue=args.get("overdue") == "1", stuck=args.get("stuck") == "1", received_from=day("from"), received_to=day("to"),
                   text=(args.get("q") or "")[:100] or None, zone=str(get_timezone()))


@bp.get("/complaints")
@login_required
def index():
    filters = _filters()
    after, before = request.args.get("after"), request.args.get("before")
    rows, older, newer = page_of(current_user, filters, 50, after=Cursor.parse(after) if after else None,
                                 before=Cursor.parse(before) if before else None)
    query_args = {k: v for k, v in request.args.items() if k not in ("after", "before", "page", "spreadsheet")}
    return render_template("complaints.html", rows=rows, filters=filters, query_args=query_args,
                           older=str(Cursor.of(rows[-1])) if older and rows else None,
                           newer=str(Cursor.of(rows[0])) if newer and rows else None,
                           stuck=stuck_among([c.id for c in rows]),
                           statuses=STATUSES, categories=CATEGORIES, channels=CHANNELS,
                           jurisdictions=JURISDICTIONS)


@bp.get("/complaints.csv")
@login_required
def export():
    """Every complaint the list's filters match, as CSV; ``?spreadsheet=1`` for Excel in the reader's language."""
    spreadsheet = request.args.get("spreadsheet") == "1"
    lines = csv_lines(every_match(current_user, _filters()), spreadsheet=spreadsheet)
    name = "complaints-spreadsheet.csv" if spreadsheet else "complaints.csv"
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/complaints/<reference>")
@login_required
def show(reference):
    complaint = get_complaint(reference)
    require_view(current_user, complaint)
    story = complaint_story(complaint)
    ids = [e.actor_id for e in story["history"]] + [t.assignee_id for t in story["tasks"]]
    ids += [c.proposed_by_id for c in story["compensations"]] + [c.approved_by_id for c in story["compensations"]]
    attachments = list(db.session.scalars(select(Attachment).where(Attachment.complaint_id == complaint.id)
                                          .order_by(Attachment.id)))
    recent = recent_complaints(current_user, complaint.customer, exclude=complaint.id)
    notes = notes_of(complaint)
    ids += [n.author_id for n in notes.values()]
    deadline = extension = extension_due = None
    if complaint.statutory_rule in RULES:
        received = receipt_date(complaint.received_at, complaint.jurisdiction)
        extension = extension_of(complaint.statutory_rule)
        extension_due = compute_deadline(extension.id, received).due if extension else None
        deadline = compute_deadline(complaint.statutory_rule, received)
    duplicate = db.session.get(Complaint, complaint.possible_duplicate_id) if complaint.possible_duplicate_id else None
    merged_into = db.session.get(Complaint, complaint.merged_into_id) if complaint.merged_into_id else None
    return render_template("complaint.html", complaint=complaint, story=story, attachments=attachments,
                           duplicate=duplicate, merged_into=merged_into,
                           recent=recent, deadline=deadline, extension=extension, extension_due=extension_due,
                           messages=available_messages(current_user, complaint), notes=notes,
                           names=usernames(ids, User.display_name), answer_channel=channel_for(complaint),
                           may_change_customer=may_change_customer(current_user, complaint.customer),
                           countries=countries())


@bp.post("/complaints/<reference>/notes")
@login_required
def note(reference):
    complaint = get_complaint(reference)
    add_note(current_user, complaint, request.form.get("body", ""))
    flash(_("Note added (for staff only)."), "info")
    return redirect(url_for("complaints.show", reference=reference) + "#notes")


@bp.post("/complaints/<reference>/contact")
@login_required
def contact(reference):
    """Change the customer's contact details (those who may see all of that customer's complaints)."""
    complaint = get_complaint(reference)
    require_view(current_user, complaint)
    changed = change_contact(current_user, complaint, request.form.to_dict())
    if changed:
        audit(complaint, "customer_updated", current_user,
              data={"customer": complaint.customer.id, "changes": sorted(changed)})
    flash(_("The customer's details are saved; letters made from now on use them.") if changed
          else _("Nothing changed."), "info")
    return redirect(url_for("complaints.show", reference=reference))


@bp.post("/complaints/<reference>/answer-channel")
@login_required
def answer_channel(reference):
    """Record how the customer asked to get our answers (art. 5 of the Polish Act of 5 August 2015)."""
    complaint = get_complaint(reference)
    set_answer_channel(current_user, complaint, request.form.get("channel") or None)
    flash(_("Recorded: our letters go that way from now on."), "info")
    return redirect(url_for("complaints.show", reference=reference))


@bp.get("/complaints/<reference>/diagram")
@login_required
def diagram(reference):
    complaint = get_complaint(reference)
    require_view(current_user, complaint)
    return jsonify(diagram_position(complaint, str(get_locale())))


@bp.post("/incidents/<int:incident_id>/retry")
@login_required
def incident_retry(incident_id):
    """Run a failed step again once its cause is fixed; says whether the complaint goes on or stopped again."""
    incident = retry_incident(current_user, incident_id)
    complaint = db.session.get(Complaint, incident.complaint_id)
    again = db.session.scalar(select(Incident).where(Incident.complaint_id == complaint.id,
                                                     Incident.resolved_at.is_(None)).order_by(Incident.id.desc()))
    if again is None:
        flash(_("The step ran again; the complaint goes on."), "info")
    else:
        flash(_("The step failed again: %(message)s", message=again.message), "error")
    return redirect(url_for("complaints.show", reference=complaint.reference))


@bp.get("/at-risk")
@login_required
def risk():
    """Complaints whose statutory deadline has passed or is close, by team and by who holds them."""
    require_role(current_user, "supervisor", "admin", "process_owner")
    asked = request.args.get("days", "3").strip()
    valid = asked.isascii() and asked.isdigit() and int(asked) <= 60
    days = int(asked) if valid else 3
    today = utcnow().date()
    rows = at_risk(current_user, days, today)
    names = usernames([t.assignee_id for _, tasks in rows for t in tasks], User.display_name)
    teams: dict[str, list] = {}
    for complaint, tasks in rows:
        teams.setdefault(complaint.team or "–", []).append((complaint, tasks))
    return render_template("at_risk.html", teams=teams, names=names, days=days, today=today,
                           days_error=None if valid else asked)


@bp.post("/complaints/<reference>/messages")
@login_required
def message(reference):
    """Record what the diagram waits to hear (e.g. the customer withdrawing), with the reason."""
    complaint = get_complaint(reference)
    send_message(current_user, complaint, request.form.get("name", ""), request.form.get("reason", ""))
    flash(_("Recorded; the process has moved on."), "info")
    return redirect(url_for("complaints.show", reference=reference))


@bp.post("/complaints/<reference>/extend")
@login_required
def extend(reference):
    """Extend the statutory deadline where the law allows it; the customer gets a holding letter."""
    complaint = get_complaint(reference)
    extend_by_hand(current_user, complaint, request.form.get("reasons", ""), request.form.get("circumstances", ""),
                   request.form.get("expected_on") or None)
    flash(_("Deadline extended; the customer is told why and when to expect the answer."), "info")
    return redirect(url_for("complaints.show", reference=reference))
