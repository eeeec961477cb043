"""Query parameters of the report pages and API, shared so both check them the same way with the same
Chinese messages. A period is a year and a month range; `month`, `quarter` and `period` are shortcuts."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from coop.core.errors import ValidationFailed
from coop.core.text import N_
from coop.models import Organization
from coop.schemas.common import StrictSchema
from coop.services import accounts, periods
from coop.ledger import codes

#: API formats; the web pages take html, xlsx or pdf and check `format` themselves
FORMATS = ("json", "xlsx", "pdf")
#: the period picker's choices: a month "1".."12", a quarter "q1".."q4", the whole year, or custom months
PERIOD_CHOICES = [str(m) for m in range(1, 13)] + ["q1", "q2", "q3", "q4", "year", "custom"]


def _int(label: str, lo: int, hi: int, **kw) -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(lo, hi, error=f"{label}应在{lo}到{hi}之间"),
        error_messages={"invalid": f"{label}必须是整数"}, **kw)


class PeriodArgsSchema(StrictSchema):
    """The period of a report. Nothing given: the current open month. A year alone: the whole year.
    `period` (the picker) wins over `month_from`/`month_to`, which win over `month`, then `quarter`."""

    error_messages = {"unknown": "未知参数"}

    year = _int("年份", 1990, 2100, metadata={"description": "会计年度"})
    period = fields.String(validate=validate.OneOf(PERIOD_CHOICES, error="期间应为1-12、q1-q4、year或custom"),
                           metadata={"description": "期间选择器：'1'..'12' 月、'q1'..'q4' 季度、'year' 全年、"
                                                    "'custom' 用 month_from/month_to"})
    month_from = _int("起始月份", 1, 12)
    month_to = _int("截止月份", 1, 12)
    month = _int("月份", 1, 12, metadata={"description": "单月（等于 month_from = month_to）"})
    quarter = _int("季度", 1, 4, metadata={"description": "季度 1-4"})
    format = fields.String(validate=validate.OneOf(FORMATS, error="格式应为 json、xlsx 或 pdf"),
                           metadata={"description": "输出格式；也可用 Accept 头"})

    @validates_schema
    def _range(self, data, **kwargs):
        mf, mt = data.get("month_from"), data.get("month_to")
        if mf and mt and mf > mt:
            raise ValidationError("起始月份不能晚于截止月份", "month_from")


def _code(required_text: str):
    return fields.String(validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                         metadata={"description": required_text})


def _counterparty():
    # control characters: PostgreSQL refuses NUL in a query parameter, and no name contains them
    return fields.String(validate=[validate.Length(max=100, error="往来单位名称太长"),
                                   validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="往来单位名称含有不允许的字符")],
                         metadata={"description": "辅助核算：只看这个往来单位的发生额"})


class TrialBalanceArgsSchema(PeriodArgsSchema):
    counterparty = _counterparty()
    level = _int("科目级次", 1, 5, metadata={"description": "显示到第几级科目；不填为全部"})


class GeneralLedgerArgsSchema(PeriodArgsSchema):
    code = _code("科目编码；不填为全部一级科目")


class DetailLedgerArgsSchema(PeriodArgsSchema):
    code = _code("科目编码（必填）")
    counterparty = _counterparty()


@dataclass(frozen=True)
class ReportQuery:
    year: int
    month_from: int
    month_to: int
    code: str | None = None
    counterparty: str | None = None
    level: int | None = None

    @property
    def label(self) -> str:
        """2025年1月 / 2025年1-3月 / 2025年度."""
        # N_ with values: the Chinese text everywhere, translated where a page shows it
        if (self.month_from, self.month_to) == (1, 12):
            return N_("%(y)s年度", y=self.year)
        if self.month_from == self.month_to:
            return N_("%(y)s年%(m)s月", y=self.year, m=self.month_from)
        return N_("%(y)s年%(m1)s-%(m2)s月", y=self.year, m1=self.month_from, m2=self.month_to)

    @property
    def period_choice(self) -> str:
        """The picker's value for this range."""
        mf, mt = self.month_from, self.month_to
        if (mf, mt) == (1, 12):
            return "year"
        if mf == mt:
            return str(mf)
        if mt == mf + 2 and mf % 3 == 1:
            return f"q{(mf + 2) // 3}"
        return "custom"

    def url_args(self) -> dict:
        args = {"year": self.year, "month_from": self.month_from, "month_to": self.month_to}
        for k in ("code", "counterparty", "level"):
            if getattr(self, k):
                args[k] = getattr(self, k)
        return args


def load_args(schema_cls: type[PeriodArgsSchema], raw) -> dict:
    """Check raw query args of a web page (unknown ones and `format` are left out). Raises ValidationFailed."""
    schema = schema_cls(unknown=EXCLUDE)
    # an empty form field means "not given"
    data = {k: v for k, v in dict(raw).items() if v != "" and k != "format"}
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(_first(exc.messages), exc.messages) from None


def _first(messages) -> str:
    """The first message of a nested marshmallow error dict."""
    if isinstance(messages, dict):
        return _first(next(iter(messages.values()))) if messages else "参数无效"
    if isinstance(messages, list):
        return _first(messages[0]) if messages else "参数无效"
    return str(messages)


def resolve(org: Organization, args: dict, *, needs_code: bool = False) -> ReportQuery:
    """Turn checked args into a concrete period for `org`; refuses periods before the books start and
    account codes the organization does not have."""
    open_year, open_month = periods.first_open(org)
    year = args.get("year") or open_year
    p = args.get("period")
    if p and p != "custom":
        if p == "year":
            mf, mt = 1, 12
        elif p.startswith("q"):
            mf, mt = int(p[1]) * 3 - 2, int(p[1]) * 3
        else:
            mf = mt = int(p)
    elif args.get("month_from") or args.get("month_to"):
        mf, mt = args.get("month_from") or 1, args.get("month_to") or 12
    elif args.get("month"):
        mf = mt = args["month"]
    elif args.get("quarter"):
        mf, mt = args["quarter"] * 3 - 2, args["quarter"] * 3
    elif args.get("year"):
        mf, mt = 1, 12
    else:
        mf = mt = open_month if year == open_year else 12
    if mf > mt:
        raise ValidationFailed.field("month_from", "起始月份不能晚于截止月份")
    if (year, mt) < (org.books_start_year, org.books_start_month):
        raise ValidationFailed.field(
            "year", f"所选期间早于建账月份（{org.books_start_year}年{org.books_start_month}月），没有账可查")
    code = args.get("code")
    if code and accounts.get_account(org, code) is None:
        raise ValidationFailed.field("code", f"科目编码 {code} 不存在")
    if needs_code and not code:
        raise ValidationFailed.field("code", "请选择科目")
    return ReportQuery(year, mf, mt, code, (args.get("counterparty") or "").strip() or None, args.get("level"))
