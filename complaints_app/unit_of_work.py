"""One door per edge: every web and API request, CLI command and Celery job does its work in one transaction
that passes through here. The work is committed once at the end, and the jobs it asked for are sent only
after that. Any failure rolls it back. A failure of the database is turned into what the caller should do
next:

- another change won a race (a unique key, a version check, a deadlock): ``Conflict`` (409). Nothing was
  changed; retry.
- the database could not be reached, or was too busy, before COMMIT: ``Unavailable`` (503). Nothing was
  changed.
- the connection was lost during COMMIT: ``OutcomeUnknown`` (503). The change may or may not be stored; a
  retry with the same Idempotency-Key is safe.

Web and API views are wrapped by ``install``, so none of them commits or rolls back itself. The response is
built (templates rendered, JSON serialised) before the commit, from what the transaction produced. Nothing
is read again after the commit. A response of 400 or more rolls the work back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar
from contextlib import contextmanager
from functools import wraps

from flask import Flask, current_app, request, session
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .domain.errors import Conflict, DomainError
from .domain.replay import ReplayCarefully, optimistic
from .extensions import db

RETRY_KEY = "Idempotency-Key"
T = TypeVar("T")


class Unavailable(DomainError):
    status = 503
    code = "unavailable"


class OutcomeUnknown(DomainError):
    status = 503
    code = "outcome_unknown"


def _busy(err: DBAPIError) -> bool:
    """A lock held by another transaction (SQLite's "database is locked", PostgreSQL's deadlock or lock
    timeout): the other change goes first, this one may simply be retried."""
    text = str(err.orig).lower() if err.orig is not None else str(err).lower()
    return any(word in text for word in ("locked", "deadlock", "lock timeout", "could not serialize"))


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone: the server dropped the transaction with it
        db.session.close()


def refused(err: Exception) -> DomainError:
    """What a database failure before COMMIT means for the caller (nothing was changed either way)."""
    if isinstance(err, (IntegrityError, StaleDataError)):
        return Conflict(_("the change conflicts with another one made at the same time; nothing was changed, "
                          "reload and retry"))
    if isinstance(err, DBAPIError) and _busy(err):
        return Conflict(_("the complaint is busy; nothing was changed, retry in a moment"))
    return Unavailable(_("the database is busy or unreachable; nothing was changed, retry in a moment"))


def commit(keep_loaded: bool = False) -> None:
    """Flush the work, then COMMIT it. A failure rolls back and raises Conflict, Unavailable or OutcomeUnknown.
    ``keep_loaded``: the objects the work loaded stay as they are (a streamed response reads them after)."""
    try:
        db.session.flush()
    except (DBAPIError, StaleDataError) as err:
        _rollback()
        raise refused(err) from err
    session = db.session()
    expiring = session.expire_on_commit
    session.expire_on_commit = expiring and not keep_loaded
    try:
        session.commit()
    except IntegrityError as err:  # a constraint checked at COMMIT (deferred): the server rolled back
        _rollback()
        raise refused(err) from err
    except DBAPIError as err:
        _rollback()
        if err.connection_invalidated:
            raise OutcomeUnknown(_("the connection to the database was lost while the change was being stored: "
                                   "it may or may not have been stored. Retrying with the same Idempotency-Key "
                                   "is safe; without one, look before sending it again")) from err
        raise refused(err) from err
    finally:
        session.expire_on_commit = expiring


class Unit:
    """The block's transaction. ``keep_loaded``: what it loaded is not expired by the commit (a streamed
    response goes on reading it, the signed-in user say)."""

    keep_loaded = False


@contextmanager
def unit_of_work() -> Iterator[Unit]:
    """Run the block as one transaction: committed at the end, rolled back if it raises (a database
    failure inside it becomes Conflict or Unavailable, as for a commit)."""
    unit = Unit()
    try:
        yield unit
    except (DBAPIError, StaleDataError) as err:
        _rollback()
        raise refused(err) from err
    except BaseException:
        _rollback()
        raise
    commit(keep_loaded=unit.keep_loaded)


@contextmanager
def attempt() -> Iterator[None]:
    """Try a step of the request in a savepoint: if it raises a DomainError, only the step is undone and the
    request goes on, for example to show a form again with its errors from the state before it."""
    nested = db.session.begin_nested()
    try:
        yield
    except DomainError:
        nested.rollback()
        raise
    nested.commit()


def idempotent(view: Callable) -> Callable:
    """Mark a view whose request carries its own key (a registration form's): one that loses a race is run
    once more, and then finds what the winner stored (as a request with an Idempotency-Key header is)."""
    view.idempotent = True
    return view


def replayable(work: Callable[[], T]) -> T:
    """Run ``work()`` as one unit of work with services called bare (``replay``); if one fails, the work is
    rolled back and run once more, every service in its own savepoint. ``work`` must only touch the database
    (jobs it asks for are sent after the commit), so running it twice is safe."""
    try:
        with optimistic(), unit_of_work():
            return work()
    except ReplayCarefully:
        pass
    with unit_of_work():
        return work()


def through_the_door(view: Callable) -> Callable:
    """The view, run as one unit of work. A failed response (400 and above) is rolled back. An idempotent
    request that loses a race is run once more; so is one whose service call failed (see ``replayable``)."""
    @wraps(view)
    def door(*args, **kwargs):
        tries = 2 if getattr(view, "idempotent", False) or request.headers.get(RETRY_KEY) else 1
        careful = False
        while True:
            try:
                with optimistic(not careful), unit_of_work() as unit:
                    response = current_app.make_response(view(*args, **kwargs))
                    if response.status_code >= 400:
                        raise _Refusal(response)
                    unit.keep_loaded = response.is_streamed
                return response
            except _Refusal as refusal:
                return refusal.response
            except ReplayCarefully:
                if careful:
                    raise AssertionError("a careful run never asks to be replayed") from None
                careful = True
            except Conflict:
                tries -= 1
                if tries == 0:
                    _forget_flashes()
                    raise
            except DomainError:
                _forget_flashes()
                raise
            _forget_flashes()  # what the first run said it did, it did not do
    return door


def _forget_flashes() -> None:
    """Drop the messages the view flashed ("Saved."): its work was not stored after all."""
    if session.modified and "_flashes" in session:
        session.pop("_flashes")


class _Refusal(Exception):
    """A response of 400 or more: the door rolls the work back and answers with it."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def install(app: Flask) -> None:
    """Put every view of the app (web pages and API) behind the door; static files need none."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "_behind_the_door", False):
            wrapped = through_the_door(view)
            wrapped._behind_the_door = True
            app.view_functions[endpoint] = wrapped
