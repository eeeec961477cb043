"""Schemas for 飞地抱团 / 多村联营 projects (RULES §8). The web forms load the same schemas as the API.

Formats only: whether an organization may join, a year may be declared or a month is open is for the service.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

from coop.models.joint import CONTRIBUTION_KINDS
from coop.schemas.common import ID_RANGE, Integer, Money, Ratio, StrictSchema
from coop.schemas.loans import Rate, _date, _money_leaf, _text

YEAR = dict(required=True, validate=validate.Range(min=2000, max=2100, error="年度应在2000到2100之间"),
            error_messages={"required": "请填写年度", "invalid": "年度应为整数"})


def _id(message: str):
    return Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1, error="编号不正确"),
                   error_messages={"required": message, "invalid": "编号应为整数"})


class ProjectInSchema(StrictSchema):
    name = _text("项目名称", 100)
    #: the county; may be left out by an admin of one county
    county_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    #: a 联营公司 kept in this system, or else the name of an outside operator
    operator_org_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    operator_name = _text("运营主体", 100, required=False)
    guarantor = _text("担保方", 100, required=False)
    start_date = _date()
    end_date = _date(required=False)
    fixed_rate = Rate(load_default=Decimal(0), metadata={"description": "保底收益率/年，如 0.08；0 为无保底"})
    profit_sharing = fields.Boolean(load_default=True, metadata={"description": "超出保底的利润按比例分配"})
    contract_weights = fields.Boolean(load_default=False, metadata={"description": "分配比例由合同约定（合计须为1）"})
    documents = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ParticipantInSchema(StrictSchema):
    organization_id = _id("请选择参与村")
    weight = Ratio(load_default=None, allow_none=True, metadata={"description": "合同约定的分配比例"})


class ContributionInSchema(StrictSchema):
    participant_id = _id("请选择参与村")
    kind = fields.String(required=True,
                         validate=validate.OneOf(tuple(CONTRIBUTION_KINDS), error="出资方式应为 cash/land/fiscal"),
                         error_messages={"required": "请选择出资方式"})
    amount = Money(required=True, error_messages={"required": "请填写出资金额"})
    date = _date()
    bank_account = _money_leaf()
    operator_bank_account = _money_leaf()


class ReturnPreviewInSchema(StrictSchema):
    year = Integer(**YEAR)
    profit = Money(required=True, allow_zero=True, allow_negative=True, error_messages={"required": "请填写可分配利润"})


class ReturnInSchema(ReturnPreviewInSchema):
    date = _date(metadata={"description": "登记日期（年末或之后）"})


class ReceiptInSchema(StrictSchema):
    date = _date()
    from_guarantor = fields.Boolean(load_default=False, metadata={"description": "担保方代付的保底部分"})
    bank_account = _money_leaf()
    operator_bank_account = _money_leaf()


class ExitInSchema(StrictSchema):
    date = _date()
    bank_account = _money_leaf()
    operator_bank_account = _money_leaf()


class ReconQuerySchema(StrictSchema):
    until = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": "日期格式应为 YYYY-MM-DD"})


# ---------------------------------------------------------------- out


class ParticipantSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    organization = fields.String()
    weight = Ratio(allow_none=True)
    capital = Money(metadata={"description": "在投出资"})
    exited_on = fields.Date(allow_none=True)


class ContributionSchema(StrictSchema):
    id = fields.Integer()
    participant_id = fields.Integer()
    organization = fields.String()
    kind = fields.String()
    amount = Money(metadata={"description": "负数为退出返还"})
    date = fields.Date()
    village_voucher_id = fields.Integer()
    operator_voucher_id = fields.Integer(allow_none=True)


class ReturnLineSchema(StrictSchema):
    id = fields.Integer(allow_none=True)
    participant_id = fields.Integer()
    organization = fields.String()
    fixed = Money()
    profit_part = Money()
    guaranteed = Money(metadata={"description": "保底不足部分，由担保方支付"})
    total = Money()
    village_voucher_id = fields.Integer(allow_none=True)
    operator_voucher_id = fields.Integer(allow_none=True)
    operator_paid_on = fields.Date(allow_none=True)
    guarantor_paid_on = fields.Date(allow_none=True)


class ReturnSchema(StrictSchema):
    id = fields.Integer(allow_none=True)
    year = fields.Integer()
    profit = Money()
    declared_on = fields.Date(allow_none=True)
    fixed_total = Money()
    shortfall = Money(metadata={"description": "担保方应付"})
    lines = fields.List(fields.Nested(ReturnLineSchema))


class ProjectSchema(StrictSchema):
    id = fields.Integer()
    county_id = fields.Integer()
    name = fields.String()
    operator_org_id = fields.Integer(allow_none=True)
    operator_name = fields.String()
    guarantor = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    fixed_rate = Rate()
    profit_sharing = fields.Boolean()
    contract_weights = fields.Boolean()
    documents = fields.String(allow_none=True)
    participants = fields.List(fields.Nested(ParticipantSchema))


class ProjectDetailSchema(ProjectSchema):
    contributions = fields.List(fields.Nested(ContributionSchema))
    returns = fields.List(fields.Nested(ReturnSchema))


class ReconRowSchema(StrictSchema):
    participant = fields.String()
    item = fields.String()
    village = Money(allow_negative=True)
    operator = Money(allow_none=True)
    difference = Money(allow_none=True)


# ---------------------------------------------------------------- dumps shared by the pages and the API

PROJECT_FIELDS = ("id", "county_id", "name", "operator_org_id", "operator_name", "guarantor", "start_date",
                  "end_date", "fixed_rate", "profit_sharing", "contract_weights", "documents")
LINE_STATE = ("village_voucher_id", "operator_voucher_id", "operator_paid_on", "guarantor_paid_on")


def _line(line, name: str) -> dict:
    """A return line: saved, or a preview's (no id, vouchers or receipts yet)."""
    return {"id": getattr(line, "id", None), "participant_id": line.participant_id, "organization": name,
            "fixed": line.fixed, "profit_part": line.profit_part, "guaranteed": line.guaranteed,
            "total": line.fixed + line.profit_part, **{k: getattr(line, k, None) for k in LINE_STATE}}


