"""Schemas of the disclosure API (and pages)."""
from __future__ import annotations

from marshmallow import fields, validate

from coop.models.disclosure import SHEET_KINDS
from coop.schemas.common import ID_RANGE, Integer, StrictSchema, UtcDateTime


class SheetTotalSchema(StrictSchema):
    label = fields.String()
    amount = fields.String(metadata={"example": "12345.67"})
    words = fields.String(metadata={"example": "壹万贰仟叁佰肆拾伍元陆角柒分"})


class SheetCommentSchema(StrictSchema):
    id = fields.Integer()
    row = fields.Integer(allow_none=True, metadata={"description": "index into data.rows, null: the whole sheet"})
    text = fields.String()
    veto = fields.Boolean()
    user = fields.String()
    created_at = UtcDateTime()


class DisclosureSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    period_label = fields.String(metadata={"example": "2025年第一季度"})
    version = fields.Integer()
    supersedes_id = fields.Integer(allow_none=True)
    status = fields.String()
    status_label = fields.String()
    digest = fields.String()
    created_by = fields.String()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = UtcDateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    published_on = fields.Date(allow_none=True)
    channel = fields.String(allow_none=True)
    pdf_sha256 = fields.String(allow_none=True)
    pdf_url = fields.String(metadata={"description": "the frozen PDF once published, else a 样稿 preview"})
    verify_url = fields.String(allow_none=True)


class DisclosureDetailSchema(DisclosureSchema):
    data = fields.Dict(metadata={"description": "the canonical sheet data whose SHA-256 is the digest"})
    totals = fields.List(fields.Nested(SheetTotalSchema))
    comments = fields.List(fields.Nested(SheetCommentSchema))


class DisclosureInSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(SHEET_KINDS), error="公开表类型不正确"))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


class SheetRowCommentInSchema(StrictSchema):
    row = Integer(required=True, validate=validate.Range(min=0, max=100000, error="行号不正确"))
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class SheetReviewInSchema(StrictSchema):
    approve = fields.Boolean(required=True)
    comment = fields.String(validate=validate.Length(max=2000))
    row_comments = fields.List(fields.Nested(SheetRowCommentInSchema), load_default=list)


class SheetApproveInSchema(StrictSchema):
    approve = fields.Boolean(load_default=True)
    comment = fields.String(validate=validate.Length(max=2000))


class SheetPublishInSchema(StrictSchema):
    date = fields.Date(required=True)
    channel = fields.String(required=True, validate=validate.Length(max=100, error="公开方式不能超过100个字"))


class SheetVerifySchema(StrictSchema):
    digest = fields.String()
    intact = fields.Boolean(metadata={"description": "the stored data (and PDF) still hash to what was published"})
    problems = fields.List(fields.String())
    organization = fields.String()
    kind = fields.String()
    title = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    period_label = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "published, or superseded by a correction"})
    published_on = fields.Date()
    channel = fields.String()
    superseded_by = fields.String(allow_none=True, metadata={"description": "digest of the newest published version"})
    totals = fields.List(fields.Nested(SheetTotalSchema))


class VoucherQuestionSchema(StrictSchema):
    id = fields.Integer()
    voucher_id = fields.Integer()
    voucher_number = fields.String()
    voucher_date = fields.Date()
    status = fields.String(metadata={"description": "open, answered or closed"})
    question = fields.String()
    asked_by = fields.String()
    asked_at = UtcDateTime()
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = UtcDateTime(allow_none=True)


class VoucherQuestionQuerySchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(("open", "answered", "closed"), error="状态应为 open/answered/closed"))


class VoucherQuestionInSchema(StrictSchema):
    voucher_id = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    question = fields.String(required=True, validate=validate.Length(max=2000))


class VoucherAnswerInSchema(StrictSchema):
    answer = fields.String(required=True, validate=validate.Length(max=2000))


class EarlyWarningSchema(StrictSchema):
    code = fields.String()
    level = fields.String(metadata={"description": "green, yellow or red"})
    title = fields.String()
    facts = fields.List(fields.String())


class EarlyWarningsSchema(StrictSchema):
    level = fields.String()
    warnings = fields.List(fields.Nested(EarlyWarningSchema))
