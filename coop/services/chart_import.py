"""Bringing existing books in: a village's chart of 明细科目 and its opening balances by counterparty, from xlsx.

Both follow the roster import (coop.services.members): a dry run lists every problem by row and writes nothing;
only a clean file is imported, whole (one transaction, the caller commits) and once (the file's SHA-256 is the
target of the audit entry, coop.services.imports). Codes are checked against the county's code scheme
(coop.ledger.codes). Common export layouts are accepted: the header row may sit below a title, and each field
has the column names the accounting packages villages use (COLUMN_ALIASES); a mapping given explicitly wins.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.export_safety import workbook_bytes
from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.chart import CHART_2023, COUNTERPARTY_ACCOUNTS, CREDIT
from coop.core.money import ZERO, AmountError, format_plain, parse_amount
from coop.models import Organization, User
from coop.services import access, audit
from coop.services.accounts import _has_activity, account_map, add_detail_account, locked_leaves, scheme_of
from coop.services.file_limits import cap, check_xlsx
from coop.services.imports import already_imported, file_key, lock_for_import
from coop.services.opening import lock_opening_balances, map_2004_balances, set_opening_balances

CHART_ACTION = "chart.import"
OPENING_ACTION = "opening.import"

#: field → column names found in the exports of the packages in use (the first is the template's)
COLUMN_ALIASES = {
    "code": ("科目编码", "科目代码", "编码", "代码", "科目号"),
    "name": ("科目名称", "名称", "科目全称"),
    "counterparty": ("往来单位", "辅助核算", "核算项目", "往来户", "单位名称", "客户/供应商"),
    "debit": ("借方余额", "期初借方", "年初借方", "期初借方余额", "年初余额借方", "借方"),
    "credit": ("贷方余额", "期初贷方", "年初贷方", "期初贷方余额", "年初余额贷方", "贷方"),
    "direction": ("余额方向", "方向"),
    "balance": ("期初余额", "年初余额", "余额"),
    #: 2004-system files: the new account an old one goes to, where the 对照表 offers a choice or a 明细科目
    "target": ("新科目编码", "转入科目", "新制度科目"),
}
CHART_COLUMNS = ("科目编码", "科目名称")
OPENING_COLUMNS = ("科目编码", "科目名称", "往来单位", "借方余额", "贷方余额")


@dataclass
class Sheet:
    """The rows of a file, each a dict field → text, with its spreadsheet line number under "_line"."""
    rows: list[dict]
    columns: dict[str, str]  # field → the header it was read from


def read_sheet(data: bytes, required: tuple[str, ...], mapping: dict[str, str] | None = None) -> Sheet:
    """Read the first sheet of an xlsx. The header is the first of the top 10 rows naming a code column."""
    from openpyxl import load_workbook

    check_xlsx(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        grid = [["" if c is None else _text(c) for c in row] for row in wb.active.iter_rows(values_only=True)]
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException…: a 422, not a 500
        raise ValidationFailed.field("file", f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None
    mapping = {k: v for k, v in (mapping or {}).items() if k in COLUMN_ALIASES and v}
    for h, header in enumerate(grid[:10]):
        cols = _columns(header, mapping)
        if "code" in cols:
            break
    else:
        exc = ValidationFailed.field("file", f"找不到表头：前10行中应有“{COLUMN_ALIASES['code'][0]}”列（或在下面指定各列）")
        exc.header = next((r for r in grid[:10] if sum(1 for c in r if c) >= 2), [])  # for the mapping form
        raise exc
    absent = [f for f in required if f not in cols]
    if {"direction", "balance"} <= set(cols):  # the 余额方向 + 余额 layout instead of two amount columns
        absent = [f for f in absent if f not in ("debit", "credit")]
    missing = [COLUMN_ALIASES[f][0] for f in absent]
    if missing:
        exc = ValidationFailed.field("file", f"缺少列：{'、'.join(missing)}（第 {h + 1} 行为表头；也可在下面指定各列）")
        exc.header = [c for c in header if c]
        raise exc
    rows = []
    for n, r in enumerate(grid[h + 1:], start=h + 2):
        if not any(r):
            continue
        rows.append({f: (r[i] if i < len(r) else "") for f, i in cols.items()} | {"_line": n})
    if not rows:
        raise ValidationFailed.field("file", "文件中没有数据行")
    return Sheet(rows, {f: header[i] for f, i in cols.items()})


def _text(value) -> str:
    if isinstance(value, float):  # Excel numbers: 1002.0 → "1002", 12.5 → "12.5" (exact via repr)
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for f, names in COLUMN_ALIASES.items():
        wanted = ((mapping[f],) if f in mapping else ()) + names  # the mapping first, then the usual names
        for name in wanted:
            if name in header:
                cols[f] = header.index(name)
                break
    return cols


@dataclass
class Check:
    """A dry run: what would be written, and every problem as (line, message); line 0 concerns the whole file."""
    items: list = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    totals: tuple[Decimal, Decimal] = (ZERO, ZERO)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)

    def refuse(self, message: str):
        raise ValidationFailed(message, {"rows": {str(line): [msg] for line, msg in self.problems}})


def _finish(check: Check) -> Check:
    check.problems.sort()
    check.problems = cap(check.problems, lambda n: (10**9, f"另有 {n} 处问题未列出，请先改正以上问题"))
    return check


# ---------------------------------------------------------------- chart of 明细科目


def check_chart(org: Organization, sheet: Sheet, key: str | None = None) -> Check:
    """Rows (code, name) → the 明细科目 to add, parents before children. A row naming an existing account with
    the same name is skipped (a full chart export lists the 42 first-level accounts too)."""
    result = Check()
    if key and (msg := already_imported(org, CHART_ACTION, key)):
        result.problems = [(0, msg)]
        return result
    scheme = scheme_of(org)
    accounts = account_map(org)
    locked = locked_leaves(org)
    seen: dict[str, int] = {}
    new: dict[str, tuple[int, str]] = {}
    for row in sheet.rows:
        line, code, name = row["_line"], row.get("code", "").strip(), row.get("name", "").strip()
        if not code:
            result.problems.append((line, "科目编码为空"))
            continue
        if code in seen:
            result.problems.append((line, f"科目编码 {code} 与第 {seen[code]} 行重复"))
            continue
        seen[code] = line
        if not code.isdigit() or not scheme.is_valid(code):
            result.problems.append((line, f"科目编码 {code} 不符合本县的编码方案 {scheme.key}"
                                          f"（一级科目3位，下级依次为 {'、'.join(str(s) for s in scheme.segments)} 位）"))
            continue
        if codes.top(code) not in accounts:
            result.problems.append((line, f"一级科目 {codes.top(code)} 不在2023年制度的科目表中"))
            continue
        if code in accounts:
            if codes.is_top(code) or accounts[code].name == name or not name:
                result.skipped.append((line, f"{accounts[code].label} 已存在"))
            else:
                result.problems.append((line, f"科目编码 {code} 已存在，名称为“{accounts[code].name}”，与文件中的“{name}”不同"))
            continue
        if not name:
            result.problems.append((line, "科目名称为空"))
        elif len(name) > 100:
            result.problems.append((line, "科目名称不能超过100个字"))
        new[code] = (line, name)
    for code, (line, name) in new.items():
        parent = scheme.parent(code)
        if parent not in accounts and parent not in new:
            result.problems.append((line, f"上级科目 {parent} 既不在账上，也不在文件中"))
        elif parent in locked:
            result.problems.append((line, f"{accounts[parent].label} 用于年末结转，不能增设下级科目"))
        elif parent in accounts and accounts[parent].is_leaf and _has_activity(accounts[parent]):
            result.problems.append((line, f"{accounts[parent].label} 已有期初余额或记账数据，不能再增设下级科目"))
    result.items = sorted(((c, n, line) for c, (line, n) in new.items()), key=lambda r: (len(r[0]), r[0]))
    return _finish(result)


def import_chart(org: Organization, sheet: Sheet, *, user: User, key: str) -> list:
    """Add the file's 明细科目 (a clean dry run), parents before children. Flushes only."""
    access.require(user, access.MANAGE_ACCOUNTS, org)
    lock_for_import(org)
    if msg := already_imported(org, CHART_ACTION, key):
        raise InvalidState(msg)
    check = check_chart(org, sheet)
    if not check.ok:
        if not check.problems:
            raise ValidationFailed.field("file", "文件中没有需要增设的明细科目")
        check.refuse("科目表有错误，未导入")
    scheme = scheme_of(org)
    added = [add_detail_account(org, scheme.parent(code), code, name) for code, name, _line in check.items]
    remember_mapping(org, "chart", sheet.columns)
    audit.log(CHART_ACTION, user=user, org=org, target=key, key=key, rows=len(added))
    return added


