"""Vouchers in and out of Excel, in the template of docs/voucher-import-template.md.

One row per voucher line: 凭证号 (a grouping key: rows with the same key make one voucher), 日期, 摘要, 科目编码,
借方, 贷方, 往来单位. `check_import` is a dry run that lists every problem by spreadsheet row and writes nothing;
`import_vouchers` writes all the vouchers of one file in the caller's transaction (all or nothing) and records the
file's SHA-256 in the audit log, so the same file is never imported twice into one organization.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.orm import selectinload

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.export_safety import workbook_bytes
from coop.core.extensions import db
from coop.ledger.types import Line
from coop.ledger.validate import validate_lines
from coop.core.money import ZERO, AmountError, parse_amount
from coop.models import Organization, User, Voucher, VoucherLine
from coop.models.ledger import VoucherStatus
from coop.services import audit, periods, vouchers
from coop.services.imports import already_imported, file_key, lock_for_import  # noqa: F401  (file_key: callers use it from here)
from coop.services.accounts import account_infos
from coop.ledger import codes
from coop.services.file_limits import cap, check_xlsx

HEADERS = ("凭证号", "日期", "摘要", "科目编码", "借方", "贷方", "往来单位")
REQUIRED = ("凭证号", "日期", "摘要", "科目编码", "借方", "贷方")
ACTION = "voucher.import"
#: when set (milliseconds), `import_vouchers` pauses after each voucher: only the crash test sets it
SLEEP_ENV = "COOP_IMPORT_SLEEP"
#: vouchers posted per `vouchers.post_many` call when an import posts
POST_BATCH = 50
_CODE_RE = re.compile(codes.CODE_PATTERN)


@dataclass(frozen=True)
class Problem:
    row: int  # spreadsheet row (the header is row 1)
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}"


@dataclass
class _Voucher:
    key: str
    rows: list[int] = field(default_factory=list)
    date: dt.date | None = None
    lines: list[dict] = field(default_factory=list)

    @property
    def red(self) -> bool:
        return any(l["debit"] < 0 or l["credit"] < 0 for l in self.lines)

    def data(self) -> dict:
        return {"date": self.date, "word": "记", "attachment_count": 0, "lines": self.lines}


# ---------------------------------------------------------------- reading


def read_xlsx(source) -> list[dict]:
    """Rows of the first sheet as dicts keyed by the template headers, plus "row" (the sheet row number).

    `source` is a path, bytes or a binary file. Blank rows are skipped. Raises ValidationFailed when a required
    column is missing or the file is not an xlsx workbook."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            source = f.read()
    elif hasattr(source, "read"):
        source = source.read()
    check_xlsx(bytes(source))  # unpacked size and rows before openpyxl sees it
    source = io.BytesIO(source)
    try:
        wb = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException…
        raise ValidationFailed(f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None) or ()
        names = [str(h).strip() if h is not None else "" for h in header]
        missing = [h for h in REQUIRED if h not in names]
        if missing:
            raise ValidationFailed(f"第 1 行缺少列：{'、'.join(missing)}（模板列为 {'、'.join(HEADERS)}）")
        index = {h: names.index(h) for h in HEADERS if h in names}
        rows = []
        for n, values in enumerate(it, start=2):
            if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            row = {h: (values[i] if i < len(values) else None) for h, i in index.items()}
            row["row"] = n
            rows.append(row)
        return rows
    finally:
        wb.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip().replace("/", "-").replace(".", "-")
        y, m, d = text.split("-")
        return dt.date(int(y), int(m), int(d))
    raise ValueError


