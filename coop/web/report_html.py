"""The report table of the HTML page, built in Python (#24): the same markup as the `report_table` macro of
templates/reports/_table.html (which the PDFs keep using), without a Jinja macro call per cell — the macro
spent ~60% of a 科目余额表 page's CPU calling itself ~1,450 times. tests/test_report_html.py holds the two to
the same output for every report."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext
from markupsafe import Markup, escape

from coop.core.i18n import translate as _t
from coop.reports.table import ReportTable

_FIXED_KEYS = ("label", "direction")


def table_html(t: ReportTable, voucher_link=None, translate: bool = False, account_link=None,
               voucher_page=None) -> Markup:
    translated: dict = {}  # a table repeats few words (借/贷/平, 本月合计…): each translated once

    def tr(text, on) -> str:
        if not on:
            return escape(text)
        try:
            return translated[text]
        except KeyError:
            translated[text] = done = escape(_t(text))
            return done
        except TypeError:  # not hashable: translate as it is
            return escape(_t(text))

    columns = t.columns
    total_width = sum(c.width for c in columns)
    out = ['<table class="report">\n  <colgroup>']
    out += [f'<col class="col-{escape(c.key)}" style="width: {"%.1f" % (c.width * 100 / total_width)}%">'
            for c in columns]
    out.append("</colgroup>\n  <thead>\n")
    for hrow in t.header_rows():
        out.append("    <tr>")
        for h in hrow:
            out.append('<th scope="col"' + (f' colspan="{h.colspan}"' if h.colspan > 1 else "")
                       + (f' rowspan="{h.rowspan}"' if h.rowspan > 1 else "") + f">{tr(h.label, translate)}</th>")
        out.append("</tr>\n")
    out.append("  </thead>\n  <tbody>\n")
    print_title = escape(gettext("打印")) if voucher_page and voucher_link else ""
    kinds = []  # per column: what kind of cell it is, decided once
    for c in columns:
        kinds.append((c.is_money, c.key, f' class="{escape(c.align)}"', c.indent))
    display = t.display
    for row in t.rows:
        out.append(f'    <tr class="row-{escape(row.style)}">')
        cells = row.cells
        style, vid = row.style, row.voucher_id
        for i, (is_money, key, align, indent) in enumerate(kinds):
            if is_money:
                value = cells[i]
                neg = " neg" if isinstance(value, Decimal) and value < 0 else ""
                out.append(f'\n      <td class="num{neg}">{escape(display(row, i))}</td>')
                continue
            pad = f' style="padding-left: {row.indent * 1.2 + 0.4}em"' if indent and row.indent else ""
            out.append(f"\n      <td{align}{pad}>")
            value = cells[i]
            if key == "voucher" and vid and voucher_page and value:
                out.append(f'<a href="{escape(voucher_page(vid))}" data-drill="voucher">{escape(display(row, i))}</a>')
                if voucher_link:
                    out.append(f' <a class="small print-link" href="{escape(voucher_link(vid))}" '
                               f'title="{print_title}">⎙</a>')
            elif key == "voucher" and vid and voucher_link and value:
                out.append(f'<a href="{escape(voucher_link(vid))}">{escape(display(row, i))}</a>')
            elif key == "code" and account_link and style == "normal" and value:
                out.append(f'<a href="{escape(account_link(value))}" data-drill="account">{escape(display(row, i))}</a>')
            else:
                fixed = translate and (key in _FIXED_KEYS or (key == "summary" and not vid and style != "header")
                                       or (key in ("name", "township") and style == "total"))
                out.append(tr(display(row, i), fixed))
            out.append("</td>")
        out.append("\n    </tr>\n")
    out.append("  </tbody>\n</table>")
    return Markup("".join(out))


def stamped(link, sample="987654321"):
    """A link function for one value per row (an account code, a voucher id) that calls url_for once: the URL
    built for `sample` with the value put in its place (digits only, so nothing needs quoting)."""
    if link is None:
        return None
    template = link(sample)
    if template.count(sample) != 1:
        return link
    head, tail = template.split(sample)
    return lambda value: f"{head}{value}{tail}" if str(value).isdigit() else link(value)
