"""Users, their role assignments (RULES §12) and API tokens."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import TimestampMixin

#: role → (scope, label). Scope says which column of RoleAssignment names where the role applies.
ROLES = {
    "county_admin": ("county", N_("县级管理员")),
    "township_auditor": ("township", N_("乡镇经管站审核员")),
    "accountant": ("organization", N_("村会计/报账员")),
    "reviewer": ("organization", N_("审核人/村负责人")),
    "finance_group": ("organization", N_("民主理财小组成员")),
    "member": ("organization", N_("成员")),
    "cashier": ("organization", N_("出纳")),
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(50), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    #: part of every session's and remember cookie's identity (get_id): bumping it ends them all at once
    session_version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    #: set by creation and reset (a one-time password); the user must choose their own before anything else
    must_change_password: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    roles: Mapped[list["RoleAssignment"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    #: the login this object was loaded for ("<issued>.<nonce>"), kept so get_id() answers the same string
    login_stamp = None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """"<id>.<session version>.<issued at>.<nonce>": the session and the remember cookie carry it, the loader
        refuses it once the version moved on or it is older than REMEMBER_COOKIE_DURATION (coop.web.auth)."""
        return f"{self.id}.{self.session_version}.{self.login_stamp or '0.0'}"


class RoleAssignment(TimestampMixin, db.Model):
    __tablename__ = "role_assignments"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN county_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN township_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN organization_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
        sa.UniqueConstraint("user_id", "role", "county_id", "township_id", "organization_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    county_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counties.id", ondelete="CASCADE"))
    township_id: Mapped[int | None] = mapped_column(sa.ForeignKey("townships.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(TimestampMixin, db.Model):
    """A Bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    user: Mapped[User] = relationship()


class IdempotencyKey(TimestampMixin, db.Model):
    """A payment-like request already handled: the `Idempotency-Key` header of an API call or the one-time token
    of a form, with the answer given, so a repeat (a double click, a client retry) gets that answer again instead
    of a second payment."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    #: the request path it was used on
    scope: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    key: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    status: Mapped[int | None] = mapped_column()
    location: Mapped[str | None] = mapped_column(sa.String(500))
    body: Mapped[str | None] = mapped_column(sa.Text)


class LoginFailure(db.Model):
    """A failed login counted against one throttle key ("user:<name>" or "ip:<address>"), shared by every worker
    process (coop.services.throttle). `locked_until` is set on the failure that backed the key off."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, index=True)  # naive UTC
    locked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
