"""The organization's day: Beijing time (Asia/Shanghai), never the server's date."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return dt.datetime.now(BEIJING)


def today() -> dt.date:
    """Today in Beijing (at 01:00 Beijing time the server in UTC is still on yesterday)."""
    return now().date()