# ---------------------------------------------------------------- opening balances by counterparty


def _signed(row: dict) -> Decimal:
    """Debit positive. Either 借方余额/贷方余额 columns, or 余额方向 (借/贷/平) with 余额."""
    if "debit" in row or "credit" in row:
        debit = parse_amount(row.get("debit") or "0", allow_zero=True, allow_negative=True)
        credit = parse_amount(row.get("credit") or "0", allow_zero=True, allow_negative=True)
        return debit - credit
    amount = parse_amount(row.get("balance") or "0", allow_zero=True, allow_negative=True)
    side = (row.get("direction") or "").strip()
    if side in ("借", "借方"):
        return amount
    if side in ("贷", "贷方"):
        return -amount
    if side in ("平", "") and amount == 0:
        return ZERO
    raise AmountError(f"余额方向“{side}”应为借或贷")


def check_opening(org: Organization, sheet: Sheet, *, system: str = "2023", key: str | None = None,
                  lock: bool = True) -> Check:
    """Rows → opening balances keyed (leaf code, counterparty). `system="2004"`: the codes are those of the 2004
    system's first-level accounts, mapped by the 对照表 (coop.services.opening.map_2004_balances). With `lock`, a
    file that does not balance is refused, naming the totals and the rows whose balance is on the unusual side."""
    result = Check()
    if key and (msg := already_imported(org, OPENING_ACTION, key)):
        result.problems = [(0, msg)]
        return result
    if org.opening_locked:
        result.problems = [(0, "期初余额已锁定，不能再导入")]
        return result
    accounts = account_map(org)
    lines: dict[tuple[str, str | None], Decimal] = {}
    line_of: dict[tuple[str, str | None], int] = {}
    for row in sheet.rows:
        line, code = row["_line"], row.get("code", "").strip()
        cp = (row.get("counterparty") or "").strip() or None
        try:
            amount = _signed(row)
        except AmountError as exc:
            result.problems.append((line, f"金额：{exc}"))
            continue
        if not code:
            result.problems.append((line, "科目编码为空"))
            continue
        if system == "2004":
            target = (row.get("target") or "").strip()
            mapped, errors = map_2004_balances([(code, amount, cp)], {code: target} if target else None,
                                               scheme=org.code_scheme)
            if errors:
                result.problems.extend((line, m) for ms in errors.values() for m in ms)
                continue
            ((k, amount),) = mapped.items() if mapped else ((code, ZERO),)
            code = k[0] if isinstance(k, tuple) else k
        acc = accounts.get(code)
        if acc is None:
            result.problems.append((line, f"科目 {code} 不存在（请先导入或增设该明细科目）"))
            continue
        if amount == 0:
            continue
        if not acc.is_leaf:
            result.problems.append((line, f"{acc.label} 有下级科目，余额应录入末级科目"))
            continue
        if cp is None and codes.top(code) in COUNTERPARTY_ACCOUNTS:
            result.problems.append((line, f"{acc.label} 的期初余额须写明往来单位或农户（辅助核算）"))
            continue
        if cp and len(cp) > 100:
            result.problems.append((line, "往来单位名称不能超过100个字"))
            continue
        lines[(code, cp)] = lines.get((code, cp), ZERO) + amount
        line_of.setdefault((code, cp), line)
    debit = sum((a for a in lines.values() if a > 0), ZERO)
    credit = -sum((a for a in lines.values() if a < 0), ZERO)
    result.totals = (debit, credit)
    if lock and not result.problems and debit != credit:
        result.problems.append((0, f"期初余额试算不平衡：借方合计 {format_plain(debit)}，贷方合计 {format_plain(credit)}，"
                                   f"相差 {format_plain(debit - credit)}，不能锁定"))
        for (code, cp), amount in lines.items():
            unusual = (accounts[code].normal_side == CREDIT) == (amount > 0)
            if unusual:
                side = "借" if amount > 0 else "贷"
                result.problems.append((line_of[(code, cp)], f"{accounts[code].label}{'（' + cp + '）' if cp else ''} "
                                                            f"余额在{side}方，与科目的正常方向相反，请核对"))
    result.items = sorted(((code, cp, amount) for (code, cp), amount in lines.items()), key=lambda r: (r[0], r[1] or ""))
    return _finish(result)


