"""People, their roles, authority limits, API tokens and the lane-to-role table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, in_list, utcnow

ROLES = ("staff", "supervisor", "manager", "customer_centre", "process_owner", "admin")


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    team: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The job title a letter names under its signatory, per language ({"pl": "Specjalista ds. reklamacji"}).
    position: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    is_active_user: Mapped[bool] = mapped_column("is_active", default=True, server_default=true())
    # Part of every login session's id: raising it (password change, log out) ends the user's sessions,
    # which a signed cookie alone could not (a copied cookie would stay valid until the key changes).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    limits: Mapped[list[AuthorityLimit]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # flask-login
        return self.is_active_user

    def get_id(self) -> str:  # flask-login: what the session cookie holds
        return f"{self.id}.{self.session_version}"

    def end_sessions(self) -> None:
        """Every login session of this user ends (the current one too, unless it logs in again)."""
        self.session_version += 1

    @property
    def roles(self) -> set[str]:
        roles = {r.role for r in self.role_rows}
        if "manager" in roles:
            roles.add("supervisor")  # a manager may do all a supervisor may
        return roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def limit_for(self, currency: str) -> Decimal | None:
        for limit in self.limits:
            if limit.currency == currency:
                return limit.max_amount
        return None

    def position_in(self, language: str) -> str:
        """The job title in ``language``, else in any language it is given in, else empty."""
        titles = self.position or {}
        return titles.get(language) or next((t for t in titles.values() if t), "")

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(in_list("role", ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class AuthorityLimit(Base):
    """The largest compensation a person may approve, per currency."""

    __tablename__ = "authority_limits"
    __table_args__ = (
        UniqueConstraint("user_id", "currency"),
        CheckConstraint("max_amount >= 0", name="max_amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    max_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))

    user: Mapped[User] = relationship(back_populates="limits")


class ApiToken(Base):
    """A bearer token acting as its user; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: tokens made before expiry existed (the migration sets one)

    user: Mapped[User] = relationship(lazy="joined")


class LaneRole(Base):
    """Which role works the tasks of a diagram lane (edited by admins)."""

    __tablename__ = "lane_roles"
    __table_args__ = (CheckConstraint(in_list("role", ROLES), name="role"),)

    lane: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
