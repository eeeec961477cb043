"""财务公开表 as a page and as the frozen PDF (RULES §10), and the charts shown with them.

`sheet_view` turns a sheet's canonical data into what both the page and the PDF show, so they always agree.
The PDF carries a QR code of the absolute verify URL with the digest, and the digest in small type.
Charts come from closed months only: the same months a sheet may disclose.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from flask import render_template, url_for
from markupsafe import Markup

from coop.documents.charts import COLORS, Series, bar_chart, line_chart
from coop.documents.pdf import html_to_pdf
from coop.documents.printing import font_family, qr_svg
from coop.core.extensions import db
from coop.core.text import N_, chinese
from coop.models import Disclosure, Organization, User
from coop.models.disclosure import SHEET_KINDS, SHEET_STATUSES, SheetStatus
from coop.core.money import ZERO
from coop.services import disclosure as sheets, periods, reports

#: wide sheets print on landscape A4
LANDSCAPE = ("income_expense", "subsidy")
QUARTERS = "一二三四"
_MONEY = re.compile(r"^-?\d+\.\d{2}$")


def period_label(start: dt.date, end: dt.date) -> str:
    """2025-01-01..2025-03-31 → 2025年第一季度; a whole month → 2025年1月; a whole year → 2025年度."""
    whole_months = start.day == 1 and end == reports.month_end(end.year, end.month)
    if whole_months and start.year == end.year:
        if start.month == end.month:
            return f"{start.year}年{start.month}月"
        if start.month % 3 == 1 and end.month == start.month + 2:
            return f"{start.year}年第{QUARTERS[start.month // 3]}季度"
        if (start.month, end.month) == (1, 12):
            return f"{start.year}年度"
        return f"{start.year}年{start.month}月至{end.month}月"
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


# ---------------------------------------------------------------- the sheet as shown


@dataclass
class Column:
    label: str
    money: bool
    weight: int  # relative width


def _text_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def _columns(labels: list[str], rows: list[list[str]]) -> list[Column]:
    out = []
    for i, label in enumerate(labels):
        cells = [r[i] for r in rows if i < len(r) and r[i] != ""]
        money = bool(cells) and all(_MONEY.match(c) for c in cells)
        widest = max([_text_width(c) + (3 if money else 0) for c in cells] + [_text_width(label)])
        out.append(Column(label, money, max(6, min(widest, 36))))
    return out


def show_cell(value: str, money: bool) -> str:
    return f"{Decimal(value):,.2f}" if money and value else value


def sheet_view(d: Disclosure) -> dict:
    """What the page and the PDF show of a sheet: header facts, columns, formatted rows, totals with 大写."""
    data = json.loads(d.data)
    rows = data.get("rows", [])
    columns = _columns(data.get("columns", []), rows)
    shown = [[show_cell(c, columns[i].money) for i, c in enumerate(r)] for r in rows]
    totals = [{"label": t["label"], "amount": f"{Decimal(t['amount']):,.2f}", "words": t["words"]}
              for t in data.get("totals", [])]
    return {
        "data": data, "title": data.get("title") or SHEET_KINDS.get(d.kind, d.kind),
        "organization": data.get("organization", ""), "uscc": data.get("uscc", ""),
        "period": period_label(d.period_start, d.period_end), "columns": columns, "rows": shown,
        "totals": totals, "version": d.version, "status": d.status,
        "status_label": SHEET_STATUSES.get(d.status, d.status), "landscape": d.kind in LANDSCAPE,
    }


# ---------------------------------------------------------------- charts


def _months_back(year: int, month: int, n: int) -> list[tuple[int, int]]:
    out = [(year, month)]
    while len(out) < n:
        out.insert(0, periods.prev_month(*out[0]))
    return out


def _month_labels(months: list[tuple[int, int]], tr) -> list[str]:
    return [tr(N_("%(m)s月"), m=m) for _, m in months]


def year_charts(org: Organization, year: int, tr=chinese) -> dict:
    """Income and expense by month of `year`; the 12-month trend and cash ending at the last closed month.
    `tr` renders the words (the page passes gettext; the PDF keeps the Chinese default)."""
    months = [(year, m) for m in range(1, 13)]
    fig = sheets.month_figures(org, months)
    by_month = bar_chart(tr(N_("%(y)s年各月收支"), y=year), _month_labels(months, tr), [
        Series(tr(N_("收入")), [fig[ym]["income"] if ym in fig else None for ym in months], COLORS["income"]),
        Series(tr(N_("支出")), [fig[ym]["expense"] if ym in fig else None for ym in months], COLORS["expense"]),
    ], empty=tr(N_("该年度尚无已结账月份")), tr=tr)
    last = periods.last_closed(org)
    return {"by_month": by_month, **trend_charts(org, *(last or (year, 12)), tr=tr),
            "per_share": dividend_chart(org, tr)}


def dividend_chart(org: Organization, tr=chinese) -> Markup:
    rows = sheets.dividend_per_share(org)
    return bar_chart(tr(N_("历年每股分红（元）")), [tr(N_("%(y)s年"), y=y) for y, _ in rows],
                     [Series(tr(N_("每股分红")), [v for _, v in rows], COLORS["income"])],
                     empty=tr(N_("尚无已记账的收益分配")), tr=tr)


def trend_charts(org: Organization, year: int, month: int, tr=chinese) -> dict:
    start = (org.books_start_year, org.books_start_month)
    months = [ym for ym in _months_back(year, month, 12) if ym >= start] or [(year, month)]
    fig = sheets.month_figures(org, months)
    labels = _month_labels(months, tr)
    span = f"{months[0][0]}.{months[0][1]}—{months[-1][0]}.{months[-1][1]}"

    def values(key):
        return [fig[ym][key] if ym in fig else None for ym in months]

    net = [fig[ym]["income"] - fig[ym]["expense"] if ym in fig else None for ym in months]
    trend = line_chart(tr(N_("收支趋势（%(span)s）"), span=span), labels, [
        Series(tr(N_("收入")), values("income"), COLORS["income"]),
        Series(tr(N_("支出")), values("expense"), COLORS["expense"]),
        Series(tr(N_("收支相抵")), net, COLORS["net"])], empty=tr(N_("尚无已结账月份")), tr=tr)
    cash = line_chart(tr(N_("货币资金月末余额（现金＋银行存款）")), labels,
                      [Series(tr(N_("货币资金")), values("cash"), COLORS["cash"])], empty=tr(N_("尚无已结账月份")),
                      tr=tr)
    return {"trend": trend, "cash": cash}


def sheet_charts(d: Disclosure, tr=chinese, period: str | None = None) -> dict:
    """For a 收支明细: its own rows summed by month (so the chart is the table), then the trend and cash of the
    12 months ending with the sheet's last month. A page passes gettext as `tr` and its own period label."""
    if d.kind != "income_expense":
        return {}
    data = json.loads(d.data)
    months: list[tuple[int, int]] = []
    ym = (d.period_start.year, d.period_start.month)
    while ym <= (d.period_end.year, d.period_end.month):
        months.append(ym)
        ym = periods.next_month(*ym)
    income = {ym: ZERO for ym in months}
    expense = {ym: ZERO for ym in months}
    for r in data["rows"]:
        day = dt.date.fromisoformat(r[0])
        if r[4]:
            income[(day.year, day.month)] += Decimal(r[4])
        if r[5]:
            expense[(day.year, day.month)] += Decimal(r[5])
    org = db.session.get(Organization, d.organization_id)
    period = period or period_label(d.period_start, d.period_end)
    return {"by_month": bar_chart(tr(N_("%(period)s各月收支"), period=period), _month_labels(months, tr), [
        Series(tr(N_("收入")), [income[ym] for ym in months], COLORS["income"]),
        Series(tr(N_("支出")), [expense[ym] for ym in months], COLORS["expense"])], tr=tr),
        **trend_charts(org, d.period_end.year, d.period_end.month, tr=tr)}


