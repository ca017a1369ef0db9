"""Settings: each declared once here, read from ``COMPLAINTS_*`` environment variables.

With nothing set the app runs embedded: SQLite and a SQLite-backed Celery broker in the instance
folder, and a random secret key generated once and kept there (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

from flask import current_app

PREFIX = "COMPLAINTS_"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _fractions(text: str) -> tuple[float, ...]:
    values = tuple(sorted(float(part) for part in text.split(",") if part.strip()))
    if any(not 0 < v < 1 for v in values):
        raise ValueError(f"reminder fractions must lie between 0 and 1, got {text!r}")
    return values


def _url(text: str) -> str:
    text = text.strip().rstrip("/")
    if not text.startswith(("https://", "http://")):
        raise ValueError(f"the public URL must start with https:// (or http://), got {text!r}")
    return text


def _remedy_days(text: str) -> int:
    days = int(text)
    if not 1 <= days <= 30:
        raise ValueError(f"remedy days must be 1 to 30 (the Polish financial-market limit), got {days}")
    return days


@dataclass(frozen=True)
class Settings:
    """Every setting of the app; frozen, so nothing changes them after start."""

    instance_path: str = field(default="", metadata={"env": "INSTANCE_PATH"})
    database_url: str = field(default="", metadata={"env": "DATABASE_URL"})
    broker_url: str = field(default="", metadata={"env": "BROKER_URL"})
    secret_key: str = field(default="", metadata={"env": "SECRET_KEY"})
    # Celery runs tasks in-process (tests only).
    tasks_eager: bool = field(default=False, metadata={"env": "TASKS_EAGER", "parse": _bool})
    timer_sweep_seconds: float = field(default=1.0, metadata={"env": "TIMER_SWEEP_SECONDS", "parse": float})
    # Wall-clock budget of one script or expression evaluation in the diagram.
    script_time_budget: float = field(default=1.0, metadata={"env": "SCRIPT_TIME_BUDGET", "parse": float})
    # Data handed to every new complaint's process: the diagram's timers read them.
    customer_reply_window: str = field(default="P14D", metadata={"env": "CUSTOMER_REPLY_WINDOW"})
    followup_delay: str = field(default="P7D", metadata={"env": "FOLLOWUP_DELAY"})
    bpmn_path: str = field(default="", metadata={"env": "BPMN_PATH"})
    # Reminders at these shares of a task's time (created -> due), to its holder and the team's supervisors.
    reminder_fractions: tuple[float, ...] = field(default=(0.5, 0.8), metadata={
        "env": "REMINDER_FRACTIONS", "parse": _fractions})
    # The statutory clock warns (message statutory_deadline_near) this many working days before the deadline.
    statutory_warning_days: int = field(default=3, metadata={"env": "STATUTORY_WARNING_DAYS", "parse": int})
    # Where attachments are kept (a shared folder when several machines serve the app).
    attachments_path: str = field(default="", metadata={"env": "ATTACHMENTS_PATH"})
    # Letter templates and where rendered PDFs are kept (by content hash).
    letters_path: str = field(default="", metadata={"env": "LETTERS_PATH"})
    letters_store: str = field(default="", metadata={"env": "LETTERS_STORE"})
    # Where customers reach the app: letters and e-mails link its published complaints procedure there.
    public_url: str = field(default="http://127.0.0.1:5000", metadata={"env": "PUBLIC_URL", "parse": _url})
    # Days after an answer within which an upheld claim is carried out (the letter gives the day; a Polish
    # financial entity may take at most 30, art. 9 of the Act of 5 August 2015).
    remedy_days: int = field(default=14, metadata={"env": "REMEDY_DAYS", "parse": _remedy_days})
    # E-mail: empty = .eml files in the instance's outbox folder; smtp://host:port (smtps:// for TLS) to send.
    mail_url: str = field(default="", metadata={"env": "MAIL_URL"})
    mail_from: str = field(default="reklamacje@example.com", metadata={"env": "MAIL_FROM"})
    outbox_path: str = field(default="", metadata={"env": "OUTBOX_PATH"})
    # Where login attempts are counted: this process's memory by default, Redis to share between processes.
    ratelimit_storage_url: str = field(default="", metadata={"env": "RATELIMIT_STORAGE_URL"})
    # How many reverse proxies stand in front of the app: their X-Forwarded-For/-Proto/-Host are believed
    # (the login limit then counts the client's address, not the proxy's). 0: none, headers ignored.
    proxies: int = field(default=0, metadata={"env": "PROXIES", "parse": int})
    # Session cookies only over HTTPS (set it wherever the app is served by https://).
    secure_cookies: bool = field(default=False, metadata={"env": "SECURE_COOKIES", "parse": _bool})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read the environment, fill the embedded defaults, apply ``overrides`` (tests)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = f.metadata.get("parse", str)(raw)
        values.update(overrides)
        instance = Path(values.get("instance_path") or Path.cwd() / "instance").resolve()
        instance.mkdir(parents=True, exist_ok=True)
        values["instance_path"] = str(instance)
        values.setdefault("database_url", f"sqlite:///{instance / 'complaints.sqlite'}")
        values.setdefault("broker_url", f"sqlafast+sqlite:///{instance / 'broker.sqlite'}")
        broker = values["broker_url"]
        values.setdefault("ratelimit_storage_url", broker if broker.startswith("redis") else "memory://")
        values.setdefault("attachments_path", str(instance / "attachments"))
        values.setdefault("letters_store", str(instance / "letters"))
        values.setdefault("outbox_path", str(instance / "outbox"))
        values.setdefault("letters_path", str(Path(__file__).resolve().parent.parent / "letters"))
        values.setdefault("bpmn_path", str(Path(__file__).resolve().parent.parent / "bpmn"))
        if not values.get("secret_key"):
            values["secret_key"] = _instance_secret(instance)
        return cls(**values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def current_settings() -> Settings:
    """The running app's settings (those ``create_app`` was given)."""
    return current_app.extensions["complaints.settings"]


def _instance_secret(instance: Path) -> str:
    """Return the instance's secret key, creating it (mode 0600) on first use."""
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
