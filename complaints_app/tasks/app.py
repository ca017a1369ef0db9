"""Build the Celery app bound to the Flask app (tasks run inside its app context)."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask
from sqlalchemy import event

from ..config import Settings, current_settings
from ..domain.dispatch import drop_pending, take_sent, write_outbox
from ..extensions import db
from . import broker
from .jobs import publish


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker.register()
    celery = Celery(app.name, task_cls=FlaskTask)
    conf = {
        "broker_url": settings.broker_url,
        "task_ignore_result": True,
        "task_always_eager": settings.tasks_eager,
        "task_eager_propagates": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "sweep": {"task": "complaints.sweep", "schedule": settings.timer_sweep_seconds},
            "clean-broker": {"task": "complaints.clean_broker", "schedule": 3600.0},
        },
        "beat_schedule_filename": f"{settings.instance_path}/celerybeat-schedule",
        "imports": ("complaints_app.tasks.jobs",),
    }
    if settings.broker_url.startswith("redis"):
        conf["broker_transport_options"] = {"visibility_timeout": 3600}
    celery.conf.update(conf)
    celery.set_default()
    app.extensions["celery"] = celery
    if not event.contains(db.session, "after_commit", _send_after_commit):
        event.listen(db.session, "before_commit", _write_outbox)
        event.listen(db.session, "after_commit", _send_after_commit)
        event.listen(db.session, "after_rollback", _drop_after_rollback)
    return celery


def _write_outbox(session) -> None:
    if not session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        write_outbox(session)


def _send_after_commit(session) -> None:
    """Send the jobs the committed transaction wrote to the outbox, in one message (tests run them
    explicitly instead)."""
    if session.in_nested_transaction():
        return
    sent = take_sent(session)
    if not sent or current_settings().tasks_eager:
        return
    publish(sent)


def _drop_after_rollback(session) -> None:
    if not session.in_nested_transaction():  # a savepoint rolled back: jobs queued before it still stand
        drop_pending(session)
