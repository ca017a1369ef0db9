"""The web pages for staff, supervisors, the customer centre and administrators."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user

from ..domain.errors import DomainError, NotFound
from babel.dates import get_day_names
from flask_babel import format_currency, format_date, format_timedelta, get_locale, get_timezone, to_user_timezone
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from ..domain.notify import unread_count
from ..extensions import babel, csrf, limiter, login_manager
from ..models.base import utcnow
from . import (admin, auth, company, complaints, duplicates, inbox, letters, post, processes, reports, standards,
               tasks, vendor)
from .csp import CSP
from ..domain.terms import term, written_moment

BLUEPRINTS = (auth.bp, inbox.bp, tasks.bp, complaints.bp, duplicates.bp, letters.bp, post.bp, processes.bp,
              reports.bp, admin.bp, company.bp, standards.bp, vendor.bp)



def init_web(app: Flask) -> None:
    """Register the pages, CSRF, the login rate limit, languages and security headers."""
    csrf.init_app(app)
    limiter.init_app(app)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Warsaw")  # how pages show and read times
    babel.init_app(app, locale_selector=_locale)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        get_locale=get_locale, format_datetime=format_when, format_date=format_day,
        format_timedelta=format_timedelta, format_currency=format_currency, now=utcnow,
        weekday_names=_weekday_names, countdown=_countdown, unread_alerts=_unread_alerts, term=term)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    # Flask-Login's own "Please log in to access this page." is English only: ours, in the reader's language.
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/api/", "/static/")) is False:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # The API blueprint answers its own errors as JSON; every other route gets a page.
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _too_many)
    app.register_error_handler(413, _too_large)


def _unread_alerts() -> int:
    """How many reminders and alerts the signed-in person has not read (an indexed count)."""
    return unread_count(current_user) if current_user.is_authenticated else 0


def format_when(when: datetime) -> str:
    """A moment as every page shows it: the day as ``format_date`` writes it, then hours and minutes, in the
    page's time zone ("3 gru 2026, 15:04"; "Dec 3, 2026, 3:04 PM")."""
    return written_moment(to_user_timezone(when), get_locale())


def format_day(day: date | str) -> str:
    """A day as every page shows it; also a day the audit keeps as ISO text ("2026-12-17")."""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            return day
    return format_date(day)


def _weekday_names() -> list[str]:
    names = get_day_names("abbreviated", locale=get_locale())
    return [names[day] for day in range(7)]


def _countdown(when: date | datetime) -> str:
    """How long until ``when`` (a day: its end in the page's time zone): "in 3 days", "2 days ago"."""
    if isinstance(when, datetime):
        end = when
    else:
        end = datetime.combine(when + timedelta(days=1), time(0), ZoneInfo(str(get_timezone())))
    return format_timedelta(end - utcnow(), add_direction=True, threshold=1.1)


def _domain_error(err: DomainError):
    if isinstance(err, NotFound):
        return render_template("error.html", message=err.message, status=404), 404
    if request.method == "POST":
        flash(err.message, "error")
        return redirect(request.referrer or url_for("inbox.index"))
    return render_template("error.html", message=err.message, status=err.status), err.status


def _csrf_error(err):
    message = _("The form expired or did not come from this site: reload the page and try again.")
    return render_template("error.html", message=message, status=400), 400


def _too_many(err):
    message = _("Too many attempts: wait a minute and try again.")
    return render_template("error.html", message=message, status=429), 429


def _too_large(err):
    if request.path.startswith("/api/"):
        return {"error": {"code": "too_large", "message": "the request is larger than 50 MB", "details": {}}}, 413
    message = _("What you sent is larger than 50 MB: attach smaller files.")
    return render_template("error.html", message=message, status=413), 413


def _locale():
    if not has_request_context():  # the CLI, Celery tasks: messages in English
        return "en"
    if current_user.is_authenticated and current_user.language in ("pl", "en"):
        return current_user.language
    return request.accept_languages.best_match(["en", "pl"]) or "en"
