"""The first-run form (web and API): a county, its policy defaults and its first county admin."""
from __future__ import annotations

from marshmallow import fields, validate

from coop.ledger import codes
from coop.schemas.common import Integer, Money, Ratio, StrictSchema


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
