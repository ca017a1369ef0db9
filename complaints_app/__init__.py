"""Complaints management: a Flask app whose complaint path is the BPMN in ``bpmn/``."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.routing import IntegerConverter
from sqlalchemy import event

from .config import Settings
from .extensions import db, login_manager, migrate
from .models.base import MAX_ROW_ID
from .workflow import ProcessRuntime

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints and Celery. Nothing else."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=settings.instance_path, template_folder="web/templates",
                static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings),
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        MAX_CONTENT_LENGTH=50 * 1024 * 1024,  # a request; each attachment is checked against its own limit
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
    )
    if settings.proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies,
                                x_host=settings.proxies)
    app.url_map.converters["int"] = RowId
    app.extensions["complaints.settings"] = settings
    app.extensions["complaints.runtime"] = ProcessRuntime(settings.script_time_budget)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    login_manager.init_app(app)
    with app.app_context():
        if settings.is_sqlite:
            _configure_sqlite(db.engine)

    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    from .web import init_web

    init_web(app)
    csrf_exempt_api(app)

    from .tasks import celery_init_app

    celery_init_app(app, settings)

    from .cli import register_commands

    register_commands(app)
    from .unit_of_work import install

    install(app)  # after every blueprint: each view runs as one unit of work
    logging.getLogger("spiff").setLevel(logging.WARNING)
    return app


class RowId(IntegerConverter):
    """``<int:...>`` in every route: at most what an integer key column holds, so ``/letters/99999999999``
    is a 404, not an overflow in the database driver."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def csrf_exempt_api(app: Flask) -> None:
    """The JSON API authenticates each request by its bearer token and never by cookie (``auth``): no CSRF
    token there."""
    from .extensions import csrf

    csrf.exempt(app.blueprints["api"])


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent / "migrations"


def _engine_options(settings: Settings) -> dict:
    if settings.is_sqlite:
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No JIT: the app's queries are short, and PostgreSQL compiling a big plan costs 0.4-0.65 s each time
    # (measured at a million complaints by bench/scale.py).
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10, "connect_args": {"options": "-c jit=off"}}


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE: one writer at a time, no upgrade deadlocks. Every commit
    reaches the disk (``synchronous=FULL``, ~0.5 ms here): with NORMAL an OS crash or power cut could undo
    the last transactions, a complaint whose reference the customer was already given among them."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN below
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # SQLite's own lower() knows only ASCII: searching "WIŚNIEWSKA" would miss Wiśniewska.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
