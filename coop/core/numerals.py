"""大写金额 (会计基础工作规范 art. 52): amounts written in Chinese capital numerals.

Written here rather than taken from cn2an so the 零 and 整 rules are exactly those of RULES §11:
整 follows 元 or 角, never 分; one 零 stands for any run of zeros inside the number.
"""
from __future__ import annotations

from decimal import Decimal

from coop.core.money import quantize_yuan

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
BIG_UNITS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """0 < n < 10000 → e.g. 1409 → 壹仟肆佰零玖."""
    out = []
    zero_pending = False
    for pos in range(3, -1, -1):
        d = (n // 10**pos) % 10
        if d == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(DIGITS[d] + SMALL_UNITS[pos])
    return "".join(out)


def _integer(n: int) -> str:
    if n == 0:
        return ""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = []
    need_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out.append("零")
        out.append(_group(g) + BIG_UNITS[idx])
        need_zero = False
    return "".join(out)


def amount_in_words(amount) -> str:
    """1409.50 → 壹仟肆佰零玖元伍角整; 16409.02 → 壹万陆仟肆佰零玖元零贰分; 0 → 零元整."""
    value = quantize_yuan(Decimal(amount) if not isinstance(amount, Decimal) else amount)
    prefix = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, jiao, fen = fen_total // 100, (fen_total // 10) % 10, fen_total % 10
    head = _integer(yuan)
    if yuan == 0 and jiao == 0 and fen == 0:
        return "零元整"
    out = head + "元" if head else ""
    if jiao == 0 and fen == 0:
        return prefix + out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif head:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return prefix + out
