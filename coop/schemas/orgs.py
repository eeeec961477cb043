"""Schemas for organizations, their 章程 parameters, and users (county administration)."""
from __future__ import annotations

from marshmallow import fields, validate

from coop.models.org import ORG_KINDS
from coop.models.users import ROLES
from coop.schemas.common import ID_RANGE, Integer, Money, Ratio, StrictSchema


class OrganizationInSchema(StrictSchema):
    township_id = Integer(required=True, validate=ID_RANGE, error_messages={"required": "请选择乡镇"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error="名称为1到120个字"),
                         error_messages={"required": "请填写组织名称"})
    kind = fields.String(required=True, validate=validate.OneOf(tuple(ORG_KINDS), error="组织类型不正确"))
    cun_she_he_yi = fields.Boolean(load_default=False)
    uscc = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    legal_representative = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    books_start_year = Integer(required=True, validate=validate.Range(min=2000, max=2100, error="年份不正确"),
                               error_messages={"required": "请填写建账年份"})
    books_start_month = Integer(load_default=1, validate=validate.Range(min=1, max=12, error="月份应在1到12之间"))


class CharterInSchema(StrictSchema):
    """章程 parameters; empty means "use the county default"."""

    reserve_rate = Ratio(load_default=None, allow_none=True)
    cadre_reward_cap = Ratio(load_default=None, allow_none=True)
    cash_limit = Money(load_default=None, allow_none=True)
    #: 有偿退出: at most this share of all shares bought back a year (RULES §6; county default 5 %)
    buyback_limit = Ratio(load_default=None, allow_none=True)
    has_collective_share = fields.Boolean(load_default=False)
    collective_share_ratio = Ratio(load_default=None, allow_none=True)
    county_may_post = fields.Boolean(load_default=False, metadata={
        "description": "vouchers the county or township writes into these books (飞地抱团, 贴息) post at once "
                       "instead of waiting for the village's review (default: they wait)"})


class UserInSchema(StrictSchema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{3,50}$",
                             error="用户名为3到50位字母、数字、下划线、点或横线"))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    #: a one-time password: the policy (coop.services.users.password_problem) applies, and it is changed at
    #: first login
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=200,
                             error="密码至少10位"))
    #: the least powerful role unless another is chosen (RULES §13)
    role = fields.String(load_default="member", validate=validate.OneOf(tuple(ROLES), error="角色不正确"))
    organization_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    township_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)


class RoleGrantInSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(tuple(ROLES), error="角色不正确"),
                         error_messages={"required": "请选择角色"})
    organization_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    township_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)


class PasswordChangeInSchema(StrictSchema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=200),
                                     error_messages={"required": "请填写当前密码"})
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=200),
                                 error_messages={"required": "请填写新密码"})
    confirm_password = fields.String(required=True, load_only=True, validate=validate.Length(max=200),
                                     error_messages={"required": "请再输入一次新密码"})


class OrganizationSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    cun_she_he_yi = fields.Boolean()
    uscc = fields.String(allow_none=True)
    township = fields.String(attribute="township.name")
    county = fields.String(attribute="township.county.name")
    books_start_year = fields.Integer()
    books_start_month = fields.Integer()
    opening_locked = fields.Boolean()
    reserve_rate = Ratio(attribute="policy_reserve_rate")
    cadre_reward_cap = Ratio(attribute="policy_cadre_reward_cap")
    cash_limit = Money(attribute="policy_cash_limit")
    buyback_limit = Ratio(attribute="policy_buyback_limit")
