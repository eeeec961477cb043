"""常用凭证 (saved voucher templates), 常用摘要, recurring monthly vouchers, and the account picker's data with
助记码 (pinyin initials).

A template keeps lines as typed (amounts may be empty, to be filled at entry). A template flagged monthly
generates its draft for a month on demand; the (template, year, month) unique key makes that idempotent — a second
run, even a concurrent one, finds the month done.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache

import sqlalchemy as sa

from coop.core.errors import NotFound, ValidationFailed
from coop.core.extensions import db
from coop.models import Organization, User, Voucher, VoucherLine, VoucherTemplate, VoucherTemplateRun
from coop.schemas.ledger import WORDS
from coop.services import access, audit, periods
from coop.services.accounts import accounts_of
from coop.services.vouchers import create_draft


# ---------------------------------------------------------------- 助记码 and the picker


@lru_cache(maxsize=50000)
def initials(name: str) -> str:
    """银行存款 → 'yhck': the first letter of each character's pinyin (letters and digits kept as they are).
    Cached: computed once per account name in a process."""
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:  # the picker still works by code and name
        return ""
    out = []
    for syllable in lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda s: list(s)):
        ch = syllable[:1].lower()
        if ch.isalnum():
            out.append(ch)
    return "".join(out)


def picker_accounts(org: Organization) -> list[dict]:
    """Leaf, active accounts for the picker: code, name, the full path (10201 银行存款—农业银行) and 助记码 of
    both the path and the name."""
    chart = accounts_of(org)
    by_id = {a.id: a for a in chart}
    out = []
    for a in chart:
        if not (a.is_leaf and a.active):
            continue
        names, p = [], a
        while p is not None:
            names.append(p.name)
            p = by_id.get(p.parent_id) if p.parent_id else None
        path = "—".join(reversed(names))
        out.append({"code": a.code, "name": a.name, "path": f"{a.code} {path}",
                    "py": " ".join(dict.fromkeys([initials(a.name), initials(path.replace("—", ""))]))})
    return out


def common_summaries(org: Organization, limit: int = 30) -> list[str]:
    """常用摘要: the organization's most used line summaries (one grouped query)."""
    text = sa.func.trim(VoucherLine.summary)
    return list(db.session.scalars(
        sa.select(text).join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.organization_id == org.id, Voucher.kind == "normal", VoucherLine.summary != "")
        .group_by(text).order_by(sa.func.count().desc(), text).limit(limit)))


# ---------------------------------------------------------------- templates


def templates_of(org: Organization) -> list[VoucherTemplate]:
    return list(db.session.scalars(
        sa.select(VoucherTemplate).where(VoucherTemplate.organization_id == org.id).order_by(VoucherTemplate.name)))


def get_template(org: Organization, template_id: int) -> VoucherTemplate:
    t = db.session.get(VoucherTemplate, template_id)
    if t is None or t.organization_id != org.id:
        raise NotFound("找不到该常用凭证")
    return t


def template_lines(t: VoucherTemplate) -> list[dict]:
    return json.loads(t.lines)


def _amount(value) -> str:
    return "" if not value else f"{Decimal(value):.2f}"


def save_template(org: Organization, *, name: str, voucher: Voucher, monthly: bool = False, day: int | None = None,
                  keep_amounts: bool = True, user: User) -> VoucherTemplate:
    """Keep a voucher's lines as a template (amounts kept, or left to be typed)."""
    access.require(user, access.PREPARE, org)
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = ["请填写常用凭证的名称"]
    elif len(name) > 100:
        errors["name"] = ["名称最多 100 个字"]
    elif db.session.scalar(sa.select(VoucherTemplate.id).where(VoucherTemplate.organization_id == org.id,
                                                               VoucherTemplate.name == name)):
        errors["name"] = [f"已有名为“{name}”的常用凭证"]
    if day is not None and not 1 <= day <= 28:
        errors["day"] = ["日期应在 1 到 28 之间（不填为月末）"]
    if monthly and not keep_amounts:
        errors["monthly"] = ["每月自动生成的凭证须保留金额"]
    if voucher.organization_id != org.id:
        raise NotFound("找不到该凭证")
    if errors:
        raise ValidationFailed("常用凭证未保存", errors)
    lines = [{"summary": l.summary, "account_code": l.account.code,
              "debit": _amount(l.debit) if keep_amounts else "", "credit": _amount(l.credit) if keep_amounts else "",
              "counterparty": l.counterparty or ""} for l in voucher.lines]
    t = VoucherTemplate(organization_id=org.id, name=name, word=voucher.word if voucher.word in WORDS else "记",
                        lines=json.dumps(lines, ensure_ascii=False), monthly=monthly, day=day, created_by_id=user.id)
    db.session.add(t)
    db.session.flush()
    audit.log("voucher_template.save", user=user, org=org, target=str(t.id), name=name)
    return t


def delete_template(t: VoucherTemplate, *, user: User) -> None:
    org = db.session.get(Organization, t.organization_id)
    access.require(user, access.PREPARE, org)
    db.session.execute(sa.delete(VoucherTemplateRun).where(VoucherTemplateRun.template_id == t.id))
    db.session.delete(t)
    db.session.flush()
    audit.log("voucher_template.delete", user=user, org=org, target=str(t.id), name=t.name)


def form_values(t: VoucherTemplate, date: dt.date) -> dict:
    """A template → the voucher form's values (strings, as typed)."""
    return {"date": date.isoformat(), "word": t.word, "attachment_count": "0", "lines": template_lines(t)}


def _month_date(t: VoucherTemplate, year: int, month: int) -> dt.date:
    if t.day:
        return dt.date(year, month, t.day)
    return (dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1) - dt.timedelta(days=1))


def generate_month(org: Organization, year: int, month: int, *, user: User) -> tuple[list[Voucher], list[str]]:
    """Drafts of every monthly template for the month, each once: returns (new drafts, names already done).
    A template whose lines no longer pass the rules (an account since split) raises with its name."""
    access.require(user, access.PREPARE, org)
    periods.ensure_open(org, dt.date(year, month, 1), path="month")
    made, done = [], []
    for t in templates_of(org):
        if not t.monthly:
            continue
        # the template row locked first: a concurrent generation of the same month waits here, then finds the run
        # row the first one committed and skips (the unique key is the last line of defence)
        db.session.execute(sa.select(VoucherTemplate.id).where(VoucherTemplate.id == t.id).with_for_update())
        exists = db.session.scalar(sa.select(VoucherTemplateRun.id).where(
            VoucherTemplateRun.template_id == t.id, VoucherTemplateRun.year == year,
            VoucherTemplateRun.month == month))
        if exists:
            done.append(t.name)
            continue
        run = VoucherTemplateRun(template_id=t.id, year=year, month=month)
        db.session.add(run)
        db.session.flush()
        data = {"date": _month_date(t, year, month), "word": t.word, "attachment_count": 0,
                "lines": [{"summary": l["summary"], "account_code": l["account_code"],
                           "debit": Decimal(l["debit"] or 0), "credit": Decimal(l["credit"] or 0),
                           "counterparty": l.get("counterparty") or None} for l in template_lines(t)]}
        try:
            v = create_draft(org, data, user=user)
        except ValidationFailed as exc:
            raise ValidationFailed(f"常用凭证“{t.name}”不能生成：{exc.message}", exc.errors) from exc
        run.voucher_id = v.id
        made.append(v)
    db.session.flush()
    if made:
        audit.log("voucher_template.generate", user=user, org=org, target=f"{year}-{month:02d}",
                  vouchers=[v.id for v in made])
    return made, done

