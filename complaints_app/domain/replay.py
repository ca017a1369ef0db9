"""Service calls without a savepoint when nothing fails.

A service task's work must be undone if it fails (the step becomes an incident, the rest of the move is
kept). A savepoint around every call does that at the price of two statements per call, every call. Instead,
an edge that can run its work again (a web or API request, a job) runs it ``optimistic``: services are called
bare, and the first one that fails raises ``ReplayCarefully``. That passes through the engine (it is not an
``Exception``), the edge rolls the whole transaction back and runs the work once more, carefully: every
service in its own savepoint, so the failure is recorded as an incident as it always was. Failures are rare,
so the second run is too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_optimistic: ContextVar[bool] = ContextVar("optimistic_services", default=False)


class ReplayCarefully(BaseException):
    """A service failed in an optimistic run: roll the transaction back and run the work again carefully."""


@contextmanager
def optimistic(enabled: bool = True) -> Iterator[None]:
    """Call services without a savepoint inside the block (the caller replays on ``ReplayCarefully``)."""
    token = _optimistic.set(enabled)
    try:
        yield
    finally:
        _optimistic.reset(token)


def is_optimistic() -> bool:
    return _optimistic.get()
