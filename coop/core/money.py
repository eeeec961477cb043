"""Money policy: the only place that parses, rounds and converts amounts.

Amounts are integer fen (分) in the database and `Decimal` yuan in code. Rounding is 四舍五入
(ROUND_HALF_UP) to the fen, applied only where a rule says so (parsing input, per-line results).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: the largest amount accepted in one line: 99,999,999,999.99 yuan fits comfortably in BIGINT fen
MAX_AMOUNT = Decimal("99999999999.99")


class AmountError(ValueError):
    """An amount that cannot be accepted; the message says why, in the user's terms."""


def D(value) -> Decimal:
    """Build a Decimal from a str/int/Decimal. Floats are refused: they cannot hold fen exactly."""
    if isinstance(value, float):
        raise TypeError("float is not allowed for money")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def quantize_yuan(value: Decimal) -> Decimal:
    """Round to the fen, 四舍五入."""
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_fen(value: Decimal) -> int:
    """Exact yuan → fen. Refuses values with more than two decimals instead of rounding silently."""
    value = D(value)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise AmountError("金额最多两位小数")
    return int(fen)


def from_fen(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(CENT)


def parse_amount(text, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """Parse user input (\"1,234.50\", \"1234.5\", \" 12 \") into yuan; precise errors for bad input."""
    if isinstance(text, float):
        raise AmountError("金额必须以文本传递")
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        raw = str(text)
    elif isinstance(text, str):
        raw = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    else:
        raise AmountError("金额格式不正确")
    if not raw:
        raise AmountError("请填写金额")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise AmountError("金额格式不正确") from None
    if not value.is_finite():
        raise AmountError("金额格式不正确")
    if abs(value) > MAX_AMOUNT:  # before quantize: "1e30" has too many digits to quantize (InvalidOperation)
        raise AmountError("金额超出允许范围")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise AmountError("金额最多两位小数")
    value = value.quantize(CENT)
    if value == 0:
        if not allow_zero:
            raise AmountError("金额不能为零")
        return ZERO  # never "-0.00"
    if value < 0 and not allow_negative:
        raise AmountError("金额不能为负数")
    return value


def format_plain(value: Decimal) -> str:
    """1234.5 → '1,234.50' (no currency sign; for messages and fixed-width forms)."""
    return f"{quantize_yuan(value):,.2f}"