def import_opening(org: Organization, sheet: Sheet, *, user: User, key: str, system: str = "2023",
                   lock: bool = True) -> Check:
    """Replace the opening balances with the file's (a clean dry run) and, with `lock`, lock them. Flushes only."""
    access.require(user, access.MANAGE_ACCOUNTS, org)
    lock_for_import(org)
    if msg := already_imported(org, OPENING_ACTION, key):
        raise InvalidState(msg)
    check = check_opening(org, sheet, system=system, lock=lock)
    if not check.ok:
        if not check.problems:
            raise ValidationFailed.field("file", "文件中没有非零的期初余额")
        check.refuse("期初余额有错误，未导入")
    set_opening_balances(org, {(c, cp): a for c, cp, a in check.items}, user=user)
    if lock:
        lock_opening_balances(org, user=user)
    remember_mapping(org, "opening", sheet.columns)
    audit.log(OPENING_ACTION, user=user, org=org, target=key, key=key, rows=len(check.items), system=system,
              locked=lock)
    return check


# ---------------------------------------------------------------- templates


def template_xlsx(kind: str, org: Organization) -> bytes:
    """An empty import file with the header and two example rows in the organization's code scheme."""
    from openpyxl import Workbook

    scheme = scheme_of(org)
    code = {a.name: a.code for a in CHART_2023}  # examples by name: no account code is written here
    wb = Workbook()
    ws = wb.active
    if kind == "chart":
        ws.title = "明细科目"
        ws.append(list(CHART_COLUMNS))
        ws.append([scheme.child(code["银行存款"], 1), "农业银行"])
        ws.append([scheme.child(code["应收款"], 1), "应收农户款"])
    else:
        ws.title = "期初余额"
        ws.append(list(OPENING_COLUMNS))
        ws.append([code["库存现金"], "库存现金", "", "1200.00", ""])
        ws.append([code["应收款"], "应收款", "张三", "800.00", ""])
        ws.append([code["资本"], "资本", "", "", "2000.00"])
    for col in "ABCDE":
        ws.column_dimensions[col].width = 16
    return workbook_bytes(wb)


