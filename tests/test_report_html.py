"""The report page's table built in Python (coop.web.report_html, #24) is the `report_table` macro's markup: for
every report of the worked village, Chinese and English, with and without the drill-down links, the two agree
to the character once the whitespace between tags (which no browser shows inside a table) is set aside."""
from __future__ import annotations

import re

import pytest

from tests.test_reports_render import _fast_password_hashing, q, village  # noqa: F401  (fixtures)


def normal(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


QUERIES = {  # each report on the worked village's January–February
    "trial-balance": dict(), "general-ledger": dict(), "detail-ledger": dict(code="10201"),
    "journal": dict(), "balance-sheet": dict(), "income-statement": dict(),
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("slug", sorted(QUERIES))
def test_python_table_is_the_macro(app, village, slug, locale):
    from flask import get_template_attribute
    from flask_babel import force_locale

    from coop.reports import REPORTS
    from coop.web.report_html import table_html

    t = REPORTS[slug].build(village.org, q(**QUERIES[slug]))
    assert len(t.rows) >= 3
    links = dict(voucher_link=lambda vid: f"/print/{vid}?a=1&b=2",
                 account_link=lambda code: f"/detail?code={code}&x=<y>",
                 voucher_page=lambda vid: f"/v/{vid}")
    with app.test_request_context("/"), force_locale(locale):
        macro = get_template_attribute("reports/_table.html", "report_table")
        for kw in (dict(translate=True, **links), dict(translate=False), dict(translate=True),
                   dict(translate=True, voucher_link=links["voucher_link"])):
            expected = normal(macro(t, kw.get("voucher_link"), translate=kw["translate"],
                                    account_link=kw.get("account_link"), voucher_page=kw.get("voucher_page")))
            got = normal(table_html(t, kw.get("voucher_link"), translate=kw["translate"],
                                    account_link=kw.get("account_link"), voucher_page=kw.get("voucher_page")))
            assert got == expected, (slug, locale, kw.keys())


def test_page_shows_the_worked_figures(client, village, auth):
    """The 科目余额表 page through the new table: 10201 农业银行 in January–February, by hand —
    opening 50,000; debit 12,345.67 (承包费); credit 500 + 2,000 = 2,500; closing 59,845.67."""
    auth.login("kuaiji")
    html = client.get(f"/o/{village.org.id}/reports/trial-balance?year=2025&period=custom&month_from=1&month_to=2"
                      ).get_data(as_text=True)
    m = re.search(r'<tr class="row-normal">\s*<td class="left"[^>]*><a[^>]*>10201</a></td>(.*?)</tr>', html, re.S)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]
    assert cells == ["农业银行", "50,000.00", "", "12,345.67", "2,500.00", "12,345.67", "2,500.00", "59,845.67", ""]
