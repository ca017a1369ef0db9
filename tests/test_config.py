"""Settings come from COMPLAINTS_* variables; with none, the instance keeps a generated secret."""

from __future__ import annotations

import stat

import pytest

from complaints_app.config import Settings


def test_embedded_defaults_and_a_secret_kept_in_the_instance(tmp_path):
    first = Settings.from_env(environ={"COMPLAINTS_INSTANCE_PATH": str(tmp_path)})
    assert first.database_url == f"sqlite:///{tmp_path / 'complaints.sqlite'}"
    assert first.broker_url.startswith("sqlafast+sqlite:///")
    secret = tmp_path / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 48
    second = Settings.from_env(environ={"COMPLAINTS_INSTANCE_PATH": str(tmp_path)})
    assert second.secret_key == first.secret_key


def test_environment_wins(tmp_path):
    settings = Settings.from_env(environ={
        "COMPLAINTS_INSTANCE_PATH": str(tmp_path), "COMPLAINTS_DATABASE_URL": "postgresql+psycopg://db/x",
        "COMPLAINTS_BROKER_URL": "redis://r:6379/0", "COMPLAINTS_SECRET_KEY": "s3cret",
        "COMPLAINTS_TIMER_SWEEP_SECONDS": "0.5", "COMPLAINTS_TASKS_EAGER": "true"})
    assert (settings.database_url, settings.broker_url, settings.secret_key) == (
        "postgresql+psycopg://db/x", "redis://r:6379/0", "s3cret")
    assert settings.timer_sweep_seconds == 0.5 and settings.tasks_eager is True
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.sqlite
def test_the_embedded_database_puts_every_commit_on_disk(app):
    """A registered complaint must survive an OS crash or a power cut, not only a crash of the app."""
    from sqlalchemy import text

    from complaints_app.extensions import db

    mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
    synchronous = db.session.execute(text("PRAGMA synchronous")).scalar()
    assert (mode, synchronous) == ("wal", 2)  # 2 = FULL: the WAL is synced at every commit
