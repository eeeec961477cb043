"""Schemas for 收益分配 plans (scenarios), approvals, posting and dividend payments (RULES §7).

The web forms load the same schemas as the API (empty form fields left out first), so a bad value gets the same
message beside the field as in the API's error body. Money and ratios are strings, never JSON numbers.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from coop.core.text import N_
from coop.models.distribution import APPROVAL_STEPS
from coop.schemas.common import DecimalString, Money, StrictSchema, UtcDateTime, finer

DATE_ERRORS = {"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"}
COUNT = dict(load_default=None, allow_none=True,
             validate=validate.Range(min=0, max=10_000_000, error="人数应为0到10000000之间的整数"),
             error_messages={"invalid": "人数应为整数"})
METHODS = {"four_two": N_("四议两公开"), "assembly": N_("成员大会决议")}


class Whole(fields.Integer):
    """An integer given as a JSON integer or, from a web form, as digits; 3.5 or "3.5" is an error, not 3."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().isdecimal():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def Rate(**kw) -> DecimalString:
    """公积公益金提取比例 as a decimal string ("0.30" = 30%), 0 … 1, at most 4 places."""
    return DecimalString(places=4, example="0.30", not_text="比例必须是文本，例如 \"0.30\"",
                         invalid="比例格式不正确，例如 \"0.30\" 表示30%",
                         checks=[(lambda d: abs(d) > 1000, "比例格式不正确，例如 \"0.30\" 表示30%"),
                                 (lambda d: not 0 <= d <= 1, lambda d: f"公积公益金提取比例 {d:.2%} 超出0到100%的范围"),
                                 (lambda d: finer(d, 4), "比例最多4位小数（0.01%）")], **kw)


def Weight(**kw) -> DecimalString:
    """A cadre's 考核 score: a positive decimal string ("95.5"), at most 4 places."""
    return DecimalString(places=4, example="95", not_text="考核分必须是文本，例如 \"95\"", invalid="考核分格式不正确",
                         checks=[(lambda d: abs(d) >= 10 ** 8 or finer(d, 4), "考核分最多4位小数"),
                                 (lambda d: d <= 0, "考核分必须大于零")], **kw)


