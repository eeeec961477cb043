"""Vouchers (RULES §3): 制单 → 审核 → 记账, gapless numbers, red reversal and adjusting vouchers.

Input `data` is what `VoucherInSchema` loads: date, word, attachment_count, lines[{summary, account_code,
debit, credit, counterparty}] with Decimal amounts (0 for an empty side).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coop.core import clock
from coop.core.text import N_
from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import roles
from coop.ledger.chart import CURRENT_YEAR_PROFIT, PNL, chart_account
from coop.ledger.digest import digest_of, lines_digest
from coop.ledger.types import Entry, Line
from coop.ledger.validate import validate_lines
from coop.core.money import ZERO, from_fen
from coop.models import DividendPayment, Organization, User, Voucher, VoucherLine, VoucherSequence
from coop.models.base import transaction_memo, utcnow
from coop.services import access, audit, periods
from coop.models.ledger import VoucherStatus, voucher_number
from coop.services.accounts import account_infos, chart
from coop.services.attachments import purge_unused
from coop.services.roles import resolve

#: what follows a voucher posted by hand, contributed by the modules above this one when they are imported
#: (closing: no 举债分配, and December's carry-over again for the difference); each may refuse the posting
AfterPosting = Callable[..., object]
AFTER_POSTING: list[AfterPosting] = []


def after_posting(fn: AfterPosting) -> AfterPosting:
    AFTER_POSTING.append(fn)
    return fn


def get_voucher(org: Organization, voucher_id: int) -> Voucher:
    v = db.session.get(Voucher, voucher_id)
    if v is None or v.organization_id != org.id:
        raise NotFound("找不到该凭证")
    return v


#: transaction memo: ids of the vouchers this transaction inserted
_WRITTEN = "coop_vouchers_written"


def _written_here(voucher: Voucher) -> None:
    transaction_memo(db.session, _WRITTEN, set).add(voucher.id)


def _lock(voucher: Voucher) -> None:
    """Re-read the voucher under a row lock before changing its state. A concurrent review, post, edit or delete
    of the same voucher waits here and then sees the new state; without it a second reviewer would overwrite
    记-0001 with 记-0002, or a delete would remove a voucher that had just taken a number (a gap).
    Only the version columns are read; the object is reloaded when they show someone else changed it.
    A voucher this transaction inserted is seen by no one else until it commits: nothing to lock or re-read."""
    if voucher.id in db.session.info.get(_WRITTEN, ()):
        return
    by_id = Voucher.id == voucher.id
    if sa.inspect(voucher).expired_attributes & {"status", "number", "updated_at"}:
        row = db.session.execute(sa.select(Voucher).where(by_id).with_for_update()
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
    else:  # loaded in this transaction: read only the version columns, reload if someone else changed them
        row = db.session.execute(sa.select(Voucher.status, Voucher.number, Voucher.updated_at).where(by_id)
                                 .with_for_update()).one_or_none()
        if row is not None and tuple(row) != (voucher.status, voucher.number, voucher.updated_at):
            db.session.refresh(voucher)
    if row is None:
        raise NotFound("找不到该凭证")


def _lines_from(data: dict) -> list[Line]:
    return [
        Line(l["account_code"], l.get("debit") or ZERO, l.get("credit") or ZERO, l.get("summary") or "",
             l.get("counterparty"))
        for l in data.get("lines", [])
    ]


def _is_red_input(kind: str, lines: list[Line]) -> bool:
    if kind == "red":
        return True
    if kind == "adjust":  # an adjusting voucher is all-red (decrease) or all-blue (increase)
        return any(l.debit < 0 or l.credit < 0 for l in lines)
    return False


def check_date(date: dt.date, path: str = "date") -> None:
    """Refuse a voucher date beyond the end of next month, Beijing time (RULES §3); the books' first month is
    checked with the period (periods.ensure_open)."""
    latest = clock.latest_voucher_date()
    if date > latest:
        raise ValidationFailed.field(path, f"凭证日期 {date} 晚于 {latest}（最晚为下月底），请检查年份和月份")


def _check(org: Organization, data: dict, kind: str) -> list[Line]:
    check_date(data["date"])
    lines = _lines_from(data)
    issues = validate_lines(lines, account_infos(org), red=_is_red_input(kind, lines))
    if issues:
        raise ValidationFailed.from_issues(issues)
    periods.ensure_open(org, data["date"])
    return lines


def _line_values(org: Organization, data: dict) -> list[dict]:
    """The voucher_lines columns of an entry, as stored."""
    ids = chart(org).ids
    return [
        dict(seq=seq, summary=l["summary"].strip(), account_id=ids[l["account_code"]],
             debit=l.get("debit") or ZERO, credit=l.get("credit") or ZERO, counterparty=(l.get("counterparty") or None))
        for seq, l in enumerate(data["lines"], start=1)
    ]


def _new_lines(org: Organization, data: dict) -> list[VoucherLine]:
    return [VoucherLine(**values) for values in _line_values(org, data)]


def create_draft(org: Organization, data: dict, *, user: User, kind: str = "normal",
                 corrects: Voucher | None = None) -> Voucher:
    """制单: a draft voucher. Every rule is checked now, so a draft is always a valid entry."""
    access.require(user, access.PREPARE, org)
    _check(org, data, kind)
    date: dt.date = data["date"]
    v = Voucher(
        organization_id=org.id, date=date, year=date.year, month=date.month, word=data.get("word") or "记",
        kind=kind, attachment_count=data.get("attachment_count") or 0, preparer_id=user.id,
        corrects_id=corrects.id if corrects else None, lines=_new_lines(org, data),
    )
    db.session.add(v)
    db.session.flush()
    _written_here(v)
    audit.log("voucher.draft", user=user, org=org, target=str(v.id), kind=kind)
    return v


#: what a register row that points at a voucher is called, for the refusal to edit or delete its draft
_SOURCES = {"loan_events": N_("贷款台账"), "subsidy_claims": N_("贴息拨付"), "project_contributions": N_("飞地抱团出资"),
            "project_return_lines": N_("飞地抱团收益"), "share_actions": N_("股权登记"),
            "distribution_plans": N_("收益分配方案"), "dividend_payments": N_("分红支付"),
            "contract_instalments": N_("合同台账"), "contract_receipts": N_("合同台账"), "assets": N_("资产台账"),
            "depreciation_runs": N_("资产台账（计提折旧）"), "inventories": N_("年度资产清查")}  # 三资 (#21)
_SOURCES.update({"spending_requests": N_("报账单"), "payout_batches": N_("分红代发"),
                 "cashier_signatures": N_("出纳签字")})  # 报账/出纳 (#22)


def _source(voucher: Voucher) -> str | None:
    """The register (loan, 贴息, 飞地抱团, shares, distribution) that wrote this voucher, if any: found through every
    foreign key to vouchers.id, so a register added later is covered too."""
    for table in db.metadata.sorted_tables:
        if table.name in ("vouchers", "voucher_lines", "attachments"):
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "vouchers" and fk.column.name == "id":
                found = db.session.execute(sa.select(sa.literal(1)).select_from(table)
                                           .where(fk.parent == voucher.id).limit(1)).first()
                if found:
                    return _SOURCES.get(table.name, table.name)
    return None


def generated_by(voucher: Voucher) -> str | None:
    return _source(voucher)


def _refuse_if_generated(voucher: Voucher, what: str) -> None:
    source = _source(voucher)
    if source:
        raise InvalidState(f"这张凭证由{source}生成，不能{what}；请审核，有误时在{source}中更正")


def _entries(lines) -> list[tuple]:
    """(account, debit, credit, counterparty) of each line, to the fen, in a fixed order: lines compared as a whole."""
    cent = Decimal("0.01")
    return sorted((code, Decimal(d or 0).quantize(cent), Decimal(c or 0).quantize(cent), (cp or "").strip())
                  for code, d, c, cp in lines)


def update_draft(voucher: Voucher, data: dict, *, user: User) -> Voucher:
    org = db.session.get(Organization, voucher.organization_id)
    access.require(user, access.PREPARE, org)
    _lock(voucher)
    if voucher.status != VoucherStatus.DRAFT:
        raise InvalidState("只有未审核的凭证可以修改", {"_schema": ["只有未审核的凭证可以修改；已审核的请先取消审核"]})
    _refuse_if_generated(voucher, "在这里修改")
    periods.ensure_open(org, voucher.date)
    _check(org, data, voucher.kind)
    if voucher.kind == "red" and voucher.corrects_id is not None and _entries(
            (l["account_code"], l.get("debit"), l.get("credit"), l.get("counterparty")) for l in data["lines"]) != _entries(
            (l.account.code, l.debit, l.credit, l.counterparty) for l in voucher.lines):
        # a posted red reversal undoes its original whole (a payment reversed pays nobody): it repeats every line
        raise ValidationFailed.field("lines", "红字冲销凭证须与原凭证的科目、往来单位和金额完全一致，只能修改日期和摘要；"
                                              "如只需冲销一部分，请删除此凭证，另做调整凭证或红字凭证")
    date: dt.date = data["date"]
    if voucher.number and (date.year, date.month) != (voucher.year, voucher.month):
        raise ValidationFailed.field("date", "已编号的凭证不能改到其他月份")
    # the number belongs to its word's sequence: 记-0001 turned 收-0001 leaves a hole and a 收 number twice
    if voucher.number and (data.get("word") or voucher.word) != voucher.word:
        raise ValidationFailed.field(
            "word", f"已编号的凭证不能改凭证字（{voucher.display_number}），请保持“{voucher.word}”字")
    voucher.lines.clear()
    db.session.flush()
    voucher.date, voucher.year, voucher.month = date, date.year, date.month
    voucher.word = data.get("word") or voucher.word
    voucher.attachment_count = data.get("attachment_count") or 0
    voucher.lines.extend(_new_lines(org, data))
    # four eyes (RULES §3): whoever rewrites the entry prepared it, so they cannot review it themselves
    voucher.preparer_id = user.id
    db.session.flush()
    audit.log("voucher.edit", user=user, org=org, target=str(voucher.id))
    return voucher


def delete_draft(voucher: Voucher, *, user: User) -> None:
    org = db.session.get(Organization, voucher.organization_id)
    access.require(user, access.PREPARE, org)
    _lock(voucher)
    if voucher.status != VoucherStatus.DRAFT:
        raise InvalidState("只有未审核的凭证可以删除")
    if voucher.number is not None:
        raise InvalidState("已编号的凭证不能删除（凭证号不能出现断号），请修改后重新审核")
    _refuse_if_generated(voucher, "删除")
    stored = [a.stored_name for a in voucher.attachments]
    for a in voucher.attachments:
        db.session.delete(a)
    audit.log("voucher.delete", user=user, org=org, target=str(voucher.id), date=voucher.date,
              attachments=len(stored))
    db.session.delete(voucher)
    db.session.flush()
    if stored:  # the files go with the draft, once the deletion is committed (a rollback keeps them)
        sa.event.listen(db.session(), "after_commit", lambda _s: purge_unused(stored), once=True)


def _number_upsert(dialect: str):
    t = VoucherSequence.__table__
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t)
    return (ins.values(organization_id=sa.bindparam("org"), year=sa.bindparam("year"), month=sa.bindparam("month"),
                       word=sa.bindparam("word"), last_number=sa.bindparam("count"))
            .on_conflict_do_update(index_elements=[t.c.organization_id, t.c.year, t.c.month, t.c.word],
                                   set_={"last_number": t.c.last_number + sa.bindparam("count")})
            .returning(t.c.last_number))


#: the numbering upsert of each dialect, built once (the Core table, not the ORM's bulk path: it runs per voucher)
_NUMBER_UPSERT = {d: _number_upsert(d) for d in ("postgresql", "sqlite")}


def _next_number(org: Organization, year: int, month: int, word: str, count: int = 1) -> int:
    """Take the next number (or the next `count`, returning the last) in one upsert: the row it updates stays
    locked until commit, so concurrent reviewers queue there and never share a number."""
    upsert = _NUMBER_UPSERT[db.session.get_bind().dialect.name]
    with db.session.no_autoflush:  # the pending audit entries go with the next flush, in one INSERT
        return db.session.execute(upsert, dict(org=org.id, year=year, month=month, word=word, count=count)
                                  ).scalar_one()


def review_voucher(voucher: Voucher, *, user: User) -> Voucher:
    """审核: by someone other than the preparer; assigns the voucher number if it has none."""
    org = db.session.get(Organization, voucher.organization_id)
    access.require(user, access.REVIEW, org)
    _lock(voucher)
    if voucher.status != VoucherStatus.DRAFT:
        raise InvalidState("只有未审核的凭证可以审核")
    if voucher.preparer_id == user.id:
        raise Forbidden("制单人不能审核自己编制的凭证")
    periods.ensure_open(org, voucher.date)
    if voucher.number is None:
        voucher.number = _next_number(org, voucher.year, voucher.month, voucher.word)
    # written with the next statement (or the commit): 审核 and 记账 in one transaction make one UPDATE
    voucher.status, voucher.reviewer_id, voucher.reviewed_at = VoucherStatus.REVIEWED, user.id, utcnow()
    audit.log("voucher.review", user=user, org=org, target=str(voucher.id))
    return voucher


def unreview_voucher(voucher: Voucher, *, user: User) -> Voucher:
    """取消审核: back to draft before posting; the number stays with the voucher."""
    org = db.session.get(Organization, voucher.organization_id)
    access.require(user, access.REVIEW, org)
    _lock(voucher)
    if voucher.status != VoucherStatus.REVIEWED:
        raise InvalidState("只有已审核、未记账的凭证可以取消审核")
    voucher.status, voucher.reviewer_id, voucher.reviewed_at = VoucherStatus.DRAFT, None, None
    db.session.flush()
    audit.log("voucher.unreview", user=user, org=org, target=str(voucher.id))
    return voucher


def post_voucher(voucher: Voucher, *, user: User) -> Voucher:
    """记账: a reviewed voucher in an open month becomes part of the books, for good."""
    org = db.session.get(Organization, voucher.organization_id)
    access.require(user, access.POST, org)
    _lock(voucher)
    if voucher.status != VoucherStatus.REVIEWED:
        raise InvalidState("只有已审核的凭证可以记账")
    if not org.opening_locked:
        raise InvalidState("期初余额尚未确认，不能记账")
    periods.ensure_open(org, voucher.date)
    # re-check the entry against the chart as it is now (an account may have gained children)
    codes = chart(org).codes
    issues = validate_lines(
        [Line(codes[l.account_id], l.debit, l.credit, l.summary) for l in voucher.lines],
        account_infos(org), red=_is_red_input(voucher.kind, [Line("", l.debit, l.credit) for l in voucher.lines]),
        require_counterparty=False,  # checked when written; a draft from before the rule still posts
    )
    if issues:
        raise ValidationFailed.from_issues(issues)
    if _lines_changed(voucher):  # written while the voucher is not posted yet (the database refuses them after)
        db.session.flush()
    voucher.status, voucher.poster_id, voucher.posted_at = VoucherStatus.POSTED, user.id, utcnow()
    audit.log("voucher.post", user=user, org=org, target=str(voucher.id), lines=lines_digest(voucher))
    # posted from here on, so the ORM guard refuses any later change; the entries pending go in the same flush
    db.session.flush()
    for step in AFTER_POSTING:  # e.g. December changed after its carry-over: carry the difference
        step(org, voucher, user=user, codes=codes)
    return voucher


def _lines_changed(voucher: Voucher) -> bool:
    """Lines of this voucher added, removed or edited in the session and not written yet."""
    return sa.inspect(voucher).attrs.lines.history.has_changes() or any(
        sa.inspect(l).pending or sa.inspect(l).modified for l in voucher.lines)


def post_many(org: Organization, entries: list[tuple[dict, str]], *, preparer: User, reviewer: User,
              poster: User) -> list[int]:
    """制单, 审核 and 记账 of many vouchers at once, for bulk imports: the rules of the one-by-one path (every entry
    checked against the chart, open months only, four eyes, gapless numbers in date order, a posting audit entry
    with the lines' digest per voucher), written with a few statements per batch instead of ~16 per voucher.
    `entries` are (data as `VoucherInSchema` loads it, kind) in date order. Returns the new ids in that order."""
    if not entries:
        return []
    access.require(preparer, access.PREPARE, org)
    access.require(reviewer, access.REVIEW, org)
    access.require(poster, access.POST, org)
    if reviewer.id == preparer.id:
        raise Forbidden("制单人不能审核自己编制的凭证")
    if not org.opening_locked:
        raise InvalidState("期初余额尚未确认，不能记账")
    infos = account_infos(org)
    for data, kind in entries:
        lines = _lines_from(data)
        issues = validate_lines(lines, infos, red=_is_red_input(kind, lines))
        if issues:
            raise ValidationFailed.from_issues(issues)
    for year, month in sorted({(d.year, d.month) for d in (data["date"] for data, _ in entries)}):
        check_date(dt.date(year, month, 1))
        periods.ensure_open(org, dt.date(year, month, 1))
    groups: dict[tuple[int, int, str], int] = {}
    for data, _ in entries:
        key = (data["date"].year, data["date"].month, data.get("word") or "记")
        groups[key] = groups.get(key, 0) + 1
    next_free = {key: _next_number(org, *key, count=n) - n + 1 for key, n in groups.items()}
    now = utcnow()
    rows = []
    for data, kind in entries:
        date, word = data["date"], data.get("word") or "记"
        key = (date.year, date.month, word)
        number, next_free[key] = next_free[key], next_free[key] + 1
        rows.append(dict(organization_id=org.id, date=date, year=date.year, month=date.month, word=word,
                         number=number, status=VoucherStatus.DRAFT, kind=kind,
                         attachment_count=data.get("attachment_count") or 0,
                         preparer_id=preparer.id, created_at=now, updated_at=now))
    # drafts first: the database refuses lines of a voucher that is already posted
    ids = list(db.session.scalars(sa.insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True), rows))
    line_rows, digests = [], []
    for voucher_id, (data, _) in zip(ids, entries):
        values = _line_values(org, data)
        line_rows += [dict(v, voucher_id=voucher_id) for v in values]
        digests.append(digest_of(values))
    db.session.execute(sa.insert(VoucherLine), line_rows)
    for start in range(0, len(ids), 500):
        db.session.execute(
            sa.update(Voucher).where(Voucher.id.in_(ids[start:start + 500]))
            .values(status=VoucherStatus.POSTED, reviewer_id=reviewer.id, reviewed_at=now, poster_id=poster.id,
                    posted_at=now,
                    updated_at=now).execution_options(synchronize_session=False))
    audit.log_many("voucher.review", user=reviewer, org=org, targets=[(str(i), {}) for i in ids])
    audit.log_many("voucher.post", user=poster, org=org,
                   targets=[(str(i), {"lines": d}) for i, d in zip(ids, digests)])
    return ids


PRIOR_YEAR_NOTE = "（以前年度损益调整）"


def retarget_prior_year(org: Organization, corrected: Voucher, data: dict) -> dict:
    """RULES §3: a red reversal or adjusting voucher of a voucher from a closed year sends its 损益 side to 32202
    未分配收益 (the 2023 chart has no 以前年度损益调整), never to this year's 损益 accounts, so this year's 经营收益
    (and the cadre-reward cap it drives) is untouched. The income statement shows it as 其他转入/调整."""
    if not periods.month_closed(org, corrected.year, 12):
        return data
    undistributed_leaf = resolve(org, roles.UNDISTRIBUTED)
    lines = []
    for line in data["lines"]:
        code = line["account_code"]
        if chart_account(code).category == PNL or code.startswith(CURRENT_YEAR_PROFIT):
            summary = (line.get("summary") or "").strip()
            line = {**line, "account_code": undistributed_leaf,
                    "summary": summary if summary.endswith(PRIOR_YEAR_NOTE) else summary + PRIOR_YEAR_NOTE}
        lines.append(line)
    return {**data, "lines": lines}


def reverse_voucher(voucher: Voucher, *, user: User, date: dt.date) -> Voucher:
    """红字冲销: a red draft repeating the original lines with negative amounts, linked to it."""
    org = db.session.get(Organization, voucher.organization_id)
    _lock(voucher)  # two reversals of one voucher: the second waits, then finds the first
    if voucher.status != VoucherStatus.POSTED:
        raise InvalidState("只有已记账的凭证可以红字冲销")
    if voucher.kind in ("red", "carryover"):
        raise InvalidState("红字凭证和年末结转凭证不能再冲销")
    if voucher.kind == "distribution":  # the plan, its 分红清册 and every payment stand on it
        raise InvalidState("收益分配凭证随分配方案记账，不能单独冲销（分红清册和发放都以它为准）；如方案有误，"
                           "请做补充分配或联系乡镇经管站")
    existing = db.session.scalar(sa.select(Voucher).where(Voucher.corrects_id == voucher.id, Voucher.kind == "red"))
    if existing is not None:
        raise InvalidState(f"该凭证已被 {existing.display_number} 冲销")
    summary = f"冲销 {voucher.month}月{voucher.date.day}日 {voucher.display_number} 号凭证"
    data = {
        "date": date,
        "word": voucher.word,
        "attachment_count": 0,
        "lines": [
            {"summary": summary, "account_code": l.account.code, "debit": -l.debit, "credit": -l.credit,
             "counterparty": l.counterparty}
            for l in voucher.lines
        ],
    }
    data = retarget_prior_year(org, voucher, data)  # a closed year's 损益 side goes to 32202
    return create_draft(org, data, user=user, kind="red", corrects=voucher)


def check_adjustable(voucher: Voucher) -> None:
    """Whether a 调整凭证 may correct the voucher (the adjust page asks before showing its form)."""
    if voucher.status != VoucherStatus.POSTED:
        raise InvalidState("只能对已记账的凭证做调整")
    # the 分红清册 and its payments stand on these vouchers' amounts: an adjustment would move 211 in the books
    # while the register stays as it was (a household shown paid but owed again, or owed what was never credited)
    if voucher.kind == "distribution":
        raise InvalidState("收益分配凭证随分配方案记账，不能做调整凭证（分红清册和发放都以它为准）；如方案有误，"
                           "请做补充分配或联系乡镇经管站")
    # a payment, or the red reversal that undid one (adjusting it would pay in the books whom the register has
    # unpaid again)
    payment = voucher.corrects_id if voucher.kind == "red" and voucher.corrects_id else voucher.id
    if db.session.scalar(sa.select(DividendPayment.id).where(DividendPayment.voucher_id == payment).limit(1)):
        raise InvalidState("分红发放凭证及其红字冲销凭证不能做调整凭证：款项退回时请红字冲销整张发放凭证（这些户重新"
                           "成为未发放），再重新发放")


def create_adjustment(voucher: Voucher, data: dict, *, user: User) -> Voucher:
    """调整凭证 for an amount-only error: one voucher for the difference (red decreases, blue increases)."""
    check_adjustable(voucher)
    org = db.session.get(Organization, voucher.organization_id)
    data = retarget_prior_year(org, voucher, data)  # a closed year's 损益 side goes to 32202
    return create_draft(org, data, user=user, kind="adjust", corrects=voucher)


def post_system_entry(org: Organization, entry: Entry, *, user: User, kind: str) -> Voucher:
    """Generated entries (year-end carry-over): numbered and posted at once, signed by the closing user."""
    lines = list(entry.lines)
    issues = validate_lines(lines, account_infos(org))
    if issues:  # a bug, not user input: the generator must produce valid entries
        raise InvalidState("系统生成的结转凭证无效：" + issues[0].message)
    ids = chart(org).ids
    v = Voucher(
        organization_id=org.id, date=entry.date, year=entry.date.year, month=entry.date.month, word="记",
        kind=kind, status=VoucherStatus.DRAFT, preparer_id=None,
    )
    for seq, l in enumerate(lines, start=1):
        v.lines.append(VoucherLine(seq=seq, summary=l.summary, account_id=ids[l.account_code],
                                   debit=l.debit, credit=l.credit, counterparty=l.counterparty))
    db.session.add(v)
    db.session.flush()
    v.number = _next_number(org, v.year, v.month, v.word)
    now = utcnow()
    v.status, v.reviewer_id, v.reviewed_at = VoucherStatus.REVIEWED, user.id, now
    db.session.flush()
    v.status, v.poster_id, v.posted_at = VoucherStatus.POSTED, user.id, now
    db.session.flush()
    audit.log("voucher.generate", user=user, org=org, target=str(v.id), kind=kind, lines=lines_digest(v))
    return v


def write_for(org: Organization, entry: Entry, *, user: User, kind: str = "normal", attachments: int = 0) -> Voucher:
    """A voucher the system writes for what `user` did (RULES §3 four eyes): prepared in their name. The village's
    own accountant gets a draft to review and post as usual; a county or township user writing into a village's
    books leaves a draft for the village's reviewer too, unless the village's policy lets the county post
    (`county_may_post`): then it is numbered and posted at once, reviewed and posted in the acting user's name.
    Bad input (an unknown or non-leaf account, a closed month) is a ValidationFailed/PeriodClosed, nothing written."""
    lines = list(entry.lines)
    issues = validate_lines(lines, account_infos(org))
    if issues:
        raise ValidationFailed.from_issues(issues)
    check_date(entry.date)
    periods.ensure_open(org, entry.date)
    own = access.can(user, access.PREPARE, org)
    if not own and org.county_may_post:
        return post_system_entry(org, entry, user=user, kind=kind)
    ids = chart(org).ids
    v = Voucher(organization_id=org.id, date=entry.date, year=entry.date.year, month=entry.date.month, word="记",
                kind=kind, status=VoucherStatus.DRAFT, preparer_id=user.id, attachment_count=attachments)
    for seq, l in enumerate(lines, start=1):
        v.lines.append(VoucherLine(seq=seq, summary=l.summary, account_id=ids[l.account_code],
                                   debit=l.debit, credit=l.credit, counterparty=l.counterparty))
    db.session.add(v)
    db.session.flush()
    audit.log("voucher.prepare", user=user, org=org, target=str(v.id), kind=kind, for_village=not own)
    return v


def _filtered(org: Organization, *, year: int | None = None, month: int | None = None,
              status: str | None = None, account_code: str | None = None, text: str | None = None,
              date_from: dt.date | None = None, date_to: dt.date | None = None):
    q = sa.select(Voucher).where(Voucher.organization_id == org.id)
    if year:
        q = q.where(Voucher.year == year)
    if month:
        q = q.where(Voucher.month == month)
    if status:
        q = q.where(Voucher.status == status)
    if date_from:
        q = q.where(Voucher.date >= date_from)
    if date_to:
        q = q.where(Voucher.date <= date_to)
    if account_code or text:
        from coop.models import Account

        sub = sa.select(VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
        if account_code:
            sub = sub.where(Account.code.startswith(account_code))
        if text:
            sub = sub.where(VoucherLine.summary.contains(text))
        q = q.where(Voucher.id.in_(sub))
    return q


def list_vouchers(org: Organization, *, limit: int | None = None, offset: int = 0, **filters):
    """One page of the vouchers matching `filters` (with their lines and accounts, and their red reversals), and
    how many match."""
    q = _filtered(org, **filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    q = q.order_by(Voucher.date, Voucher.number.is_(None), Voucher.number, Voucher.id).offset(offset)
    if limit:
        q = q.limit(limit)
    from sqlalchemy.orm import selectinload

    # the lines, and the red reversals behind `reversed_by_id`, each in one query for the page (not one a voucher)
    q = q.options(selectinload(Voucher.lines).selectinload(VoucherLine.account), selectinload(Voucher.corrections))
    return list(db.session.scalars(q)), total


@dataclass(frozen=True)
class VoucherRow:
    """A voucher as a list shows it: its own columns, who prepared it, its first line's summary, how many lines
    it has and its 借方 total."""

    id: int
    date: dt.date
    word: str
    number: int | None
    status: str
    kind: str
    attachment_count: int
    preparer_name: str | None
    summary: str
    line_count: int
    total_debit: Decimal

    @property
    def display_number(self) -> str:
        return voucher_number(self.word, self.number)


def voucher_rows(org: Organization, *, limit: int, offset: int = 0, **filters) -> list[VoucherRow]:
    """One page of the vouchers matching `filters` as a list shows them, in two statements (the vouchers with
    who prepared them, then their lines' summaries and amounts), not an object a voucher and a line."""
    v = Voucher.__table__
    page = db.session.execute(
        _filtered(org, **filters)
        .with_only_columns(v.c.id, v.c.date, v.c.word, v.c.number, v.c.status, v.c.kind, v.c.attachment_count,
                           User.display_name)
        .outerjoin(User, User.id == v.c.preparer_id)
        .order_by(v.c.date, v.c.number.is_(None), v.c.number, v.c.id).offset(offset).limit(limit)).all()
    lines: dict[int, list] = {row.id: [] for row in page}
    if lines:
        for voucher_id, _seq, summary, debit in db.session.execute(
                sa.select(VoucherLine.voucher_id, VoucherLine.seq, VoucherLine.summary, VoucherLine.debit)
                .where(VoucherLine.voucher_id.in_(list(lines))).order_by(VoucherLine.voucher_id, VoucherLine.seq)):
            lines[voucher_id].append((summary, debit))
    return [VoucherRow(r.id, r.date, r.word, r.number, r.status, r.kind, r.attachment_count, r.display_name,
                       lines[r.id][0][0] if lines[r.id] else "", len(lines[r.id]),
                       sum((d for _s, d in lines[r.id]), Decimal("0.00")))
            for r in page]


def voucher_summary(org: Organization, **filters) -> tuple[int, Decimal, Decimal]:
    """How many vouchers match `filters` and their 借方 and 贷方 totals, counted and summed in SQL (a list shows
    one page of them)."""
    ids = _filtered(org, **filters).with_only_columns(Voucher.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    debit, credit = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(d), 0), sa.func.coalesce(sa.func.sum(c), 0))
        .where(VoucherLine.voucher_id.in_(ids))).one()
    return count, from_fen(int(debit)), from_fen(int(credit))
