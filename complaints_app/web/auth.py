"""Log in, log out, change the password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..domain.errors import InvalidInput
from ..domain.users import authenticate, change_password
from ..extensions import db, limiter, login_manager
from ..models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str):
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    repeat = PasswordField(_l("Repeat the new password"), validators=[DataRequired(), EqualTo("new")])


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never redirect to a URL the request chose.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data.strip(), form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except InvalidInput as err:
            db.session.rollback()
            form.current.errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Your password is changed."), "info")
            return redirect(url_for("inbox.index"))
    return render_template("password.html", form=form)


@bp.post("/language")
@login_required
def language():
    """Keep the user's choice of language for every page."""
    choice = request.form.get("language")
    if choice in ("pl", "en"):
        current_user.language = choice
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))
