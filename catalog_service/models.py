"""Tables owned by the catalogue service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, UtcDateTime, utcnow
from services.outbox import OutboxColumns


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Department(TimestampMixin, Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Category(TimestampMixin, Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    default_co_department_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Policy(TimestampMixin, Base):
    __tablename__ = "policies"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16), index=True)
    issuer: Mapped[str] = mapped_column(String(100), default="")
    document_number: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ServiceItem(TimestampMixin, Base):
    __tablename__ = "service_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    lead_department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    co_department_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Stored as ",small,micro," so that a size filter is one LIKE on both databases.
    eligible_sizes_text: Mapped[str] = mapped_column("eligible_sizes", String(64))
    required_materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    sla_profile: Mapped[str] = mapped_column(String(16), default="1-3-5")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Menu(TimestampMixin, Base):
    __tablename__ = "menus"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    published_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CatalogOutboxEvent(OutboxColumns, Base):
    """`menu.published` and `policy.published`, written in the publication's transaction."""

    __tablename__ = "catalog_outbox"


class CatalogVisitDay(Base):
    """How many times the catalogue (items, categories, menus) and the policies were read per
    local day: the platform overview's "visits"."""

    __tablename__ = "catalog_visit_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)
