"""Largest-remainder splitting: parts always sum exactly to the total (RULES: every split)."""
from __future__ import annotations

from decimal import Decimal
from typing import Hashable, Mapping

from coop.core.money import CENT, D


def allocate(total: Decimal, weights: Mapping[Hashable, Decimal], *, unit: Decimal = CENT) -> dict:
    """Split `total` over `weights` in whole `unit`s. Remainder units go to the largest fractional
    parts; ties to the larger weight, then to the lower key. Zero weights get zero."""
    total = D(total)
    units_total = total / unit
    if units_total != units_total.to_integral_value():
        raise ValueError("total is not a whole number of units")
    units_total = int(units_total)
    wsum = sum((D(w) for w in weights.values()), Decimal(0))
    if any(D(w) < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    if not weights or wsum == 0:
        if units_total:
            raise ValueError("cannot split a non-zero total over zero weight")
        return {k: Decimal(0) * unit for k in weights}
    sign = -1 if units_total < 0 else 1
    n = abs(units_total)
    base: dict = {}
    rema: list = []
    for key, w in weights.items():
        exact = D(w) * n / wsum
        whole = int(exact)  # floor for non-negative values
        base[key] = whole
        rema.append((exact - whole, D(w), key))
    left = n - sum(base.values())
    rema.sort(key=lambda r: (-r[0], -r[1], _sort_key(r[2])))
    for _, _, key in rema[:left]:
        base[key] += 1
    return {k: (sign * v) * unit for k, v in base.items()}


def _sort_key(key):
    return (0, key) if isinstance(key, (int, float)) else (1, str(key))