def _amount(value) -> Decimal:
    """Text ("1,234.50") or a number cell. A number is read through its shortest decimal form (`str`), which is
    exact for every amount up to the 15 significant digits a float holds; more than two decimals is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ZERO
    if isinstance(value, bool):
        raise AmountError("金额格式不正确")
    if isinstance(value, float):
        value = str(value)
    return parse_amount(value, allow_negative=True, allow_zero=True)


# ---------------------------------------------------------------- checking


def _parse(org: Organization, rows: list[dict]) -> tuple[list[_Voucher], list[Problem]]:
    problems: list[Problem] = []
    groups: dict[str, _Voucher] = {}
    bad_groups: set[str] = set()
    for r in rows:
        n = r.get("row", 0)
        key = _text(r.get("凭证号"))
        if not key:
            problems.append(Problem(n, "缺少凭证号"))
            continue
        g = groups.setdefault(key, _Voucher(key))
        g.rows.append(n)
        ok = True
        try:
            date = _date(r.get("日期"))
        except (ValueError, TypeError):
            problems.append(Problem(n, f"日期“{_text(r.get('日期'))}”格式不正确，应为 YYYY-MM-DD"))
            date, ok = None, False
        if date is not None:
            if g.date is None:
                g.date = date
            elif g.date != date:
                problems.append(Problem(n, f"凭证 {key} 的日期不一致（{g.date} 与 {date}）"))
                ok = False
        summary = _text(r.get("摘要"))
        if not summary:
            problems.append(Problem(n, "请填写摘要"))
            ok = False
        elif len(summary) > 200:
            problems.append(Problem(n, "摘要最多200个字"))
            ok = False
        code = _text(r.get("科目编码"))
        if not _CODE_RE.match(code):
            problems.append(Problem(n, f"科目编码“{code}”格式不正确" if code else "请填写科目编码"))
            ok = False
        amounts = {}
        for side, label in (("debit", "借方"), ("credit", "贷方")):
            try:
                amounts[side] = _amount(r.get(label))
            except AmountError as exc:
                problems.append(Problem(n, f"{label}金额“{_text(r.get(label))}”：{exc}"))
                ok = False
        counterparty = _text(r.get("往来单位")) or None
        if counterparty and len(counterparty) > 100:
            problems.append(Problem(n, "往来单位最多100个字"))
            ok = False
        if not ok:
            bad_groups.add(key)
            continue
        g.lines.append({"summary": summary, "account_code": code, "debit": amounts["debit"],
                        "credit": amounts["credit"], "counterparty": counterparty})

    infos = account_infos(org)
    closed = periods.closed_months(org)
    start = (org.books_start_year, org.books_start_month)
    for g in groups.values():
        if g.key in bad_groups or g.date is None:
            continue
        first = g.rows[0]
        if len(g.lines) > 200:
            problems.append(Problem(first, f"凭证 {g.key} 超过200行分录"))
        if (g.date.year, g.date.month) < start:
            problems.append(Problem(first, f"凭证 {g.key}：日期早于建账月份 {start[0]}年{start[1]}月"))
        elif (g.date.year, g.date.month) in closed:
            problems.append(Problem(first, f"凭证 {g.key}：{g.date.year}年{g.date.month}月已结账，不能导入"))
        lines = [Line(l["account_code"], l["debit"], l["credit"], l["summary"], l.get("counterparty")) for l in g.lines]
        for issue in validate_lines(lines, infos, red=g.red):
            m = re.match(r"lines\.(\d+)", issue.path)
            row = g.rows[int(m.group(1))] if m else first
            problems.append(Problem(row, f"凭证 {g.key}：{issue.message}"))
    problems.sort(key=lambda p: p.row)
    return list(groups.values()), problems


def _already(org: Organization, key: str) -> str | None:
    return already_imported(org, ACTION, key)


def check_import(org: Organization, rows: list[dict], key: str | None = None) -> list[Problem]:
    """Dry run: every problem of the file, by row (row 0: the file as a whole). Writes nothing."""
    _, problems = _parse(org, rows)
    if not rows:
        problems.insert(0, Problem(0, "文件中没有分录"))
    if key and (msg := _already(org, key)):
        problems.insert(0, Problem(0, msg))

    return cap(problems, lambda n: Problem(0, f"另有 {n} 处问题未列出，请先改正以上问题"))


def summary_of(rows: list[dict]) -> tuple[int, int]:
    """(vouchers, lines) in the file."""
    return len({_text(r.get("凭证号")) for r in rows}), len(rows)


# ---------------------------------------------------------------- importing


def import_vouchers(org: Organization, rows: list[dict], user: User, key: str, *, post: bool = False,
                    reviewer: User | None = None, poster: User | None = None, progress=None) -> list[Voucher]:
    """Write every voucher of the file as a draft prepared by `user` (or, with `post`, reviewed by `reviewer` and
    posted by `poster`), in date order, and log the import with its key. Flushes only: the caller commits once,
    so the file goes in whole or not at all. Refuses a file with any problem, or one already imported."""
    lock_for_import(org)
    if msg := _already(org, key):
        raise InvalidState(msg)
    if not rows:
        raise ValidationFailed("文件中没有分录")
    groups, problems = _parse(org, rows)
    if problems:
        raise ValidationFailed(f"导入文件有 {len(problems)} 处问题，未导入任何凭证",
                               {"rows": [str(p) for p in problems]})
    if post and (reviewer is None or poster is None):
        raise ValidationFailed("记账导入需要指定审核人和记账人")
    delay = int(os.environ.get(SLEEP_ENV) or 0) / 1000  # milliseconds
    created = []
    ordered = sorted(groups, key=lambda g: g.date)  # stable: file order within a day
    if post:  # in batches: a few statements each instead of ~16 per voucher
        for start in range(0, len(ordered), POST_BATCH):
            batch = ordered[start:start + POST_BATCH]
            ids = vouchers.post_many(org, [(g.data(), "red" if g.red else "normal") for g in batch],
                                     preparer=user, reviewer=reviewer, poster=poster)
            loaded = {v.id: v for v in db.session.scalars(sa.select(Voucher).where(Voucher.id.in_(ids)))}
            created += [loaded[i] for i in ids]
            if progress:
                progress(len(created))
            if delay:
                time.sleep(delay * len(batch))
    for g in ordered if not post else ():
        created.append(vouchers.create_draft(org, g.data(), user=user, kind="red" if g.red else "normal"))
        if progress:
            progress(len(created))
        if delay:
            time.sleep(delay)
    audit.log(ACTION, user=user, org=org, target=key, key=key, vouchers=len(created), lines=len(rows),
              posted=bool(post))
    db.session.flush()
    return created


# ---------------------------------------------------------------- exporting


def export_vouchers_xlsx(org: Organization, year: int) -> bytes:
    """Posted vouchers of `year` in the import template. 凭证号 is "YYYY-MM 记-0001"; amounts are number cells
    (blank for the empty side); 科目编码 is a text cell."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年凭证"
    ws.append(list(HEADERS))
    q = (
        sa.select(Voucher)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.year == year)
        .order_by(Voucher.date, Voucher.month, Voucher.word, Voucher.number)
        .options(selectinload(Voucher.lines).selectinload(VoucherLine.account))
    )
    for v in db.session.scalars(q):
        key = f"{v.year}-{v.month:02d} {v.display_number}"
        for l in sorted(v.lines, key=lambda l: l.seq):
            ws.append([key, v.date, ILLEGAL_CHARACTERS_RE.sub("", l.summary), l.account.code,
                       l.debit if l.debit else None, l.credit if l.credit else None,
                       ILLEGAL_CHARACTERS_RE.sub("", l.counterparty) if l.counterparty else None])
            r = ws.max_row
            ws.cell(r, 2).number_format = "yyyy-mm-dd"
            for c in (5, 6):
                ws.cell(r, c).number_format = "#,##0.00"
    for col, width in zip("ABCDEFG", (18, 12, 36, 12, 16, 16, 20)):
        ws.column_dimensions[col].width = width
    return workbook_bytes(wb)
