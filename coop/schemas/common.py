"""Fields shared by all schemas: money as strings, never floats."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from coop.core.money import AmountError, parse_amount

MONEY_PATTERN = r"^-?\d{1,11}(\.\d{1,2})?$"
#: a database id in a request body: a positive PostgreSQL INTEGER, like <int:…> in URLs (coop.api.IdConverter).
#: Unbounded, 2**70 reached SQLite as an OverflowError (a 500).
ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号不正确")


class Money(fields.Field):
    """An amount in yuan, sent and returned as a string ("1234.50"). JSON numbers are refused, because a
    float cannot carry fen exactly. Empty means zero when `allow_empty` (one side of a voucher line)."""

    def __init__(self, *, allow_negative: bool = False, allow_zero: bool = False, allow_empty: bool = False, **kw):
        meta = {"type": "string", "format": "decimal", "pattern": MONEY_PATTERN, "example": "1234.50"}
        kw.setdefault("metadata", {}).update(meta)
        super().__init__(**kw)
        self.allow_negative, self.allow_zero, self.allow_empty = allow_negative, allow_zero, allow_empty

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise ValidationError("金额必须是文本，例如 \"1234.50\"")
        if self.allow_empty and not value.strip():
            return Decimal("0.00")
        try:
            return parse_amount(value, allow_negative=self.allow_negative, allow_zero=self.allow_zero)
        except AmountError as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.2f}"


class Ratio(fields.Field):
    """A rate such as 30% given as a decimal string "0.30" (up to 4 places)."""

    def __init__(self, **kw):
        kw.setdefault("metadata", {}).update({"type": "string", "format": "decimal", "pattern": r"^\d(\.\d{1,4})?$"})
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise ValidationError("比例必须是文本，例如 \"0.30\"")
        try:
            d = Decimal(value.strip())
        except Exception:
            raise ValidationError("比例格式不正确") from None
        if not d.is_finite() or d < 0 or d > 1 or d != d.quantize(Decimal("0.0001")):
            raise ValidationError("比例应在0到1之间，最多4位小数")
        return d

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.4f}"


class Integer(fields.Integer):
    """An integer: a JSON integer, or digits from a web form. marshmallow's own Integer truncates a JSON 3.5 (or
    -1e-284) to 3 (or 0) without a word; here a number with a fraction is refused."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class UtcDateTime(fields.DateTime):
    """A moment as RFC 3339 with its offset ("2026-01-05T08:30:00+00:00"), as OpenAPI's date-time requires. The
    database keeps naive UTC (models.base.utcnow), so a naive value is UTC, not local time."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(Schema):
    """Unknown fields are an error, so a typo in a field name is not silently ignored."""

    class Meta:
        ordered = True
