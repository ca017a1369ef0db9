"""The embedded broker: kombu's SQLAlchemy transport on SQLite, polling every 0.1 s (not 1 s)."""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport

ALIAS = "sqlafast"


class FastSQLiteTransport(Transport):
    polling_interval = 0.1


def register() -> None:
    TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:FastSQLiteTransport")
