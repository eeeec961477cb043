"""Fields shared by all schemas: money as strings, never floats."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

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


def finer(d: Decimal, places: int) -> bool:
    """More decimals than `places` (the check every decimal field makes)."""
    return d != d.quantize(Decimal(1).scaleb(-places))


class DecimalString(fields.Field):
    """A decimal quantity (share units, a rate, an area, a score) sent and returned as a string with `places`
    decimals; JSON numbers are refused like money. `checks` are (is_wrong, message) pairs tried in order on the
    parsed value (the first also refuses NaN and infinity, so later ones may compare); a message may be a
    function of the value. `percent` also takes "3.45%" as 0.0345. Unless `exact`, the value comes back
    quantized to `places`."""

    def __init__(self, *, places: int, not_text: str, invalid: str, checks=(), percent: bool = False,
                 example: str | None = None, pattern: str | None = None, exact: bool = False, **kw):
        meta = {"type": "string", "format": "decimal"}
        meta.update({k: v for k, v in (("pattern", pattern), ("example", example)) if v is not None})
        kw.setdefault("metadata", {}).update(meta)
        super().__init__(**kw)
        self.places, self.quantum = places, Decimal(1).scaleb(-places)
        self.not_text, self.invalid, self.checks = not_text, invalid, tuple(checks)
        self.percent, self.exact = percent, exact

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise ValidationError(self.not_text)
        text = value.strip()
        try:
            if self.percent and text.endswith("%"):
                d = Decimal(text.rstrip("%")) / 100
            else:
                d = Decimal(text)
        except InvalidOperation:
            raise ValidationError(self.invalid) from None
        for i, (is_wrong, message) in enumerate(self.checks):
            if (i == 0 and not d.is_finite()) or is_wrong(d):
                raise ValidationError(message(d) if callable(message) else message)
        return d if self.exact else d.quantize(self.quantum)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{Decimal(value):.{self.places}f}"


def Ratio(**kw) -> DecimalString:
    """A rate such as 30% given as a decimal string "0.30" (up to 4 places)."""
    return DecimalString(places=4, pattern=r"^\d(\.\d{1,4})?$", exact=True, not_text="比例必须是文本，例如 \"0.30\"",
                         invalid="比例格式不正确",
                         checks=[(lambda d: d < 0 or d > 1 or finer(d, 4), "比例应在0到1之间，最多4位小数")], **kw)


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
