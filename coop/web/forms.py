"""HTML forms → the same schemas the API uses, with every error collected for display beside its field.

Errors for templates are flat: {"date": [...], "lines": [...], "lines.1.debit": [...]}, where "lines" holds the
messages about the entry as a whole (unbalanced, too few lines).
"""
from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Mapping

from flask import request
from marshmallow import Schema, ValidationError, fields

from coop.core.errors import CoopError, Forbidden, ValidationFailed, flatten_errors
from coop.core.extensions import db
from coop.ledger.types import AccountInfo, Line
from coop.ledger.validate import validate_lines
from coop.core.money import ZERO, AmountError, parse_amount
from coop.schemas.ledger import VoucherInSchema, VoucherLineInSchema

LINE_FIELDS = ("summary", "account_code", "debit", "credit", "counterparty")
_LINE_KEY = re.compile(r"^lines-(\d+)-([a-z_]+)$")
_LINE_PATH = re.compile(r"^lines\.(\d+)\.(.+)$")


def flat_errors(errors: dict) -> dict[str, list[str]]:
    """Nested service/schema errors → flat paths; "x._schema" (a message about x as a whole) becomes "x"."""
    out: dict[str, list[str]] = {}
    for path, messages in flatten_errors(errors).items():
        if path.endswith("._schema"):
            path = path[: -len("._schema")]
        for m in messages:
            if m not in out.setdefault(path, []):
                out[path].append(m)
    return out


def keep_fields(errors: dict[str, list[str]], fields: set[str]) -> dict[str, list[str]]:
    """Messages about something that is not a field of the form go on top of it ("_schema")."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        out.setdefault(key if key in fields else "_schema", []).extend(messages)
    return out


def form_input(form: Mapping, lists: tuple[str, ...] = (), skip: tuple[str, ...] = ("csrf_token", "action")) -> dict:
    """Form fields → schema input: empty strings become missing (so 'required' and defaults apply); `lists` are
    multi-valued fields (checkboxes), kept as lists of their non-empty values."""
    data = {}
    for key in form:
        if key in skip or key in lists:
            continue
        value = (form.get(key) or "").strip()
        if value:
            data[key] = value
    for key in lists:
        values = [v for v in form.getlist(key) if v.strip()]
        if values:
            data[key] = values
    return data


@dataclass
class Submitted:
    """What a form's write came to: the action's result, or the errors beside their fields and the status to
    answer with (422 bad input, 409 a state that does not allow it…). Unpacks as (result, errors, status)."""

    result: object = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    status: int = 200
    #: the refusal itself (its message for a banner, its nested errors for a page that lists them by row)
    error: CoopError | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def message(self) -> str:
        if self.error is not None and self.error.message:
            return self.error.message
        return next((m for ms in self.errors.values() for m in ms), "")

    def __iter__(self):
        return iter((self.result, self.errors, self.status))


def submit(schema: Schema | None, action: Callable, data: dict | None = None, *, lists: tuple[str, ...] = (),
           fields: set[str] | None = None) -> Submitted:
    """The one way a page writes: load `data` (default: the posted form) with `schema` and run `action(loaded)`
    (`action()` when there is no schema: a button, not a form). The request boundary commits the success.

    Bad input or a refusal comes back as a `Submitted` with errors; whatever the action had written is rolled
    back here at once, so the page shown again reads the books as they were and a redirect after the error (a
    status below 400, which the boundary would commit) carries nothing of it. Forbidden is raised, so it answers
    the same 403 page as anywhere else. With `fields`, messages about something that is not one of them go on top
    of the form ("_schema")."""
    try:
        if schema is None:
            return Submitted(action())
        loaded = schema.load(form_input(request.form, lists) if data is None else data)
        return Submitted(action(loaded))
    except ValidationError as exc:
        db.session.rollback()
        error = ValidationFailed("", exc.messages)
    except Forbidden:
        db.session.rollback()
        raise
    except CoopError as exc:
        db.session.rollback()
        error = exc
    errors = flat_errors(error.errors)
    return Submitted(None, keep_fields(errors, fields) if fields is not None else errors, error.status_code, error)


def merge_errors(into: dict[str, list[str]], errors: dict) -> None:
    for path, messages in flat_errors(errors).items():
        for m in messages:
            if m not in into.setdefault(path, []):
                into[path].append(m)


@dataclass
class VoucherForm:
    #: what the user typed (strings), to fill the form again: date, word, attachment_count, lines
    values: dict
    #: what VoucherInSchema loaded, when it passed (Decimal amounts, a date)
    data: dict | None = None
    #: the date, when it parsed (even if other fields did not), to check the period
    date: dt.date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors

    def add_errors(self, errors: dict) -> None:
        merge_errors(self.errors, errors)


def read_voucher_values(form: Mapping) -> dict:
    """request.form (fields "lines-<i>-summary" …) → header strings and the non-empty lines, in row order."""
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        m = _LINE_KEY.match(key)
        if m and m.group(2) in LINE_FIELDS:
            rows.setdefault(int(m.group(1)), {})[m.group(2)] = (form.get(key) or "").strip()
    lines = []
    for i in sorted(rows):
        row = {f: rows[i].get(f, "") for f in LINE_FIELDS}
        # a row without account and amounts is empty: "add line" copies the 摘要 down, so a summary alone is no line;
        # a 往来单位 typed is kept (and asked for its account), never dropped
        if not (row["account_code"] or row["debit"] or row["credit"] or row["counterparty"]):
            continue
        # the picker may hold "10201 银行存款—农行"; the code is the first word
        row["account_code"] = row["account_code"].split()[0] if row["account_code"] else ""
        lines.append(row)
    return {
        "date": (form.get("date") or "").strip(),
        "word": (form.get("word") or "").strip(),
        "attachment_count": (form.get("attachment_count") or "").strip(),
        "lines": lines,
    }


def schema_input(values: dict) -> tuple[dict, dict[str, list[str]]]:
    """Form strings → VoucherInSchema input. Empty fields are left out so the schema's 'required' messages and
    defaults apply. The count is converted here because the schema's Integer is strict (JSON numbers)."""
    data: dict = {"lines": []}
    errors: dict[str, list[str]] = {}
    for key in ("date", "word"):
        if values[key]:
            data[key] = values[key]
    count = values["attachment_count"]
    if count.isdecimal():
        data["attachment_count"] = int(count)
    elif count:
        errors["attachment_count"] = ["附单据数应为0到999的整数"]
    for row in values["lines"]:
        data["lines"].append({k: v for k, v in row.items() if v})
    return data, errors


