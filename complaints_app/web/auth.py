"""Log in, log out, change the password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..domain.errors import InvalidInput
from ..domain.users import authenticate, change_password, user_with_roles
from ..extensions import limiter, login_manager
from ..models.base import MAX_ROW_ID

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(session_id: str):
    # ``User.get_id``: "<id>.<session version>"; a session of an older version has ended.
    user_id, _dot, version = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()) \
            or int(user_id) > MAX_ROW_ID:
        return None
    user = user_with_roles(int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    repeat = PasswordField(_l("Repeat the new password"), validators=[DataRequired(), EqualTo("new")])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never a URL the request chose. Browsers and ``urlsplit`` drop tabs and
    newlines and read backslashes as slashes, so ``/\t/evil.example`` would become ``//evil.example``:
    anything but printable characters is refused before the path is judged."""
    if (target and target.isprintable() and " " not in target and "\\" not in target
            and target.startswith("/") and not target.startswith("//")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("inbox.index")


def _failed(response) -> bool:
    return response.status_code != 302  # only failed attempts count: an office behind one address logs in


def _username() -> str:
    return "login:" + (request.form.get("username") or "").strip().lower()[:80]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], deduct_when=_failed)  # per address
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_username, deduct_when=_failed)  # per account
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
    """Log out everywhere: the session cookie is signed, not stored, so a copy of it would outlive a plain
    log out; raising the user's session version ends every copy."""
    current_user.end_sessions()
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
            form.current.errors.append(err.message)
        else:
            current_user.end_sessions()  # a session opened with the old password ends
            login_user(current_user._get_current_object())  # this one goes on, under the new version
            flash(_("Your password is changed; you were logged out everywhere else."), "info")
            return redirect(url_for("inbox.index"))
    return render_template("password.html", form=form), 400 if form.errors else 200


@bp.post("/language")
@login_required
def language():
    """Keep the user's choice of language for every page."""
    choice = request.form.get("language")
    if choice in ("pl", "en"):
        current_user.language = choice
    return redirect(_safe_next(request.form.get("next")))
