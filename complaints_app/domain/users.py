"""Users, roles, authority limits and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from flask_babel import gettext as _

from ..extensions import db
from ..models import ROLES, ApiToken, AuditEvent, AuthorityLimit, LaneRole, User, UserRole
from ..models.base import utcnow
from ..models.complaints import CURRENCIES
from .driver import forget_lane_roles
from .errors import Conflict, Forbidden, InvalidInput, NotFound

DEFAULT_LANES = {"Staff": "staff", "Supervisor": "supervisor", "CustomerCentre": "customer_centre"}


def create_user(username: str, password: str, roles: list[str], display_name: str | None = None,
                email: str | None = None, team: str | None = None, language: str = "en",
                limits: dict[str, Decimal] | None = None, position: dict[str, str] | None = None) -> User:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidInput(_("unknown roles: %(unknown)s; roles are %(roles)s", unknown=", ".join(unknown), roles=", ".join(ROLES)))
    if len(password) < 8:
        raise InvalidInput(_("the password needs at least 8 characters"))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_("user %(name)s exists already", name=username))
    limits = check_limits({c: Decimal(str(a)) for c, a in (limits or {}).items()})
    user = User(username=username, display_name=display_name or username, email=email, team=team,
                language=language, password_hash=generate_password_hash(password), position=position or {},
                role_rows=[UserRole(role=r) for r in sorted(set(roles))],
                limits=[AuthorityLimit(currency=c, max_amount=a) for c, a in limits.items()])
    db.session.add(user)
    db.session.flush()
    return user


MAX_LIMIT = Decimal("999999999999.99")  # what the limit column (14 digits, 2 after the point) holds


def check_limits(limits: dict[str, Decimal]) -> dict[str, Decimal]:
    """Authority limits as the database keeps them: known currencies, amounts from 0 up to ``MAX_LIMIT``."""
    unknown = sorted(set(limits) - set(CURRENCIES))
    if unknown:
        raise InvalidInput(_("unknown currencies: %(unknown)s; currencies are %(known)s",
                             unknown=", ".join(unknown), known=", ".join(CURRENCIES)))
    for currency, amount in limits.items():
        if not amount.is_finite() or not 0 <= amount <= MAX_LIMIT:
            raise InvalidInput(_("the limit for %(currency)s must be an amount from 0 to %(max)s",
                                 currency=currency, max=MAX_LIMIT))
    return {currency: amount.quantize(Decimal("0.01")) for currency, amount in limits.items()}


def get_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(_("no user %(name)s", name=username))
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_DAYS, TOKEN_MAX_DAYS = 90, 366


def create_token(user: User, name: str = "api", days: int = TOKEN_DAYS) -> str:
    """Create an API token for ``user``, valid for ``days`` (1 to 366); the token itself is returned once
    and never stored. A token that works for ever is never offered: an integration renews its token."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= TOKEN_MAX_DAYS:
        raise InvalidInput(_("a token is valid for 1 to %(max)s days", max=TOKEN_MAX_DAYS))
    token = "cpt_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token),
                            expires_at=utcnow() + timedelta(days=days)))
    db.session.flush()
    return token


def token_expiry(token: str):
    """When an unrevoked token expired, if it has (to tell its client why it is refused)."""
    expires = db.session.scalar(select(ApiToken.expires_at).where(ApiToken.token_hash == _digest(token),
                                                                  ApiToken.revoked_at.is_(None)))
    return expires if expires is not None and expires <= utcnow() else None


TOKEN_USE_PRECISION = timedelta(minutes=5)


# A request's user with their roles and limits, in one query (the requests of a busy client add up).
_TOKEN_USER = select(ApiToken).options(joinedload(ApiToken.user).options(
    joinedload(User.role_rows), joinedload(User.limits))).where(
    ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))


def user_for_token(token: str) -> User | None:
    """The active user of an unrevoked token, with roles and limits, in one query; notes when the token was
    last used (to the few minutes, so a busy client does not write on every request; the request's own
    commit stores it)."""
    row = db.session.execute(_TOKEN_USER, {"digest": _digest(token)}).unique().scalar_one_or_none()
    now = utcnow()
    if row is None or not row.user.is_active or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_PRECISION:
        row.last_used_at = now
    return row.user


def user_with_roles(user_id: int) -> User | None:
    """A user with roles and limits, in one query (a signed-in page's user)."""
    return db.session.execute(select(User).options(joinedload(User.role_rows), joinedload(User.limits))
                              .where(User.id == user_id)).unique().scalar_one_or_none()


def seed_lane_roles() -> None:
    """Map the reference diagram's lanes to roles where no mapping exists yet."""
    existing = set(db.session.scalars(select(LaneRole.lane)))
    for lane, role in DEFAULT_LANES.items():
        if lane not in existing:
            db.session.add(LaneRole(lane=lane, role=role))
    db.session.flush()
    forget_lane_roles()


def set_lane_role(lane: str, role: str) -> LaneRole:
    """Map a diagram lane to the role that works its tasks (new tasks use it)."""
    if role not in ROLES:
        raise InvalidInput(_("unknown role %(role)s; roles are %(roles)s", role=role, roles=", ".join(ROLES)))
    row = db.session.get(LaneRole, lane) or LaneRole(lane=lane)
    row.role = role
    db.session.add(row)
    db.session.flush()
    forget_lane_roles()
    return row



_DUMMY_HASH = generate_password_hash("a password nobody has")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same work either way)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise InvalidInput(_("the current password is not right"), {"fields": {"current": _("not right")}})
    if len(new) < 8:
        raise InvalidInput(_("the new password needs at least 8 characters"), {"fields": {"new": _("too short")}})
    user.password_hash = generate_password_hash(new)
    db.session.flush()


def update_user(actor: User, user: User, *, roles: list[str], team: str | None, language: str,
                limits: dict[str, Decimal], active: bool, position: dict[str, str] | None = None) -> User:
    """Change what a person may do (admins only); an admin cannot lock themselves out."""
    if not actor.has_role("admin"):
        raise Forbidden(_("only administrators change users"))
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidInput(_("unknown roles: %(unknown)s", unknown=", ".join(unknown)))
    if user.id == actor.id and ("admin" not in roles or not active):
        raise Conflict(_("you cannot remove your own administrator role or deactivate yourself"))
    limits = check_limits(limits)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    user.team = team or None
    user.language = language
    user.is_active_user = active
    if position is not None:  # the job title per language, as letters name it
        user.position = {lang: " ".join(str(text).split())[:200] for lang, text in position.items()
                         if lang in ("pl", "en", "uk") and str(text).strip()}
    existing = {limit.currency: limit for limit in user.limits}
    user.limits = [existing.get(c) or AuthorityLimit(currency=c, max_amount=a) for c, a in sorted(limits.items())]
    for limit in user.limits:
        limit.max_amount = limits[limit.currency]
    db.session.add(AuditEvent(kind="user_changed", actor_id=actor.id, data={
        "user": user.username, "roles": sorted(set(roles)), "team": team, "active": active,
        "limits": {c: str(a) for c, a in limits.items()}}))
    db.session.flush()
    return user


def revoke_token(actor: User, token_id: int) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(_("no token %(id)s", id=token_id))
    if not (actor.has_role("admin") or row.user_id == actor.id):
        raise Forbidden(_("only administrators revoke other people’s tokens"))
    row.revoked_at = utcnow()
    db.session.flush()
    return row
