"""Users, roles and API tokens; passwords and the account lifecycle (RULES §13).

Every account act that takes something away (a reset, a deactivation, a role removed, a password changed, a logout)
bumps the user's `session_version`, which is part of every session and remember cookie (User.get_id), so all of
them end at once.
"""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import ApiToken, County, Organization, RoleAssignment, Township, User
from coop.models.base import utcnow
from coop.models.users import ROLES
from coop.services import audit

#: the floor for any stored password (seeded demo and test users); people's own passwords pass `password_problem`
MIN_PASSWORD = 8
#: RULES §13: what a person may choose
POLICY_MIN_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@functools.cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(l.strip().lower() for l in lines if l.strip() and not l.startswith("#"))


def password_problem(password: str, *, username: str = "", display_name: str = "") -> str | None:
    """Why a password a person chose is refused (RULES §13), or None: at least 10 characters, not on the
    common-password list (nor one of them with digits or punctuation around it), not the username or name, and
    not all of one kind (only digits, only letters)."""
    pw = password or ""
    if len(pw) < POLICY_MIN_LENGTH:
        return f"密码至少{POLICY_MIN_LENGTH}位"
    low = pw.lower()
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", low)
    common = _common_passwords()
    if low in common or core in common or (len(core) >= 4 and len(set(core)) <= 2):
        return "密码太常见，请换一个不容易被猜到的密码"
    for name in (username, display_name):
        name = (name or "").strip().lower()
        if len(name) >= 3 and name in low:
            return "密码不能包含用户名或姓名"
    kinds = sum(bool(re.search(p, pw)) for p in (r"[A-Za-z]", r"\d", r"[^A-Za-z\d]"))
    if kinds < 2 or len(set(pw)) <= 2:
        return "密码应包含字母、数字、符号中的至少两类"
    return None


def check_password_policy(password: str, *, username: str = "", display_name: str = "",
                          path: str = "password") -> None:
    if problem := password_problem(password, username=username, display_name=display_name):
        raise ValidationFailed.field(path, problem)


def create_user(username: str, display_name: str, password: str, *, one_time: bool = False) -> User:
    """A user with `password`. `one_time`: an account created for someone else — the policy applies and the
    password must be changed at first login. Without it (seeded demo and test users) only MIN_PASSWORD does."""
    username = (username or "").strip()
    errors: dict = {}
    if not username:
        errors["username"] = ["请填写用户名"]
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = [f"用户名 {username} 已存在"]
    problem = (password_problem(password, username=username, display_name=display_name) if one_time else
               f"密码至少{MIN_PASSWORD}位" if len(password or "") < MIN_PASSWORD else None)
    if problem:
        errors["password"] = [problem]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    user = User(username=username, display_name=(display_name or username).strip(),
                password_hash=_hash_password(password), must_change_password=one_time, session_version=1)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed.field("password", f"密码至少{MIN_PASSWORD}位")
    user.password_hash = _hash_password(password)
    db.session.flush()


def end_sessions(user: User) -> None:
    """Every session and remember cookie of the user stops working (they carry the old version)."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()


def change_own_password(user: User, *, current: str, new: str, confirm: str | None = None) -> None:
    """The user's own change (also the forced one at first login): the current password, then the policy. Ends
    every other session; the caller logs the user in again with the new version."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationFailed.field("current_password", "当前密码不正确")
    if confirm is not None and new != confirm:
        raise ValidationFailed.field("confirm_password", "两次输入的新密码不一致")
    if check_password_hash(user.password_hash, new or ""):
        raise ValidationFailed.field("new_password", "新密码不能与当前密码相同")
    check_password_policy(new, username=user.username, display_name=user.display_name, path="new_password")
    user.password_hash = _hash_password(new)
    user.must_change_password = False
    end_sessions(user)
    audit.log("user.password_change", user=user, target=user.username)


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


#: checked against when the username is unknown, so both cases take the same time
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
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

    kind, scope_id = audit._scope(ra)
    audit.log(action, user=by, target=str(user.id), role=ra.role, scope=kind, scope_id=scope_id)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user: User, name: str) -> str:
    """Create a token and return it; only its hash is kept, so it cannot be shown again."""
    raw = "coop_" + secrets.token_urlsafe(32)
    tok = ApiToken(user_id=user.id, name=(name or "API").strip()[:100], token_hash=_hash(raw))
    db.session.add(tok)
    db.session.flush()
    audit.log("token.issue", user=user, target=str(tok.id), name=tok.name)
    return raw


def revoke_api_token(user: User, token_id) -> None:
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
    user = db.session.scalar(sa.select(User).where(User.username == (username or "").strip()[:80]))
    audit.log("login.failed", user=user, target=(username or "").strip()[:100], ip=ip or "")


def revoke_all_tokens(user: User) -> int:
    """Revoke every live API token of the user (a reset, a deactivation); returns how many."""
    live = list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.revoked_at.is_(None))))
    for tok in live:
        tok.revoked_at = utcnow()
    db.session.flush()
    return len(live)


def user_for_token(raw: str) -> User | None:
    tok = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _hash(raw or "")))
    if tok is None or tok.revoked_at is not None or not tok.user.active or tok.user.must_change_password:
        return None
    return tok.user