def _return(year: int, profit: Decimal, lines: list[dict], shortfall: Decimal, ret=None) -> dict:
    return {"id": ret.id if ret else None, "year": year, "profit": profit,
            "declared_on": ret.declared_on if ret else None,
            "fixed_total": sum((l["fixed"] for l in lines), Decimal("0.00")), "shortfall": shortfall, "lines": lines}


def project_out(project, *, detail: bool = False) -> dict:
    """The project with each participant's capital in the project; with `detail`, its contributions and returns."""
    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import ProjectContribution, ProjectParticipant, ProjectReturn

    # read here, as the returns below are: a schema sits below the services
    cs = list(db.session.scalars(
        sa.select(ProjectContribution).join(ProjectParticipant).where(ProjectParticipant.project_id == project.id)
        .order_by(ProjectContribution.date, ProjectContribution.id)))
    capital: dict[int, Decimal] = {}
    for c in cs:
        capital[c.participant_id] = capital.get(c.participant_id, Decimal("0.00")) + c.amount
    names = {p.id: p.organization.name for p in project.participants}
    out = {k: getattr(project, k) for k in PROJECT_FIELDS}
    out["participants"] = [{"id": p.id, "organization_id": p.organization_id, "organization": names[p.id],
                            "weight": p.weight, "capital": capital.get(p.id, Decimal("0.00")),
                            "exited_on": p.exited_on} for p in project.participants]
    if detail:
        out["contributions"] = [{"organization": names[c.participant_id], **{k: getattr(c, k) for k in (
            "id", "participant_id", "kind", "amount", "date", "village_voucher_id", "operator_voucher_id")}}
            for c in cs]
        rets = db.session.scalars(sa.select(ProjectReturn).where(ProjectReturn.project_id == project.id)
                                  .order_by(ProjectReturn.year))
        out["returns"] = [_return(r.year, r.profit, [_line(l, names[l.participant_id]) for l in r.lines],
                                  r.shortfall, r) for r in rets]
    return out


def preview_out(project, year: int, profit: Decimal, result, guaranteed: dict) -> dict:
    """service.preview_return's figures in the shape of a declared return (lines with nothing to book left out,
    as declaring leaves them out)."""
    from types import SimpleNamespace

    names = {p.id: p.organization.name for p in project.participants}
    zero = Decimal("0.00")
    lines = []
    for pid in sorted(set(result.fixed) | set(result.profit_share)):
        line = SimpleNamespace(participant_id=pid, fixed=result.fixed.get(pid, zero),
                               profit_part=result.profit_share.get(pid, zero), guaranteed=guaranteed.get(pid, zero))
        if line.fixed + line.profit_part > 0:
            lines.append(_line(line, names[pid]))
    return _return(year, profit, lines, result.shortfall)
