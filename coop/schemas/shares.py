"""Schemas of the share register: 折股量化 plans, share events and the register (web forms and the API)."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields, validate, validates_schema

from coop.schemas.common import ID_RANGE, Integer, Money, Ratio, StrictSchema
from coop.schemas.members import (ACCOUNT_CODE, DATE_ERRORS, REFERENCE, SHARE_CLASS, CertificateSchema, HoldingSchema,
                                  HouseholdSchema, Units, _id)


class PlanInSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100, error="名称为1到100个字"),
                         error_messages={"required": "请填写方案名称"})
    base_date = fields.Date(required=True, error_messages=DATE_ERRORS | {"required": "请填写基准日"})
    net_assets = Money(required=True, error_messages={"required": "请填写量化的经营性净资产"})
    approval_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    population_units = Units(load_default=Decimal("1.0000"), allow_zero=True)
    labour_units_per_year = Units(load_default=Decimal("0.0000"), allow_zero=True)
    labour_cap_years = Integer(load_default=None, allow_none=True,
                               validate=validate.Range(min=0, max=100, error="封顶年数应在0到100之间"))
    #: empty: the 章程's 集体股 share (none when the 章程 has no 集体股)
    collective_ratio = Ratio(load_default=None, allow_none=True)
    collective_override = fields.Boolean(load_default=False)
    poverty_floor_rate = Ratio(load_default=Decimal("0"))


RULE_KEYS = ("population_units", "labour_units_per_year", "labour_cap_years", "collective_ratio",
             "collective_override", "poverty_floor_rate")


def split_plan(data: dict) -> tuple[dict, dict]:
    """PlanInSchema data → (plan fields, class rules) as the plan services take them."""
    rules = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items() if k in RULE_KEYS}
    return {k: v for k, v in data.items() if k not in RULE_KEYS}, rules


class PlanInputInSchema(StrictSchema):
    member_id = _id("请选择成员")
    labour_start = fields.Date(load_default=None, allow_none=True, error_messages=DATE_ERRORS)
    labour_end = fields.Date(load_default=None, allow_none=True, error_messages=DATE_ERRORS)
    cash = Money(load_default=Decimal("0.00"), allow_zero=True, allow_empty=True)
    resource = Money(load_default=Decimal("0.00"), allow_zero=True, allow_empty=True)
    poverty = Money(load_default=Decimal("0.00"), allow_zero=True, allow_empty=True)

    @validates_schema
    def _labour_dates(self, data, **kwargs):
        # the service checks it too; here it is reported together with the other fields' errors
        start, end = data.get("labour_start"), data.get("labour_end")
        if start and end and end < start:
            raise ValidationError("农龄截止日期早于开始日期", "labour_end")


class PlanInputsInSchema(StrictSchema):
    inputs = fields.List(fields.Nested(PlanInputInSchema), required=True, error_messages={"required": "请填写成员数据"})


class PlanIssueInSchema(StrictSchema):
    approval_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class PlanInputSchema(StrictSchema):
    member_id = fields.Integer()
    labour_start = fields.Date(allow_none=True)
    labour_end = fields.Date(allow_none=True)
    cash = Money(allow_zero=True)
    resource = Money(allow_zero=True)
    poverty = Money(allow_zero=True)


class PlanSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    base_date = fields.Date()
    net_assets = Money()
    approval_ref = fields.String(allow_none=True)
    status = fields.String()
    rules = fields.Dict()
    face_value = Units(allow_none=True)
    total_units = Units(allow_none=True)
    inputs = fields.List(fields.Nested(PlanInputSchema))


class ClassUnitsSchema(StrictSchema):
    share_class = fields.String()
    label = fields.String()
    units = Units(allow_zero=True)


class PreviewMemberSchema(StrictSchema):
    member_id = fields.Integer()
    household_id = fields.Integer()
    name = fields.String()
    classes = fields.Dict(keys=fields.String(), values=Units(allow_zero=True))
    units = Units(allow_zero=True)


class PreviewHouseholdSchema(StrictSchema):
    household_id = fields.Integer()
    number = fields.String()
    units = Units(allow_zero=True)


class PlanPreviewSchema(StrictSchema):
    ok = fields.Boolean()
    total_units = Units(allow_zero=True)
    face_value = Units(allow_zero=True)
    collective_units = Units(allow_zero=True)
    classes = fields.List(fields.Nested(ClassUnitsSchema))
    members = fields.List(fields.Nested(PreviewMemberSchema))
    households = fields.List(fields.Nested(PreviewHouseholdSchema))
    warnings = fields.List(fields.String())
    errors = fields.Dict()


# ---------------------------------------------------------------- register events


class _EventIn(StrictSchema):
    date = fields.Date(required=True, error_messages=DATE_ERRORS)
    reference = fields.String(**REFERENCE)


class TransferInSchema(_EventIn):
    from_member_id = _id("请选择转出人")
    to_member_id = _id("请选择受让人")
    share_class = fields.String(**SHARE_CLASS)
    units = Units(required=True, error_messages={"required": "请填写股数"})


class InheritInSchema(_EventIn):
    deceased_id = _id("请选择被继承人")
    heir_id = _id("请选择继承人")


class BuybackInSchema(_EventIn):
    member_id = _id("请选择退出人")
    share_class = fields.String(**SHARE_CLASS)
    units = Units(required=True, error_messages={"required": "请填写股数"})
    price = Money(required=True, error_messages={"required": "请填写回购价款"})
    pay_from = fields.String(load_default=None, allow_none=True, validate=ACCOUNT_CODE,
                             metadata={"description": "a cash/bank leaf; default: the 银行存款 posting role"})
    charge_to = fields.String(load_default=None, allow_none=True, validate=ACCOUNT_CODE,
                              metadata={"description": "a leaf under 资本; default: the 资本 posting role"})


class SplitInSchema(_EventIn):
    household_id = _id("请选择原户")
    member_ids = fields.List(Integer(validate=ID_RANGE, error_messages={"invalid": "编号应为整数"}), required=True,
                             validate=validate.Length(min=1, error="请选择分出的成员"),
                             error_messages={"required": "请选择分出的成员"})
    new_number = fields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(r"^[0-9A-Za-z-]{1,20}$", error="户号为1到20位数字或字母"))


class MergeInSchema(_EventIn):
    source_id = _id("请选择并入的户")
    target_id = _id("请选择并入到的户")


class NomineeInSchema(_EventIn):
    #: empty = the collective holds
    holder_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE,
                        error_messages={"invalid": "编号应为整数"})
    beneficiary_id = _id("请选择被代持人")
    share_class = fields.String(**SHARE_CLASS)
    units = Units(required=True, error_messages={"required": "请填写股数"})


class NomineeReleaseInSchema(_EventIn):
    holder_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE,
                        error_messages={"invalid": "编号应为整数"})
    beneficiary_id = _id("请选择被代持人")
    share_class = fields.String(**SHARE_CLASS)


class ReverseInSchema(StrictSchema):
    date = fields.Date(required=True, error_messages=DATE_ERRORS)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200, error="原因为1到200个字"),
                           error_messages={"required": "请填写冲正原因"})


class ShareEventSchema(StrictSchema):
    share_class = fields.String()
    member_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    beneficiary_id = fields.Integer(allow_none=True)
    income_only = fields.Boolean()
    units = fields.Method("_units", metadata={"type": "string"})

    def _units(self, obj):
        return f"{obj.units:.4f}"


class ShareActionSchema(StrictSchema):
    id = fields.Integer()
    date = fields.Date()
    kind = fields.String()
    reference = fields.String(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)
    amount = Money(allow_none=True)
    events = fields.List(fields.Nested(ShareEventSchema))


class RegisterQuerySchema(StrictSchema):
    as_of = fields.Date(load_default=None, error_messages=DATE_ERRORS)


class RegisterSchema(StrictSchema):
    as_of = fields.Date()
    total_units = Units(allow_zero=True)
    face_value = Units(allow_none=True)
    classes = fields.List(fields.Nested(ClassUnitsSchema))
    households = fields.List(fields.Nested(HouseholdSchema))
    holdings = fields.List(fields.Nested(HoldingSchema))


class IssuedSchema(StrictSchema):
    plan = fields.Nested(PlanSchema)
    certificates = fields.List(fields.Nested(CertificateSchema))
