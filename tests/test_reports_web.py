"""Report pages, downloads and the printed voucher in the browser UI."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest

from tests.test_reports_render import _fast_password_hashing, money, pdf_text, squeeze, village  # noqa: F401


def base(books) -> str:
    return f"/o/{books.org.id}/reports"


@pytest.fixture
def outsider(village):
    """An accountant of a village in another township."""
    from coop.core.extensions import db
    from coop.services import orgs, users

    township = orgs.create_township(village.county, "西镇")
    other = orgs.create_organization(township, name="西村经济合作社", books_start_year=2025)
    user = users.create_user("xicun", "孙会计", "password1")
    users.assign_role(user, "accountant", other)
    db.session.commit()
    return other


def alert(html: str) -> str:
    m = re.search(r'role="alert">([^<]*)<', html)
    return m.group(1) if m else ""


def test_index_lists_reports_with_period_picker(client, village, auth):
    auth.login("kuaiji")
    r = client.get(base(village) + "/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for title in ("科目余额表", "总账", "明细账", "凭证序时簿", "资产负债表", "收益及收益分配表"):
        assert title in html
    assert 'name="year"' in html and 'name="period"' in html and 'value="q1"' in html and 'value="year"' in html
    assert f'formaction="/o/{village.org.id}/reports/detail-ledger"' in html
    assert "reports.css" in html


def test_trial_balance_page(client, village, auth):
    auth.login("kuaiji")
    r = client.get(base(village) + "/trial-balance?year=2025&period=custom&month_from=1&month_to=2")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "科目余额表" in html and "2025年1-2月" in html
    assert "15,945.67" in html and "63,545.67" in html
    assert 'class="report-scroll"' in html  # wide tables scroll inside their wrapper on a phone
    assert 'colspan="2">期初余额' in html
    # the download links keep the period
    assert "format=xlsx" in html and "month_from=1" in html and "month_to=2" in html


def test_period_shortcuts(client, village, auth):
    auth.login("kuaiji")
    html = client.get(base(village) + "/journal?year=2025&period=q1").get_data(as_text=True)
    assert "2025年1-3月" in html and "记-0002" in html
    html = client.get(base(village) + "/journal?year=2025&month=2").get_data(as_text=True)
    assert "2025年2月" in html and "借给张三" in html and "收到承包费" not in html
    html = client.get(base(village) + "/income-statement?year=2025").get_data(as_text=True)
    assert "2025年度" in html and "¥12,345.67" in html


def test_detail_ledger_page(client, village, auth):
    auth.login("kuaiji")
    r = client.get(base(village) + "/detail-ledger?year=2025&period=custom&month_from=1&month_to=2&code=102")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "本月合计" in html and "本年累计" in html and "61,845.67" in html and "59,845.67" in html
    # voucher numbers link to the printed voucher
    assert f'href="/o/{village.org.id}/reports/vouchers/{village.v1.id}.pdf"' in html
    # without an account the page asks for one
    r = client.get(base(village) + "/detail-ledger?year=2025")
    assert r.status_code == 200 and alert(r.get_data(as_text=True)) == "请选择科目后查询"


def test_counterparty_filter(client, village, auth):
    auth.login("kuaiji")
    html = client.get(base(village) + "/detail-ledger?year=2025&code=112&counterparty=李四").get_data(as_text=True)
    assert "借给李四" in html and "借给张三" not in html and "往来单位：李四" in html


def test_xlsx_download(client, village, auth):
    auth.login("kuaiji")
    r = client.get(base(village) + "/balance-sheet?year=2025&month=2&format=xlsx")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in r.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]  # 资产负债表-2025年2月.xlsx
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert ws["A1"].value == "资产负债表"
    row = next(i for i in range(1, ws.max_row + 1) if ws.cell(i, 1).value == "资产总计")
    assert money(ws.cell(row, 4).value) == Decimal("63245.67")


def test_pdf_download(client, village, auth, tmp_path):
    auth.login("kuaiji")
    r = client.get(base(village) + "/general-ledger?year=2025&format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    text = squeeze(pdf_text(r.data, tmp_path))
    # 102 closes at 50,000.00 − 500.00 + 12,345.67 − 2,000.00 = 59,845.67; 101 at 1,200 + 500 − 300 − 800 = 600.00
    assert "总账" in text and "59,845.67" in text and "600.00" in text


def test_voucher_pdf(client, village, auth, tmp_path):
    auth.login("kuaiji")
    r = client.get(f"{base(village)}/vouchers/{village.v2.id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    text = squeeze(pdf_text(r.data, tmp_path))
    assert "收到承包费" in text and "12,345.67" in text and "壹万贰仟叁佰肆拾伍元陆角柒分" in text
    r = client.get(f"{base(village)}/vouchers/999999.pdf")
    assert r.status_code == 404


@pytest.mark.parametrize("query, message", [
    ("year=2025&month=13", "月份应在1到12之间"),
    ("year=abc", "年份必须是整数"),
    ("year=1800", "年份应在1990到2100之间"),
    ("year=2025&period=custom&month_from=5&month_to=3", "起始月份不能晚于截止月份"),
    ("year=2025&period=q9", "期间应为1-12、q1-q4、year或custom"),
    ("year=2024", "所选期间早于建账月份（2025年1月），没有账可查"),
    ("year=2025&format=doc", "格式应为 html、xlsx 或 pdf"),
    ("year=2025&format=json", "格式应为 html、xlsx 或 pdf"),
])
def test_bad_params_give_422_with_chinese_message(client, village, query, message, auth):
    auth.login("kuaiji")
    r = client.get(base(village) + "/journal?" + query)
    assert r.status_code == 422
    assert alert(r.get_data(as_text=True)) == message


def test_bad_account_code(client, village, auth):
    auth.login("kuaiji")
    for path in ("/detail-ledger?code=999", "/general-ledger?code=999", "/detail-ledger?code=abc&format=pdf"):
        r = client.get(base(village) + path)
        assert r.status_code == 422
    assert alert(client.get(base(village) + "/detail-ledger?code=999").get_data(as_text=True)) == "科目编码 999 不存在"
    r = client.get(base(village) + "/detail-ledger?year=2025&format=xlsx")
    assert r.status_code == 422 and alert(r.get_data(as_text=True)) == "请选择科目"


def test_other_village_gets_404(client, village, outsider, auth):
    auth.login("xicun")
    assert client.get(f"/o/{outsider.id}/reports/").status_code == 200
    for path in ("/", "/trial-balance", "/detail-ledger?code=102", "/balance-sheet?format=pdf",
                 f"/vouchers/{village.v1.id}.pdf"):
        assert client.get(base(village) + path).status_code == 404, path
    # another village's voucher under one's own organization is not found either
    assert client.get(f"/o/{outsider.id}/reports/vouchers/{village.v1.id}.pdf").status_code == 404


def test_township_auditor_can_read(client, village, auth):
    auth.login("jingguan")
    r = client.get(base(village) + "/trial-balance?year=2025")
    # the accountant's figures: 15,945.67 moved in the year; debit balances 600.00 + 59,845.67 + 2,800.00 + 300.00
    assert r.status_code == 200 and "15,945.67" in r.get_data(as_text=True) and "63,545.67" in r.get_data(as_text=True)


def test_login_required(client, village):
    r = client.get(base(village) + "/trial-balance")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
