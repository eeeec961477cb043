"""Schemas of the admin API (and pages)."""
from __future__ import annotations

from marshmallow import fields

from coop.schemas.common import StrictSchema


class UserOutSchema(StrictSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class UserRoleSchema(StrictSchema):
    id = fields.Integer()
    role = fields.String()
    county_id = fields.Integer(allow_none=True)
    township_id = fields.Integer(allow_none=True)
    organization_id = fields.Integer(allow_none=True)


class UserAccountSchema(UserOutSchema):
    active = fields.Boolean()
    must_change_password = fields.Boolean()
    roles = fields.List(fields.Nested(UserRoleSchema))


class UserResetSchema(StrictSchema):
    user = fields.Nested(UserAccountSchema)
    one_time_password = fields.String(metadata={"description": "shown this once; must be changed at first login"})


class CodeSchemeSchema(StrictSchema):
    code_scheme = fields.String(required=True, metadata={"description": "2-2-2 (default) or a legacy 3-3, …"})