class DistributionCadreInSchema(StrictSchema):
    """A 村两委 member considered for the 干部奖励分红."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=50, error="姓名为1到50个字"),
                         error_messages={"required": "请填写姓名"})
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50, error="职务最多50个字"))
    start = fields.Date(required=True, error_messages={"required": "请填写任职开始日期", "invalid": DATE_ERRORS["invalid"]})
    end = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": DATE_ERRORS["invalid"]})
    weight = Weight(load_default=Decimal("1.0000"))

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("end") and data.get("start") and data["end"] < data["start"]:
            raise ValidationError("离任日期早于任职日期", "end")


class DistributionScenarioInSchema(StrictSchema):
    """What the meeting would decide for a year: a what-if, or the body of a plan."""

    year = Whole(required=True,
                          validate=validate.Range(min=1990, max=2100, error="年度应在1990到2100之间"),
                          error_messages={"required": "请填写年度", "invalid": "年度应为整数"})
    name = fields.String(load_default="", validate=validate.Length(max=100, error="方案名称最多100个字"))
    #: 股权登记日; default 31 December of the year
    record_date = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": DATE_ERRORS["invalid"]})
    #: overrides the 章程 rate; leave out to use it
    reserve_rate = Rate(load_default=None, allow_none=True)
    cadre_reward = Money(allow_zero=True, load_default=Decimal("0.00"))
    member_pool = Money(allow_zero=True, load_default=Decimal("0.00"))
    other = Money(allow_zero=True, load_default=Decimal("0.00"))
    cadres = fields.List(fields.Nested(DistributionCadreInSchema), load_default=list,
                         validate=validate.Length(max=100, error="干部最多100人"))
    #: 补充分配: a further distribution for a year that already has one (approved on its own)
    supplementary = fields.Boolean(load_default=False)

    @post_load
    def _record_date(self, data, **kwargs):
        if data.get("record_date") is None:
            data["record_date"] = dt.date(data["year"], 12, 31)
        return data


class DistributionPlanUpdateInSchema(StrictSchema):
    """Changes to a draft plan; fields left out keep their value. `cadres`, when given, replaces the list."""

    name = fields.String(validate=validate.Length(min=1, max=100, error="方案名称为1到100个字"))
    record_date = fields.Date(error_messages={"invalid": DATE_ERRORS["invalid"]})
    reserve_rate = Rate(allow_none=True)
    cadre_reward = Money(allow_zero=True)
    member_pool = Money(allow_zero=True)
    other = Money(allow_zero=True)
    cadres = fields.List(fields.Nested(DistributionCadreInSchema), validate=validate.Length(max=100, error="干部最多100人"))
    supplementary = fields.Boolean()


class DistributionApprovalInSchema(StrictSchema):
    """One step of 四议两公开, or the 成员大会 resolution ('assembly'), with vote counts where there is a vote."""

    step = fields.String(required=True, validate=validate.OneOf(tuple(APPROVAL_STEPS), error="审批步骤不正确"),
                         error_messages={"required": "请选择审批步骤"})
    date = fields.Date(required=True, error_messages=DATE_ERRORS)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=200, error="会议记录编号为1到200个字"),
                              error_messages={"required": "请填写会议记录或公告编号"})
    entitled = Whole(**COUNT)
    present = Whole(**COUNT)
    votes_for = Whole(**COUNT)
    #: for the meeting ('assembly'): when the 年度财务会计报告 and the plan were made available, and the notice given
    #: (each ≥ 10 days before the meeting by default)
    materials_date = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": DATE_ERRORS["invalid"]})
    notice_date = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": DATE_ERRORS["invalid"]})


class DistributionApproveInSchema(StrictSchema):
    approval_method = fields.String(
        required=True, error_messages={"required": "请选择审批方式"},
        validate=validate.OneOf(tuple(METHODS), error="审批方式应为 four_two（四议两公开）或 assembly（成员大会决议）"))


class DistributionPostInSchema(StrictSchema):
    """In the year-end sequence the plan posts on 31 December of its year (leave the date out); decided after the
    year closed, give a date in a later open month."""

    date = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": DATE_ERRORS["invalid"]})


class DividendPayInSchema(StrictSchema):
    """Draft one payment voucher for the unpaid dividends of the households (all unpaid ones when left out)."""

    household_ids = fields.List(Whole(validate=validate.Range(min=1, max=2**31 - 1),
                                               error_messages={"invalid": "户编号应为整数"}),
                                load_default=None, allow_none=True)
    date = fields.Date(required=True, error_messages=DATE_ERRORS)
    #: a cash or bank leaf; left out, the one the plan last paid from
    pay_from = fields.String(load_default=None, allow_none=True,
                             validate=validate.Regexp(r"^\d{3,20}$", error="发放账户应为库存现金或银行存款的末级科目编码"))


# ---------------------------------------------------------------- output shapes


class DistributionCadreSchema(StrictSchema):
    id = fields.Integer(allow_none=True)
    index = fields.Integer()
    name = fields.String()
    title = fields.String(allow_none=True)
    start = fields.Date()
    end = fields.Date(allow_none=True)
    weight = Weight()
    days = fields.Integer(metadata={"description": "days in office during the year (eligible from 183 by default)"})
    amount = Money(allow_none=True)


class DistributionApprovalSchema(StrictSchema):
    id = fields.Integer()
    step = fields.String()
    label = fields.String()
    date = fields.Date()
    reference = fields.String()
    entitled = fields.Integer(allow_none=True)
    present = fields.Integer(allow_none=True)
    votes_for = fields.Integer(allow_none=True)


class DistributionPlanSchema(StrictSchema):
    id = fields.Integer()
    year = fields.Integer()
    name = fields.String()
    record_date = fields.Date()
    reserve_rate = Rate(allow_none=True)
    cadre_reward = Money()
    member_pool = Money()
    other = Money()
    status = fields.String()
    supplementary = fields.Boolean()
    materials_date = fields.Date(allow_none=True)
    notice_date = fields.Date(allow_none=True)
    pay_from = fields.String(allow_none=True)
    approval_method = fields.String(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)
    posted_at = UtcDateTime(allow_none=True)
    distributable = Money(allow_none=True)
    reserve = Money(allow_none=True)
    collective_part = Money(allow_none=True)
    cadres = fields.List(fields.Nested(DistributionCadreSchema))
    approvals = fields.List(fields.Nested(DistributionApprovalSchema))
    figures = fields.Dict(allow_none=True, metadata={"description": "the waterfall as posted (frozen), money as strings"})


class DistributionWaterfallSchema(StrictSchema):
    net_profit = Money(metadata={"description": "本年收益"})
    opening_undistributed = Money(metadata={"description": "年初未分配收益 (negative: 未弥补亏损)"})
    other_in = Money(metadata={"description": "其他转入/调整 (32202 moved by hand or prior-year corrections)"})
    distributed_before = Money(metadata={"description": "distributions already booked since the year began"})
    operating_profit = Money(metadata={"description": "当年经营性纯收益 = 501 + 502 − 511 − 512 − 513"})
    distributable = Money(metadata={"description": "可分配收益"})
    loss_covered = Money(metadata={"description": "弥补以前年度亏损 (already netted)"})
    reserve_rate = Rate()
    reserve = Money(metadata={"description": "提取公积公益金"})
    cadre_cap_rate = Rate()
    cadre_cap = Money(metadata={"description": "干部奖励分红上限"})
    cadre_reward = Money()
    member_pool = Money(metadata={"description": "向成员分配 as decided (at most)"})
    members = Money(allow_none=True, metadata={"description": "向成员分配: what households get"})
    collective = Money(metadata={"description": "集体股 part, its own line"})
    rounding_rest = Money(metadata={"description": "left by the per-share rounding (stays undistributed)"})
    reserve_base = Money(metadata={"description": "base of 提取公积公益金 (art. 42)"})
    per_share = fields.String(allow_none=True, metadata={"description": "每股金额"})
    total_units = fields.String(allow_none=True)
    other = Money()
    closing_undistributed = Money(metadata={"description": "年末未分配收益"})


class DistributionHouseholdSchema(StrictSchema):
    household_id = fields.Integer()
    number = fields.String()
    head_name = fields.String(allow_none=True)
    units = fields.String()
    amount = Money()


class DistributionPreviewSchema(StrictSchema):
    ok = fields.Boolean()
    errors = fields.Dict(metadata={"description": "broken rules by field path, each with the amount"})
    year = fields.Integer()
    record_date = fields.Date()
    waterfall = fields.Nested(DistributionWaterfallSchema)
    cadres = fields.List(fields.Nested(DistributionCadreSchema))
    households = fields.List(fields.Nested(DistributionHouseholdSchema))
    collective_units = fields.String()
    collective_amount = Money()


class DividendStatusSchema(StrictSchema):
    household_id = fields.Integer()
    number = fields.String()
    head_name = fields.String(allow_none=True)
    payee = fields.String(metadata={"description": "the 211 counterparty (辅助核算) the dividend was posted under and "
                                                   "is paid under: 户号 and 户主 as at posting"})
    units = fields.String()
    amount = Money(metadata={"description": "allocated"})
    paid = Money(metadata={"description": "by posted payment vouchers"})
    pending = Money(metadata={"description": "on payment vouchers not yet posted"})
    unpaid = Money()


class DividendPaymentSchema(StrictSchema):
    voucher_id = fields.Integer()
    voucher_url = fields.String()
    households = fields.Integer()
    total = Money()


class DistributionPolicyInSchema(StrictSchema):
    """章程 choices of the distribution for one organization (county admin); a field set to null falls back to the
    county default, then to the rule's default."""

    reserve_base = fields.String(allow_none=True, validate=validate.OneOf(
        ("net_profit", "distributable"), error="应为 net_profit（本年收益，弥补亏损后）或 distributable（可分配收益）"))
    dividend_mode = fields.String(allow_none=True, validate=validate.OneOf(
        ("per_share", "pool"), error="应为 per_share（每股金额取到分）或 pool（总额按最大余额法）"))
    collective_mode = fields.String(allow_none=True, validate=validate.OneOf(
        ("reserve", "retain"), error="应为 reserve（转公积公益金）或 retain（留在未分配收益）"))
    cadre_min_days = Whole(allow_none=True, validate=validate.Range(min=0, max=366, error="任职天数应在0到366之间"),
                           error_messages={"invalid": "天数应为整数"})
    cadre_tax_rate = Rate(allow_none=True)
    materials_days = Whole(allow_none=True, validate=validate.Range(min=10, max=365, error="法定至少提前10天"),
                           error_messages={"invalid": "天数应为整数"})
    notice_days = Whole(allow_none=True, validate=validate.Range(min=10, max=365, error="法定至少提前10天"),
                        error_messages={"invalid": "天数应为整数"})