# ---------------------------------------------------------------- PDF


def verify_url(d: Disclosure) -> str:
    """The absolute address printed as the QR code (needs a request or SERVER_NAME)."""
    return url_for("disclosure.verify_digest", digest=d.digest, _external=True)


def sheet_html(d: Disclosure, *, accountant: User | None = None) -> str:
    view = sheet_view(d)
    url = verify_url(d)
    return render_template(
        "print/disclosure.html", doc_title=f"{view['organization']} {view['period']} {view['title']}",
        font=font_family(), page_size="A4 landscape" if view["landscape"] else "A4",
        page_margin="12mm 12mm 16mm 12mm", printed_on=None, v=view, d=d, signers=sheets.signers(d, accountant),
        charts=sheet_charts(d), verify_url=url, qr=qr_svg(url), draft=d.status not in (SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED),
    )


def render_sheet_pdf(d: Disclosure, *, accountant: User | None = None) -> bytes:
    """The sheet as printed for the notice board. Unpublished sheets print with a 样稿 mark."""
    return html_to_pdf(sheet_html(d, accountant=accountant))


def sheet_filename(d: Disclosure) -> str:
    view_title = SHEET_KINDS.get(d.kind, d.kind)
    return f"{view_title}-{period_label(d.period_start, d.period_end)}-第{d.version}版.pdf"
