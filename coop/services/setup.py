"""A county from zero: the first-run set-up (county, policy defaults, code scheme, first county admin), townships,
and each village's 建账进度 checklist (what is done, what is missing, where to do it)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger import codes
from coop.models import Account, County, Member, Organization, QuantificationPlan, RoleAssignment, Township, User
from coop.models.shares import QuantificationStatus
from coop.services import access, audit, orgs, periods, roles, users
from coop.services.admin import one_time_password
from coop.services.accounts import local_code, REQUIRED_DETAILS
from coop.services.opening import opening_difference

#: advisory lock key of the first run (one number, distinct from the books' and the share register's)
FIRST_RUN_LOCK = 190001

#: county policy defaults a first run may set (RULES §1); anything not given keeps the model default
POLICY_FIELDS = ("reserve_rate", "cadre_reward_cap", "cash_limit", "buyback_limit", "disclosure_due_days")


def configured_token() -> str | None:
    """The installation's setup token (COOP_SETUP_TOKEN); without one the first-run page and API do not exist."""
    return current_app.config.get("SETUP_TOKEN") or os.environ.get("COOP_SETUP_TOKEN") or None


def setup_county(name: str, *, code_scheme: str | None = None, admin_username: str, admin_display_name: str = "",
                 **policy) -> tuple[County, User, str]:
    """Create a county with its code scheme and policy defaults, and its first county admin with a one-time
    password (returned once; changed at first login). Flushes only: the caller commits once."""
    name = (name or "").strip()
    errors: dict = {}
    if not name:
        errors["name"] = ["请填写县名"]
    elif db.session.scalar(sa.select(County.id).where(County.name == name)):
        errors["name"] = [f"县“{name}”已存在"]
    if not (admin_username or "").strip():
        errors["admin_username"] = ["请填写县级管理员的用户名"]
    elif db.session.scalar(sa.select(User.id).where(User.username == admin_username.strip())):
        errors["admin_username"] = [f"用户名 {admin_username.strip()} 已被使用"]
    if code_scheme and code_scheme not in codes.CHOICES:
        errors["code_scheme"] = [f"科目编码方案应为 {'、'.join(codes.CHOICES)} 之一"]
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        errors.update({k: ["未知的参数"] for k in sorted(unknown)})
    for key in ("reserve_rate", "cadre_reward_cap", "buyback_limit"):
        if policy.get(key) is not None and not Decimal(0) <= Decimal(policy[key]) <= 1:
            errors[key] = ["比例应在0到100%之间"]
    if policy.get("cash_limit") is not None and Decimal(policy["cash_limit"]) < 0:
        errors["cash_limit"] = ["库存现金限额不能为负数"]
    if policy.get("disclosure_due_days") is not None and not 1 <= int(policy["disclosure_due_days"]) <= 90:
        errors["disclosure_due_days"] = ["公开期限应在1到90天之间"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    county = orgs.create_county(name, code_scheme=code_scheme or codes.DEFAULT_KEY,
                                **{k: v for k, v in policy.items() if v is not None})
    password = one_time_password()
    admin = users.create_user(admin_username.strip(), (admin_display_name or "").strip() or admin_username.strip(),
                              password, one_time=True)
    users.assign_role(admin, "county_admin", county)
    audit.log("county.setup", user=None, target=county.name, code_scheme=county.code_scheme, admin=admin.username,
              **{k: str(v) for k, v in policy.items() if v is not None})
    return county, admin, password


def first_run(data: dict, *, configured_token: str | None) -> tuple[County, User, str]:
    """The first county over the network (web or API): only while the database has no county, and only with the
    installation's setup token (COOP_SETUP_TOKEN, set by whoever installed the server); without a token the
    first run is the command line's alone. NotFound when not available, so nothing is learnt."""
    import hmac

    from coop.core.errors import NotFound

    if not configured_token:
        raise NotFound("找不到该页面")
    # two first runs at once: the second waits here, then finds the county (SQLite: the FOR UPDATE takes the
    # engine's write lock, see coop/__init__.py)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(FIRST_RUN_LOCK)))
    if db.session.scalar(sa.select(County.id).limit(1).with_for_update()):
        raise NotFound("找不到该页面")
    given = data.pop("setup_token", "") or ""
    if not hmac.compare_digest(given.encode(), configured_token.encode()):
        raise ValidationFailed.field("setup_token", "安装口令不正确")
    fields = {k: v for k, v in data.items() if k in POLICY_FIELDS}
    return setup_county(data["name"], code_scheme=data.get("code_scheme"), admin_username=data["admin_username"],
                        admin_display_name=data.get("admin_display_name", ""), **fields)


def county_of(admin: User) -> County:
    ids = access.administered_counties(admin)
    if not ids:
        from coop.core.errors import NotFound

        raise NotFound("找不到该县")
    return db.session.get(County, ids[0])


def add_township(admin: User, name: str) -> Township:
    """A township in the admin's county; names are unique within the county."""
    county = county_of(admin)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "请填写乡镇名称")
    if len(name) > 100:
        raise ValidationFailed.field("name", "乡镇名称不能超过100个字")
    if db.session.scalar(sa.select(Township.id).where(Township.county_id == county.id, Township.name == name)):
        raise ValidationFailed.field("name", f"本县已有乡镇“{name}”")
    t = orgs.create_township(county, name)
    audit.log("township.create", user=admin, target=name, county=county.name)
    return t


