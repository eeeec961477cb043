"""Small server-side SVG charts: bars by month and line trends. No JavaScript, so the same markup shows on a page
and in a WeasyPrint PDF.

A chart is a list of labels (one per x position) and one or more `Series`; a value of None draws nothing there
(e.g. a month not yet closed). Amounts are Decimals in yuan; the y axis is labelled in 元 or 万元. `tr` renders the
chart's own words (gettext on a page; Chinese by default, as the PDFs want).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

from coop.core.text import N_, chinese

FONT = "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Zen Hei', sans-serif"
COLORS = {"income": "#2e7d32", "expense": "#c62828", "net": "#1565c0", "cash": "#8d5b00"}

# layout in SVG user units: the chart scales to its box (viewBox), these only fix the proportions
WIDTH, HEIGHT = 440, 260
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 34, 46


@dataclass
class Series:
    name: str
    values: list[Decimal | None]
    color: str


def nice_step(span: Decimal, ticks: int = 5) -> Decimal:
    """A round step (1, 2 or 5 × 10^k) that cuts `span` into about `ticks` parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / ticks
    exp = raw.adjusted()  # power of ten of the leading digit
    base = Decimal(10) ** exp
    for m in (1, 2, 5, 10):
        if raw <= m * base:
            return m * base
    return 10 * base


def axis(values: list[Decimal | None], ticks: int = 5) -> list[Decimal]:
    """Tick values from a round number at or below the smallest value (or 0) to one at or above the largest."""
    known = [v for v in values if v is not None]
    lo, hi = min(known + [Decimal(0)]), max(known + [Decimal(0)])
    step = nice_step(hi - lo, ticks)
    start = (lo / step).to_integral_value(rounding="ROUND_FLOOR") * step
    out = [start]
    while out[-1] < hi:
        out.append(out[-1] + step)
    if len(out) == 1:
        out.append(start + step)
    return out


def short_amount(v: Decimal, tr=chinese) -> str:
    """Axis label: 12000 → '1.2万', 800 → '800'."""
    if abs(v) >= 10000:
        text = f"{v / 10000:.2f}".rstrip("0").rstrip(".")
        return tr(N_("%(n)s万"), n=text)
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _fmt(v: Decimal) -> str:
    return f"{v:,.2f}"


def _n(x: float) -> str:
    return f"{x:.1f}"


def _frame(title: str, ticks: list[Decimal], y_of, labels: list[str], slot: float, tr=chinese) -> list[str]:
    """Title, horizontal grid lines with their labels, and the x labels (every one, or every other when crowded)."""
    parts = [f'<text x="{LEFT - 40}" y="18" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
             f'<text x="{WIDTH - RIGHT}" y="{TOP - 6}" font-size="11" text-anchor="end" fill="#777">'
             f'{escape(tr(N_("单位：元")))}</text>']
    for t in ticks:
        y = y_of(t)
        stroke = "#555" if t == 0 else "#ddd"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" stroke="{stroke}" '
                     f'stroke-width="{1 if t == 0 else 0.6}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_n(y + 4)}" font-size="12" text-anchor="end" fill="#555">'
                     f'{escape(short_amount(t, tr))}</text>')
    every = 1 if slot >= 30 else 2  # labels such as "12月" need about 30 units
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(f'<text x="{_n(x)}" y="{HEIGHT - BOTTOM + 17}" font-size="12" text-anchor="middle" '
                     f'fill="#333">{escape(label)}</text>')
    return parts


def _legend(series: list[Series]) -> list[str]:
    parts, x = [], LEFT
    y = HEIGHT - 10
    for s in series:
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="12" fill="#333">{escape(s.name)}</text>')
        x += 26 + sum(13 if ord(ch) > 0x2E80 else 7 for ch in s.name)  # CJK characters are about twice as wide
    return parts


def _svg(title: str, parts: list[str], css_class: str) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="{FONT}">'
        f'<title>{escape(title)}</title>{body}</svg>'
    )


def _scale(values: list[Decimal | None]):
    ticks = axis(values)
    lo, hi = ticks[0], ticks[-1]
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(v: Decimal) -> Decimal:
        # pixel positions only; amounts themselves are never converted
        return TOP + (hi - v) / (hi - lo) * plot_h

    return ticks, y_of


def bar_chart(title: str, labels: list[str], series: list[Series], *, empty: str | None = None,
              tr=chinese) -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    values = [v for s in series for v in s.values]
    if not labels or all(v is None for v in values):
        return _empty(title, empty or tr(N_("暂无数据")))
    ticks, y_of = _scale(values)
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    bar_w = min(slot * 0.8 / len(series), 28)
    parts = _frame(title, ticks, y_of, labels, slot, tr)
    zero = y_of(Decimal(0))
    for i in range(len(labels)):
        group_x = LEFT + slot * (i + 0.5) - bar_w * len(series) / 2
        for k, s in enumerate(series):
            v = s.values[i]
            if v is None:
                continue
            y = y_of(v)
            top, h = min(y, zero), max(abs(zero - y), 0.5)
            parts.append(f'<rect x="{_n(group_x + k * bar_w)}" y="{_n(top)}" width="{_n(bar_w - 1)}" height="{_n(h)}" '
                         f'fill="{s.color}"><title>{escape(labels[i])} {escape(s.name)} {_fmt(v)}</title></rect>')
    return _svg(title, parts + _legend(series), "bar")


def line_chart(title: str, labels: list[str], series: list[Series], *, empty: str | None = None,
               tr=chinese) -> Markup:
    """One polyline per series with a dot at each known value; a None breaks the line."""
    values = [v for s in series for v in s.values]
    if not labels or all(v is None for v in values):
        return _empty(title, empty or tr(N_("暂无数据")))
    ticks, y_of = _scale(values)
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    parts = _frame(title, ticks, y_of, labels, slot, tr)
    for s in series:
        run: list[str] = []
        for i, v in enumerate(s.values + [None]):
            if v is None:
                if len(run) > 1:
                    parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.color}" '
                                 f'stroke-width="2.2" stroke-linejoin="round"/>')
                run = []
                continue
            x, y = LEFT + slot * (i + 0.5), y_of(v)
            run.append(f"{_n(x)},{_n(y)}")
            parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{s.color}">'
                         f'<title>{escape(labels[i])} {escape(s.name)} {_fmt(v)}</title></circle>')
    return _svg(title, parts + _legend(series), "line")


def _empty(title: str, message: str) -> Markup:
    parts = [f'<text x="{LEFT}" y="18" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
             f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
             f'fill="#fafafa" stroke="#ddd"/>',
             f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="13" text-anchor="middle" fill="#888">'
             f'{escape(message)}</text>']
    return _svg(title, parts, "empty")
