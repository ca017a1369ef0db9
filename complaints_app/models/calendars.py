"""Business calendars: working hours per weekday and company closure days, per country or team."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class BusinessCalendar(Base):
    __tablename__ = "business_calendars"
    __table_args__ = (UniqueConstraint("country", "team", name="country_team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2))  # public holidays and time zone: PL, GB, UA
    team: Mapped[str | None] = mapped_column(String(80))  # None: the country's calendar for every team
    # Seven entries, Monday first: ["08:00", "16:00"] or None for a day off.
    hours: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    closures: Mapped[list[ClosureDay]] = relationship(order_by="ClosureDay.day", cascade="all, delete-orphan")


class ClosureDay(Base):
    """A day the company is closed (never extends a statutory clock, only internal SLAs)."""

    __tablename__ = "closure_days"
    __table_args__ = (UniqueConstraint("calendar_id", "day", name="calendar_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200))


class StatutoryCalendar(Base):
    """What counts as a day off for a country's statutory deadlines (its public holidays), beyond the
    library's holiday tables: which part of the country's holidays count (GB: the handling office's:
    England and Wales, Scotland or Northern Ireland) and a period in which public holidays are working
    days (Ukraine under martial law). Data, edited by admins, never code."""

    __tablename__ = "statutory_calendars"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    region: Mapped[str | None] = mapped_column(String(8))
    holidays_worked_from: Mapped[date | None]
    holidays_worked_until: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
