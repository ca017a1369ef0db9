"""Alembic environment: migrate the database of the current Flask app."""

from alembic import context
from flask import current_app
from sqlalchemy.engine import Connection
from complaints_app.models.base import built_on

config = context.config
target_db = current_app.extensions["migrate"].db


def run_migrations_offline():
    context.configure(url=target_db.engine.url, target_metadata=target_db.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    bind = target_db.engine
    if isinstance(bind, Connection):  # already inside a transaction (tests bind the session to one)
        _run(bind)
        return
    with bind.connect() as connection:
        _run(connection)


def _run(connection):
    context.configure(connection=connection, target_metadata=target_db.metadata, render_as_batch=True,
                      compare_type=True, include_object=built_on(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
