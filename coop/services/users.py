"""Users, roles and API tokens."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import ValidationFailed
from ..extensions import db
from ..models import ApiToken, County, Organization, RoleAssignment, Township, User
from ..models.base import utcnow
from ..models.users import ROLES

MIN_PASSWORD = 8


def create_user(username: str, display_name: str, password: str) -> User:
    username = (username or "").strip()
    errors: dict = {}
    if not username:
        errors["username"] = ["请填写用户名"]
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = [f"用户名 {username} 已存在"]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [f"密码至少{MIN_PASSWORD}位"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    user = User(username=username, display_name=(display_name or username).strip(),
                password_hash=_hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed.field("password", f"密码至少{MIN_PASSWORD}位")
    user.password_hash = _hash_password(password)
    db.session.flush()


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()))
    if user is None or not user.active or not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def assign_role(user: User, role: str, scope: County | Township | Organization, *, by: User | None = None
                ) -> RoleAssignment:
    if role not in ROLES:
        raise ValidationFailed.field("role", f"未知角色 {role}")
    expected = ROLES[role][0]
    kind = {County: "county", Township: "township", Organization: "organization"}[type(scope)]
    if kind != expected:
        raise ValidationFailed.field("role", f"角色 {ROLES[role][1]} 应分配到{ {'county': '县', 'township': '乡镇', 'organization': '组织'}[expected] }")
    existing = next((r for r in user.roles if r.role == role and getattr(r, f"{kind}_id") == scope.id), None)
    if existing:
        return existing
    ra = RoleAssignment(role=role, **{f"{kind}_id": scope.id})
    user.roles.append(ra)
    db.session.flush()
    _log_role("role.grant", user, ra, by)
    return ra


def revoke_role(user: User, ra: RoleAssignment, *, by: User | None = None) -> None:
    if ra not in user.roles:
        raise ValidationFailed.field("role", "该用户没有这个角色")
    _log_role("role.revoke", user, ra, by)
    user.roles.remove(ra)
    db.session.delete(ra)
    db.session.flush()


def _log_role(action: str, user: User, ra: RoleAssignment, by: User | None) -> None:
    # `coop verify` replays these events against role_assignments (coop.services.checks)
    from . import audit

    kind, scope_id = audit._scope(ra)
    audit.log(action, user=by, target=str(user.id), role=ra.role, scope=kind, scope_id=scope_id)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User, name: str) -> str:
    """Create a token and return it; only its hash is kept, so it cannot be shown again."""
    from . import audit

    raw = "coop_" + secrets.token_urlsafe(32)
    tok = ApiToken(user_id=user.id, name=(name or "API").strip()[:100], token_hash=_hash(raw))
    db.session.add(tok)
    db.session.flush()
    audit.log("token.issue", user=user, target=str(tok.id), name=tok.name)
    return raw


def revoke_api_token(user: User, token_id) -> None:
    from . import audit

    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise ValidationFailed.field("token", "令牌不存在") from None
    tok = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if tok is None or tok.user_id != user.id:
        raise ValidationFailed.field("token", "令牌不存在")
    tok.revoked_at = utcnow()
    db.session.flush()
    audit.log("token.revoke", user=user, target=str(tok.id))


def record_failed_login(username: str, ip: str | None) -> None:
    """A failed login in the audit log (the caller commits): who was tried, from where — never the password."""
    from . import audit

    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()[:80]))
    audit.log("login.failed", user=user, target=(username or "").strip()[:100], ip=ip or "")


def user_for_token(raw: str) -> User | None:
    tok = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash(raw or "")))
    if tok is None or tok.revoked_at is not None or not tok.user.active:
        return None
    return tok.user