class DistributionPolicySchema(StrictSchema):
    reserve_base = fields.String()
    dividend_mode = fields.String()
    collective_mode = fields.String()
    cadre_min_days = fields.Integer()
    cadre_tax_rate = Rate()
    materials_days = fields.Integer()
    notice_days = fields.Integer()


class DistributionPlanQuerySchema(StrictSchema):
    year = Whole(validate=validate.Range(min=1990, max=2100, error="年度应在1990到2100之间"),
                 error_messages={"invalid": "年度应为整数"})


class DistributionPostedSchema(StrictSchema):
    plan = fields.Nested(DistributionPlanSchema)
    voucher_id = fields.Integer()
    voucher_url = fields.String()


class YearEndVoucherSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    date = fields.Date()
    summary = fields.String()


class YearEndPlanSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    supplementary = fields.Boolean()
    voucher_id = fields.Integer(allow_none=True)


class YearEndStatusSchema(StrictSchema):
    year = fields.Integer()
    step = fields.String(metadata={"description": "next step: months | carryover | distribution | close | done"})
    step_label = fields.String()
    carryover = fields.String(metadata={"description": "not_due | pending | done | stale | closed"})
    carryover_vouchers = fields.List(fields.Nested(YearEndVoucherSchema))
    plans = fields.List(fields.Nested(YearEndPlanSchema))
    closed = fields.Boolean()
    posts_in = fields.String(metadata={"description": "december (before 结账) | later (decided after the close)"})