def load_voucher_form(form: Mapping, accounts: Mapping[str, AccountInfo], *, kind: str = "normal") -> VoucherForm:
    """Parse and validate the voucher form. When the schema fails, the ledger rules still run (amounts that did
    not parse count zero), so an unbalanced entry or a wrong account is reported together with a bad amount."""
    values = read_voucher_values(form)
    data, errors = schema_input(values)
    vf = VoucherForm(values=values, errors=errors)
    try:
        loaded = VoucherInSchema().load(data)
    except ValidationError as exc:
        vf.add_errors(exc.messages)
        loaded = None
    vf.date = loaded["date"] if loaded else parse_date(values["date"])
    if loaded is not None and not vf.errors:
        vf.data = loaded  # the service checks the ledger rules
    else:
        _pure_checks(vf, accounts, kind)
    return vf


def parse_date(text: str) -> dt.date | None:
    try:
        return fields.Date().deserialize(text) if text else None
    except ValidationError:
        return None


def _pure_checks(vf: VoucherForm, accounts: Mapping[str, AccountInfo], kind: str) -> None:
    lines = vf.values["lines"]
    if len(lines) < 2 and "lines" not in vf.errors:  # marshmallow skips the length check when an item failed
        vf.errors["lines"] = ["凭证至少需要两行分录"]
    money = VoucherLineInSchema().fields
    parsed: list[Line] = []
    bad_amounts: set[int] = set()
    for i, row in enumerate(lines):
        if f"lines.{i}.debit" in vf.errors or f"lines.{i}.credit" in vf.errors:
            # its amounts did not parse: it still gets the account checks, but counts zero in the balance
            bad_amounts.add(i)
            parsed.append(Line(row["account_code"], ZERO, ZERO, row["summary"], row.get("counterparty")))
            continue
        debit = money["debit"].deserialize(row["debit"]) if row["debit"] else ZERO
        credit = money["credit"].deserialize(row["credit"]) if row["credit"] else ZERO
        parsed.append(Line(row["account_code"], debit, credit, row["summary"], row.get("counterparty")))
    red = kind == "red" or (kind == "adjust" and any(l.debit < 0 or l.credit < 0 for l in parsed))
    for issue in validate_lines(parsed, accounts, red=red):
        if issue.code == "too_few_lines":
            continue  # counted above
        m = _LINE_PATH.match(issue.path)
        if m and (issue.path in vf.errors or (int(m.group(1)) in bad_amounts and m.group(2) in ("debit", "credit"))):
            continue  # the schema already said what is wrong with this field
        if issue.message not in vf.errors.setdefault(issue.path, []):
            vf.errors[issue.path].append(issue.message)


def amount_text(value: Decimal | None) -> str:
    """An amount for an input box: '1234.50', blank for zero."""
    return "" if not value else f"{value:.2f}"


def voucher_values(voucher) -> dict:
    """A saved voucher → the form's values."""
    return {
        "date": voucher.date.isoformat(),
        "word": voucher.word,
        "attachment_count": str(voucher.attachment_count or 0),
        "lines": [
            {"summary": l.summary, "account_code": l.account.code, "debit": amount_text(l.debit),
             "credit": amount_text(l.credit), "counterparty": l.counterparty or ""}
            for l in voucher.lines
        ],
    }


# ---------------------------------------------------------------- opening balances


