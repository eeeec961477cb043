"""The first-run form (web and API): a county, its policy defaults and its first county admin."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from coop.ledger import codes
from coop.schemas.common import ID_RANGE, Integer, Money, Ratio, StrictSchema


class CountySetupInSchema(StrictSchema):
    setup_token = fields.String(required=True, error_messages={"required": "请填写安装口令"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100, error="县名为1到100个字"),
                         error_messages={"required": "请填写县名"})
    code_scheme = fields.String(load_default=codes.DEFAULT_KEY,
                                validate=validate.OneOf(codes.CHOICES, error="科目编码方案不正确"))
    admin_username = fields.String(required=True, validate=validate.Length(min=1, max=80, error="用户名为1到80个字"),
                                   error_messages={"required": "请填写县级管理员的用户名"})
    admin_display_name = fields.String(load_default="", validate=validate.Length(max=100))
    reserve_rate = Ratio(load_default=None, allow_none=True)
    cadre_reward_cap = Ratio(load_default=None, allow_none=True)
    cash_limit = Money(load_default=None, allow_none=True)
    buyback_limit = Ratio(load_default=None, allow_none=True)
    disclosure_due_days = Integer(load_default=None, allow_none=True,
                                  validate=validate.Range(min=1, max=90, error="公开期限应在1到90天之间"))


class SetupTownshipInSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100, error="乡镇名称为1到100个字"),
                         error_messages={"required": "请填写乡镇名称"})


class SetupTownshipSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()


class SetupStepSchema(StrictSchema):
    key = fields.String()
    label = fields.String()
    done = fields.Boolean()
    missing = fields.List(fields.String())


class SetupFileSchema(Schema):
    file = Upload(required=True, error_messages={"required": "请上传 Excel 文件（.xlsx）"})


class SetupProblemSchema(StrictSchema):
    line = fields.Integer()
    message = fields.String()


class SetupCheckSchema(StrictSchema):
    ok = fields.Boolean()
    rows = fields.Integer(metadata={"description": "accounts to add, or opening balance lines"})
    debit_total = fields.String(allow_none=True)
    credit_total = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(SetupProblemSchema))


class SetupPortalInSchema(StrictSchema):
    member_ids = fields.List(Integer(validate=ID_RANGE), load_default=None, allow_none=True,
                             metadata={"description": "omit for every household head without an account"})


class SetupOpenedSchema(StrictSchema):
    member_id = fields.Integer()
    household_number = fields.String()
    username = fields.String()
    one_time_password = fields.String(metadata={"description": "shown this once; changed at first login"})


class SetupCountyCreatedSchema(StrictSchema):
    county_id = fields.Integer()
    name = fields.String()
    code_scheme = fields.String()
    admin_username = fields.String()
    one_time_password = fields.String(metadata={"description": "shown this once; changed at first login"})
