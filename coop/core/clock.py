"""The organization's day and time are Beijing time (RULES §0): "today", default dates, the voucher-date window and
every time shown to a person. The database stores naive UTC (models.base.utcnow)."""
from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time in Beijing (aware)."""
    return dt.datetime.now(BEIJING)


def today() -> dt.date:
    """Today in Beijing, whatever the server's time zone (00:30 Beijing is still yesterday in UTC)."""
    return now().date()


def local(stored: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC time as Beijing time, for people to read."""
    if stored is None:
        return None
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=dt.timezone.utc)
    return stored.astimezone(BEIJING)


def latest_voucher_date(on: dt.date | None = None) -> dt.date:
    """The last day a voucher may be dated: the end of the month after the current one (RULES §3), so a typo such
    as 2062 cannot hide a posted voucher from every report."""
    on = on or today()
    y, m = (on.year + 1, 1) if on.month == 12 else (on.year, on.month + 1)
    return dt.date(y, m, calendar.monthrange(y, m)[1])