REQUIRED = {"chart": ("code", "name"), "opening": ("code", "debit", "credit")}
#: the fields a mapping form offers, per kind
MAPPABLE = {"chart": ("code", "name"),
            "opening": ("code", "name", "counterparty", "debit", "credit", "direction", "balance", "target")}


def remembered_mapping(org: Organization, kind: str) -> dict[str, str]:
    import json

    from coop.models import ImportMapping

    row = db.session.scalar(sa.select(ImportMapping).where(ImportMapping.organization_id == org.id,
                                                           ImportMapping.kind == kind))
    return json.loads(row.mapping) if row else {}


def remember_mapping(org: Organization, kind: str, columns: dict[str, str]) -> None:
    """Keep the columns a successful import was read from, for the organization's next file of the kind."""
    import json

    from coop.models import ImportMapping

    row = db.session.scalar(sa.select(ImportMapping).where(ImportMapping.organization_id == org.id,
                                                           ImportMapping.kind == kind))
    if row is None:
        row = ImportMapping(organization_id=org.id, kind=kind, mapping="{}")
        db.session.add(row)
    row.mapping = json.dumps(columns, ensure_ascii=False, sort_keys=True)
    db.session.flush()


def sheet_from(content: bytes, kind: str, org: Organization, mapping: dict | None = None) -> tuple[Sheet, str]:
    """The parsed file and its idempotency key. Columns: `mapping` (field → header) first, then the mapping
    remembered from the organization's last import of the kind, then the usual names (COLUMN_ALIASES)."""
    if not content:
        raise ValidationFailed.field("file", "请选择 Excel 文件（.xlsx）")
    if mapping is not None and (not isinstance(mapping, dict) or set(mapping) - set(MAPPABLE[kind])
                                or not all(isinstance(v, str) for v in mapping.values())):
        raise ValidationFailed.field("mapping", f"列对应应为 {{字段: 列名}}，字段为 {'、'.join(MAPPABLE[kind])}")
    merged = remembered_mapping(org, kind) | {k: v for k, v in (mapping or {}).items() if v}
    return read_sheet(content, REQUIRED[kind], merged), file_key(content)
