"""Administration: people, their roles and authority limits, API tokens, the lane-to-role table, business
calendars."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..domain import calendars
from ..domain.access import require_role
from ..domain.errors import InvalidInput
from ..domain.users import TOKEN_DAYS, create_token, create_user, revoke_token, set_lane_role, update_user
from ..extensions import db
from ..models import ROLES, ApiToken, LaneRole, User
from ..models.complaints import CURRENCIES

bp = Blueprint("admin", __name__, url_prefix="/admin")
NEW_TOKEN = "admin.new_token"


@bp.before_request
@login_required
def _admins_only():
    require_role(current_user, "admin")


def _limits() -> dict[str, Decimal]:
    limits = {}
    for currency in CURRENCIES:
        raw = (request.form.get(f"limit_{currency}") or "").strip().replace(",", ".")
        if raw:
            try:
                limits[currency] = Decimal(raw).quantize(Decimal("0.01"))
            except InvalidOperation:
                raise InvalidInput(_("The limit in %(currency)s is not an amount.", currency=currency)) from None
    return limits


@bp.get("/users")
def users():
    people = list(db.session.scalars(select(User).order_by(User.username)))
    return render_template("admin_users.html", people=people, roles=ROLES, currencies=CURRENCIES)


@bp.post("/users")
def create():
    form = request.form
    user = create_user(form.get("username", "").strip(), form.get("password", ""), form.getlist("roles"),
                       display_name=form.get("display_name") or None, email=form.get("email") or None,
                       team=form.get("team") or None, language=form.get("language", "en"), limits=_limits())
    flash(_("Created %(name)s.", name=user.username), "info")
    return redirect(url_for("admin.edit", user_id=user.id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        return render_template("error.html", message=_("No such user."), status=404), 404
    new_token = None
    if request.method == "POST":
        form = request.form
        update_user(current_user, user, roles=form.getlist("roles"), team=form.get("team"),
                    language=form.get("language", "en"), limits=_limits(), active=form.get("active") == "1",
                    position={lang: form.get(f"position_{lang}", "") for lang in ("pl", "en", "uk")})
        flash(_("Saved."), "info")
        return redirect(url_for("admin.edit", user_id=user.id))
    made = session.pop(NEW_TOKEN, None)  # shown once, on the page the creation led to
    if made and made.get("user") == user.id:
        new_token = made.get("token")
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))
    return render_template("admin_user.html", user=user, roles=ROLES, currencies=CURRENCIES, tokens=tokens,
                           new_token=new_token)


@bp.post("/users/<int:user_id>/tokens")
def new_token(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        return render_template("error.html", message=_("No such user."), status=404), 404
    days = request.form.get("days", str(TOKEN_DAYS))
    token = create_token(user, (request.form.get("name") or "api")[:120],
                         int(days) if days.isascii() and days.isdigit() and len(days) < 5 else 0)
    # Shown once, never stored (only its hash is kept): carried to the user's page in the signed session,
    # so that reloading the page neither shows it again nor posts a second token.
    session[NEW_TOKEN] = {"user": user.id, "token": token}
    return redirect(url_for("admin.edit", user_id=user.id))


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id):
    token = revoke_token(current_user, token_id)
    flash(_("Token revoked."), "info")
    return redirect(url_for("admin.edit", user_id=token.user_id))


@bp.route("/lanes", methods=["GET", "POST"])
def lanes():
    if request.method == "POST":
        lane = (request.form.get("lane") or "").strip()
        if not lane:
            raise InvalidInput(_("Name the lane as it is written in the diagram."))
        set_lane_role(lane[:120], request.form.get("role", ""))
        flash(_("Lane %(lane)s saved; new tasks in it go to that role.", lane=lane), "info")
        return redirect(url_for("admin.lanes"))
    rows = list(db.session.scalars(select(LaneRole).order_by(LaneRole.lane)))
    return render_template("admin_lanes.html", rows=rows, roles=ROLES)


def _hours_from_form() -> list[tuple[str, str]]:
    return [(request.form.get(f"opens_{day}", ""), request.form.get(f"closes_{day}", "")) for day in range(7)]


@bp.get("/calendars")
def calendar_list():
    rows = calendars.list_calendars(current_user)
    return render_template("admin_calendars.html", rows=rows, countries=list(calendars.NAMES),
                           defaults=calendars.DEFAULT_HOURS, legal=calendars.legal_calendars(current_user),
                           regions=calendars.UK_REGIONS)


@bp.post("/statutory-calendars/<country>")
def legal_calendar_save(country):
    """Which public holidays count for a country's statutory deadlines."""
    form = request.form
    calendars.save_legal_calendar(current_user, country, region=form.get("region"),
                                  worked_from=form.get("holidays_worked_from"),
                                  worked_until=form.get("holidays_worked_until"), note=form.get("note"))
    flash(_("Saved: statutory deadlines counted from now on follow it."), "info")
    return redirect(url_for("admin.calendar_list") + f"#statutory-{country}")


@bp.post("/calendars")
@bp.post("/calendars/<int:calendar_id>")
def calendar_save(calendar_id=None):
    """Create a calendar (no id) or change one."""
    row = calendars.save_calendar(current_user, calendar_id, name=request.form.get("name", ""),
                                  country=request.form.get("country", ""), team=request.form.get("team"),
                                  hours=_hours_from_form())
    flash(_("Calendar %(name)s saved.", name=row.name), "info")
    return redirect(url_for("admin.calendar_list"))


@bp.post("/calendars/<int:calendar_id>/closures")
def closure_add(calendar_id):
    calendars.add_closure(current_user, calendar_id, request.form.get("day", ""), request.form.get("reason", ""))
    flash(_("Closure day added; new internal deadlines skip it (statutory ones do not)."), "info")
    return redirect(url_for("admin.calendar_list"))


@bp.post("/closures/<int:closure_id>/delete")
def closure_delete(closure_id):
    calendars.remove_closure(current_user, closure_id)
    return redirect(url_for("admin.calendar_list"))
