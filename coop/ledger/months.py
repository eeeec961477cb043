"""Accounting months as (year, month) pairs: the arithmetic every period, report and schedule shares."""
from __future__ import annotations

import calendar
import datetime as dt


def month_key(year: int, month: int) -> int:
    """A month as one ordered number (year × 12 + month − 1)."""
    return year * 12 + (month - 1)


def prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def month_end(year: int, month: int) -> dt.date:
    """The month's last day."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])