# ---------------------------------------------------------------- 建账进度

_ROLE_PROBLEMS = {roles.UNMAPPED: "尚未对照科目", roles.NOT_LEAF: "对照的科目有下级科目，须对照到末级科目",
                  roles.INACTIVE: "对照的科目已停用", roles.OUTSIDE: "对照的科目不在规定的一级科目下"}


@dataclass
class Step:
    key: str
    label: str
    done: bool
    missing: list[str] = field(default_factory=list)
    endpoint: str = ""


def progress(org: Organization) -> list[Step]:
    """The village's 建账进度, in the order the steps are done. Each step says what is still missing and names
    the page (a Flask endpoint taking org_id) where it is done."""
    steps: list[Step] = []

    seeded = [local_code(org, c) for c, _name in REQUIRED_DETAILS]  # every organization has these from the start
    details = db.session.scalar(sa.select(sa.func.count()).select_from(Account).where(
        Account.organization_id == org.id, Account.parent_id.is_not(None), Account.code.not_in(seeded)))
    # a village may keep first-level accounts only: once its opening balances are locked, its chart is settled
    chart_done = bool(details) or org.opening_locked
    steps.append(Step("chart", N_("会计科目与明细科目"), chart_done,
                      [] if chart_done else ["尚未增设明细科目（可导入原账套的科目表）"], "setup.chart"))
    role_problems = roles.problems(org)
    steps.append(Step("roles", N_("科目对照（记账角色）"), not role_problems,
                      [f"{p.role.label}：{_ROLE_PROBLEMS.get(p.problem, p.problem)}" for p in role_problems], "ledger.posting_roles"))
    if org.opening_locked:
        steps.append(Step("opening", N_("期初余额已锁定"), True, [], "ledger.opening"))
    else:
        diff = opening_difference(org)
        steps.append(Step("opening", N_("期初余额已锁定"), False,
                          ["期初余额尚未锁定" + (f"（借贷相差 {diff}）" if diff else "")], "ledger.opening"))
    members = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.organization_id == org.id))
    steps.append(Step("roster", N_("成员名册已导入"), bool(members), [] if members else ["尚无成员"],
                      "members.roster_import"))
    issued = db.session.scalar(sa.select(QuantificationPlan.id).where(
        QuantificationPlan.organization_id == org.id,
        QuantificationPlan.status == QuantificationStatus.ISSUED).limit(1))
    steps.append(Step("shares", N_("股权量化方案已发布"), bool(issued), [] if issued else ["股权量化方案尚未发布"],
                      "shares.plans"))
    have = set(db.session.scalars(sa.select(RoleAssignment.role).where(RoleAssignment.organization_id == org.id)))
    needed = {"accountant": "会计", "reviewer": "审核"}
    lacking = [f"尚无{label}账户" for role, label in needed.items() if role not in have]
    steps.append(Step("users", N_("用户与角色"), not lacking, lacking, "admin.accounts"))
    closed = periods.last_closed(org)
    steps.append(Step("month", N_("第一个月已结账"), closed is not None,
                      [] if closed else [f"{org.books_start_year}年{org.books_start_month}月尚未结账"],
                      "ledger.periods"))
    return steps
