"""Schemas for members, households, quantification plans and share register events (RULES §6).

The web forms load the same schemas as the API (empty form fields are left out first), so a bad value gets the
same message beside the field as in the API's error body.
"""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from coop.ledger import codes
from coop.ledger.shares import CLASS_LABELS
from coop.models.members import MEMBERSHIP_EVENTS, RELATIONS
from coop.schemas.common import ID_RANGE, DecimalString, Integer, StrictSchema, finer

DATE_ERRORS = {"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"}
REFERENCE = dict(required=True, validate=validate.Length(min=1, max=200, error="依据为1到200个字"),
                 error_messages={"required": "请填写依据（协议、决议或证明文件编号）"})
ACCOUNT_CODE = validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确")
SHARE_CLASS = dict(required=True, validate=validate.OneOf(tuple(CLASS_LABELS), error="股种不正确"),
                   error_messages={"required": "请选择股种"})


def _id(required_message: str, **kw):
    return Integer(required=True, validate=ID_RANGE,
                   error_messages={"required": required_message, "invalid": "编号应为整数"}, **kw)


def Units(*, allow_zero: bool = False, **kw) -> DecimalString:
    """Share units as a decimal string ("1.5000"), at most 4 places; JSON numbers are refused like money."""
    return DecimalString(
        places=4, example="1.5000", not_text="股数必须是文本，例如 \"1.5\"", invalid="股数格式不正确",
        # the size first: quantizing "1e100" to 4 places raises InvalidOperation (a 500)
        checks=[(lambda d: abs(d) >= 10 ** 10 or finer(d, 4), "股数最多4位小数"),
                (lambda d: d < 0 or (d == 0 and not allow_zero), "股数必须大于零" if not allow_zero else "不能为负数")],
        **kw)


# ---------------------------------------------------------------- members and households


class MemberInSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50, error="姓名为1到50个字"),
                         error_messages={"required": "请填写姓名"})
    id_number = fields.String(required=True, error_messages={"required": "请填写身份证号"})
    relation = fields.String(load_default="其他", validate=validate.OneOf(RELATIONS, error="与户主关系不正确"))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class HouseholdInSchema(StrictSchema):
    """A new household with its head (户主)."""

    number = fields.String(load_default=None, allow_none=True,
                           validate=validate.Regexp(r"^[0-9A-Za-z-]{1,20}$", error="户号为1到20位数字或字母"))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50, error="姓名为1到50个字"),
                         error_messages={"required": "请填写户主姓名"})
    id_number = fields.String(required=True, error_messages={"required": "请填写户主身份证号"})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class MembershipEventInSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(MEMBERSHIP_EVENTS), error="变动类型不正确"),
                         error_messages={"required": "请选择变动类型"})
    date = fields.Date(required=True, error_messages=DATE_ERRORS)
    evidence = fields.String(required=True, validate=validate.Length(min=1, max=200, error="依据为1到200个字"),
                             error_messages={"required": "请填写依据（如成员大会决议编号、死亡证明）"})
    votes_for = Integer(load_default=None, allow_none=True,
                        validate=validate.Range(min=0, max=10_000_000, error="票数应为0到10000000之间的整数"))
    votes_total = Integer(load_default=None, allow_none=True,
                          validate=validate.Range(min=1, max=10_000_000, error="全体成员数应为1到10000000之间的整数"))


class RegistrationLookupInSchema(StrictSchema):
    """A township or county looks up where a full, exact 身份证号 is registered (RULES §13)."""

    id_number = fields.String(required=True, validate=validate.Length(min=1, max=40, error="请填写完整的身份证号"),
                              error_messages={"required": "请填写完整的身份证号"})


class RegistrationSchema(StrictSchema):
    organization_id = Integer()
    organization = fields.String()
    township = fields.String()
    household_id = Integer()
    household_number = fields.String()
    name = fields.String()
    id_number = fields.String(metadata={"description": "masked (RULES §13)"})
    status = fields.String()


class RegistrationsSchema(StrictSchema):
    registrations = fields.List(fields.Nested(RegistrationSchema))
    #: registered on a roster outside the caller's township or county too (never said which)
    elsewhere = fields.Boolean()


class RosterImportInSchema(StrictSchema):
    """Options of a roster import: confirm everyone as a member on a date, with the 成员大会 reference."""

    confirm_date = fields.Date(load_default=None, allow_none=True, error_messages=DATE_ERRORS)
    evidence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))

    @validates_schema
    def _evidence_with_date(self, data, **kwargs):
        if data.get("confirm_date") and not (data.get("evidence") or "").strip():
            raise ValidationError("确认成员身份须填写成员大会决议编号", "evidence")


class MemberSchema(StrictSchema):
    id = fields.Integer()
    household_id = fields.Integer()
    name = fields.String()
    #: masked (520203********0033, RULES §13) for users who do not manage the roster
    id_number = fields.String()
    sex = fields.String()
    #: null for them too: it is the masked part of the number
    birth_date = fields.Date(allow_none=True)
    relation = fields.String()
    phone = fields.String(allow_none=True)
    status = fields.String()


class MembershipEventSchema(StrictSchema):
    id = fields.Integer()
    member_id = fields.Integer()
    kind = fields.String()
    label = fields.String()
    date = fields.Date()
    evidence = fields.String()
    votes_for = fields.Integer(allow_none=True)
    votes_total = fields.Integer(allow_none=True)


class MemberDetailSchema(MemberSchema):
    events = fields.List(fields.Nested(MembershipEventSchema))


class HoldingSchema(StrictSchema):
    member_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    share_class = fields.String()
    beneficiary_id = fields.Integer(allow_none=True)
    income_only = fields.Boolean()
    units = Units()


class CertificateSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    issued_on = fields.Date()
    revoked_on = fields.Date(allow_none=True)
    verify_url = fields.String()
    pdf_url = fields.String()


class HouseholdSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    address = fields.String(allow_none=True)
    active = fields.Boolean()
    head_id = fields.Integer(allow_none=True)
    head_name = fields.String(allow_none=True)
    people = fields.Integer()
    units = Units(allow_zero=True)
    certificate_number = fields.String(allow_none=True)


class HouseholdDetailSchema(HouseholdSchema):
    members = fields.List(fields.Nested(MemberSchema))
    holdings = fields.List(fields.Nested(HoldingSchema))
    certificate = fields.Nested(CertificateSchema, allow_none=True)


class RosterProblemSchema(StrictSchema):
    line = fields.Integer()
    message = fields.String()


class RosterCheckSchema(StrictSchema):
    ok = fields.Boolean()
    rows = fields.Integer()
    households = fields.Integer()
    problems = fields.List(fields.Nested(RosterProblemSchema))


class RosterImportedSchema(StrictSchema):
    households = fields.Integer()
    members = fields.Integer()


# ---------------------------------------------------------------- quantification plans


class HouseholdQuerySchema(StrictSchema):
    q = fields.String(load_default="")


class RosterFileSchema(Schema):
    file = Upload(required=True, error_messages={"required": "请上传名册文件（xlsx 或 CSV）"})


class RosterSchema(StrictSchema):
    columns = fields.List(fields.String())
    rows = fields.List(fields.List(fields.String()))