def read_opening_form(form: Mapping, codes: list[str]) -> tuple[dict, dict[str, dict], dict]:
    """Grid fields "amt-<code>" (a signed amount or one with direction), "dir-<code>" (借/贷) and, on the
    counterparty accounts, "cp-<code>" (往来单位) → signed balances (debit positive) keyed by code or
    (code, counterparty), the typed values, and errors by "balances.<code>"."""
    balances: dict = {}
    values: dict[str, dict] = {}
    errors: dict[str, list[str]] = {}
    for code in codes:
        raw = (form.get(f"amt-{code}") or "").strip()
        side = form.get(f"dir-{code}") or "借"
        cp = (form.get(f"cp-{code}") or "").strip()
        values[code] = {"amount": raw, "dir": side, "counterparty": cp}
        if not raw:
            continue
        try:
            amount = parse_amount(raw, allow_negative=True, allow_zero=True)
        except AmountError as exc:
            errors[f"balances.{code}"] = [str(exc)]
            continue
        if side not in ("借", "贷"):
            errors[f"balances.{code}"] = ["方向应为 借 或 贷"]
            continue
        balances[(code, cp) if cp else code] = amount if side == "借" else -amount
    return balances, values, errors


def parse_counterparty_rows(text: str) -> tuple[dict[tuple[str, str], Decimal], dict[str, list[str]]]:
    """CSV '科目编码,往来单位,金额[,借|贷]' → {(code, counterparty): signed amount}; errors by "details"."""
    out: dict[tuple[str, str], Decimal] = {}
    errors: list[str] = []
    for n, rec in enumerate(csv.reader(io.StringIO((text or "").strip())), start=1):
        rec = [c.strip() for c in rec]
        if not any(rec):
            continue
        if len(rec) < 3 or not rec[0].isdecimal() or not rec[1]:
            errors.append(f"第 {n} 行：应为 科目编码,往来单位,金额[,借/贷]")
            continue
        side = rec[3] if len(rec) > 3 else ""
        try:
            amount = parse_amount(rec[2], allow_negative=True, allow_zero=True)
        except AmountError as exc:
            errors.append(f"第 {n} 行：{exc}")
            continue
        if side and side not in ("借", "贷"):
            errors.append(f"第 {n} 行：方向应为 借 或 贷")
            continue
        amount = -abs(amount) if side == "贷" else abs(amount) if side == "借" else amount
        out[(rec[0], rec[1])] = out.get((rec[0], rec[1]), ZERO) + amount
    if not out and not errors:
        errors.append("请填写：每行 科目编码,往来单位,金额[,借/贷]")
    return out, ({"details": errors} if errors else {})


def parse_2004_rows(text: str) -> tuple[list[tuple[str, Decimal]], list[dict], dict[str, list[str]]]:
    """CSV 'old_code,amount[,借|贷]' → signed rows (debit positive). Without a direction the amount's sign
    says it (negative = 贷). A first line that is not a code is taken as a header. Errors by "rows.<line no>"."""
    rows: list[tuple[str, Decimal]] = []
    shown: list[dict] = []
    errors: dict[str, list[str]] = {}
    from coop.services.file_limits import MAX_PROBLEMS, check_csv

    try:
        check_csv(text, field="rows")
    except CoopError as exc:
        return [], [], {"rows": [exc.message]}
    for n, rec in enumerate(csv.reader(io.StringIO(text.strip())), start=1):
        if len(errors) >= MAX_PROBLEMS:
            errors["rows"] = [f"问题超过 {MAX_PROBLEMS} 处，其余未列出"]
            break
        rec = [c.strip() for c in rec]
        if not any(rec):
            continue
        code = rec[0]
        if n == 1 and not code.isdecimal():
            continue
        raw = rec[1] if len(rec) > 1 else ""
        side = rec[2] if len(rec) > 2 else ""
        cp = rec[3] if len(rec) > 3 else ""
        try:
            amount = parse_amount(raw, allow_negative=True, allow_zero=True)
        except AmountError as exc:
            errors[f"rows.{n}"] = [f"第 {n} 行：{exc}"]
            continue
        if side and side not in ("借", "贷"):
            errors[f"rows.{n}"] = [f"第 {n} 行：方向应为 借 或 贷"]
            continue
        if side == "贷":
            amount = -abs(amount)
        elif side == "借":
            amount = abs(amount)
        rows.append((code, amount, cp) if cp else (code, amount))
        shown.append({"line": n, "code": code, "amount": amount, "counterparty": cp})
    if not rows and not errors:
        errors["rows"] = ["请粘贴或上传科目余额：每行 旧科目编码,金额[,借/贷]"]
    return rows, shown, errors


def carried_upload() -> tuple[bytes, str]:
    """An import's file: a fresh upload, or the checked file carried over (base64) from the dry-run page."""
    upload = request.files.get("file")
    if upload and upload.filename:
        return upload.read(), upload.filename
    try:
        return base64.b64decode(request.form.get("data", ""), validate=True), request.form.get("filename", "")
    except (binascii.Error, ValueError):
        return b"", ""
