"""Reports: the charts supervisors, managers, process owners and admins look at (each with its figures)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import format_date, get_timezone, lazy_gettext as _l, to_user_timezone
from flask_login import current_user, login_required

from ..domain import reports
from ..domain.access import require_role
from ..domain.terms import term
from ..models.base import utcnow

bp = Blueprint("reports", __name__)

# Okabe–Ito colours: told apart with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
OUTCOMES = {reports.KEPT: (_l("answered in time"), "#009E73"), reports.BREACHED: (_l("deadline breached"), "#D55E00"),
            reports.STILL_RUNNING: (_l("not answered yet"), "#999999")}


def _chart(labels: list[str], series: list[tuple[str, list, str]], money: str | None = None) -> dict:
    """What app.js hands to Chart.js, and what the table under the chart shows: one row per label."""
    return {"labels": labels, "money": money,
            "series": [{"name": name, "values": [float(v) for v in values], "colour": colour}
                       for name, values, colour in series],
            "rows": [[label, *(values[i] for _name, values, _c in series)] for i, label in enumerate(labels)]}


@bp.get("/reports")
@login_required
def index():
    require_role(current_user, "supervisor", "process_owner", "admin")
    now = to_user_timezone(utcnow())
    zone = get_timezone()
    weekly = reports.weekly(current_user, now.date(), zone)
    weeks = [format_date(monday, "d MMM") for monday in weekly["weeks"]]
    received = _chart(weeks, [(term("channel", c), counts, PALETTE[i % len(PALETTE)])
                              for i, (c, counts) in enumerate(weekly["received"].items())])
    statutory = _chart(weeks, [(str(OUTCOMES[k][0]), counts, OUTCOMES[k][1])
                               for k, counts in weekly["statutory"].items()])
    teams = reports.open_by_team(current_user)
    open_now = _chart([term("team", t) if t else "–" for t in teams["teams"]],
                      [(term("status", s), counts, PALETTE[i]) for i, (s, counts) in enumerate(teams["statuses"].items())])
    money = reports.paid_by_month(current_user, now.date(), zone)
    months = [format_date(start, "LLLL yyyy") for start in money["months"]]
    paid = {currency: _chart(months, [(currency, sums, PALETTE[i % len(PALETTE)])], money=currency)
            for i, (currency, sums) in enumerate(money["paid"].items())}
    return render_template("reports.html", received=received, statutory=statutory, open_now=open_now, paid=paid,
                           totals={"received": sum(sum(c) for c in weekly["received"].values()),
                                   "open": sum(sum(c) for c in teams["statuses"].values())})
