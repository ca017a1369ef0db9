"""Extending a statutory deadline where the law allows it: recorded with its reasons, and the notice the law
requires sent (Polish financial entities: why, what is still to be established and when, art. 7 / 7a(2) of
the Act of 5 August 2015; UK payment services: a holding response, DISP 1.6.2AR; Ukraine: the head sets the
time, 45 days at most)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from ..models import Complaint, Letter, User
from ..models.complaints import CLOSED_STATUSES
from .audit import audit
from .clock import restart_clock
from .deadlines import compute, extension_of, receipt_date
from .errors import Conflict, InvalidInput
from .letters import issue_letter


def _text(value, what: str, needed: bool) -> str:
    text = " ".join(str(value or "").split())
    if needed and not 10 <= len(text) <= 2000:
        raise InvalidInput(_("give %(what)s (10 to 2000 characters): the customer is told them", what=what))
    return text[:2000]


def check_extension(complaint: Complaint, reasons, circumstances, expected_on) -> tuple:
    """The extension a complaint may have and the notice's facts, checked: (rule, deadline, reasons,
    circumstances, expected day); InvalidInput or Conflict naming what is wrong."""
    if complaint.status in CLOSED_STATUSES or complaint.answered_at is not None:
        raise Conflict(_("complaint %(reference)s has its answer already; there is nothing to extend",
                         reference=complaint.reference))
    extension = extension_of(complaint.statutory_rule)
    if extension is None:
        raise Conflict(_("the rule %(rule)s allows no extension", rule=complaint.statutory_rule or "–"))
    polish = complaint.jurisdiction == "PL"
    reasons = _text(reasons, _("the reasons for the delay"), True)
    circumstances = _text(circumstances, _("the circumstances still to be established"), polish)
    deadline = compute(extension.id, receipt_date(complaint.received_at, complaint.jurisdiction))
    try:
        expected = date.fromisoformat(str(expected_on or "")) if expected_on else deadline.due
    except ValueError:
        raise InvalidInput(_("the expected date is a day such as 2026-12-20")) from None
    if not complaint.statutory_due_on or not complaint.statutory_due_on <= expected <= deadline.due:
        raise InvalidInput(_("the expected date must fall between the current deadline and %(limit)s, the latest "
                             "the law allows (%(rule)s)", limit=deadline.due.isoformat(), rule=extension.id))
    return extension, deadline, reasons, circumstances, expected


def extend_deadline(actor: User | None, complaint: Complaint, reasons: str, circumstances: str = "",
                    expected_on: str | None = None) -> Letter:
    """Move the complaint to its rule's extension and write the notice the law requires (the diagram's
    step; ``complaints.extend_by_hand`` is the complaint page's, which also tells the process)."""
    extension, deadline, reasons, circumstances, expected = check_extension(complaint, reasons, circumstances,
                                                                            expected_on)
    previous = (complaint.statutory_rule, complaint.statutory_due_on)
    complaint.statutory_rule, complaint.statutory_due_on = extension.id, deadline.due
    restart_clock(complaint)
    letter = issue_letter(complaint, extension.notice or "holding_letter",
                          task_id=f"extension-{extension.id}", actor=actor,
                          context={"reference": complaint.reference, "statutory_rule": extension.id,
                                   "expected_on": expected.isoformat(), "due_on": deadline.due.isoformat(),
                                   "texts": {"delay_reasons": reasons, "circumstances": circumstances},
                                   "text_labels": {}})
    audit(complaint, "deadline_extended", actor, data={
        "from": previous[0], "from_due": previous[1].isoformat() if previous[1] else None, "to": extension.id,
        "due": deadline.due.isoformat(), "expected_on": expected.isoformat(), "reasons": reasons,
        "circumstances": circumstances, "letter": letter.id})
    return letter
