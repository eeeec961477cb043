"""Reports as JSON under /api/v1/orgs/<id>/reports: money as strings, xlsx/PDF downloads, 4xx for bad input."""
from __future__ import annotations

import io

import openpyxl
import pytest

from tests.test_reports_render import _fast_password_hashing, money, village  # noqa: F401  (fixtures)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(client, village):
    from coop.core.extensions import db
    from coop.services import users

    token = users.issue_api_token(village.accountant, "test")
    db.session.commit()
    base = f"/api/v1/orgs/{village.org.id}/reports"

    def get(path, token=token, **headers):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.get(base + path, headers=headers)

    return get


def test_trial_balance_json(api):
    r = api("/trial-balance?year=2025&month_from=1&month_to=2")
    assert r.status_code == 200
    body = r.get_json()
    assert body["period"] == {"year": 2025, "month_from": 1, "month_to": 2, "label": "2025年1-2月"}
    assert body["balanced"] is True
    assert body["totals"]["debit"] == body["totals"]["credit"] == "15945.67"
    assert body["totals"]["closing_debit"] == "63545.67"
    rows = {row["code"]: row for row in body["rows"]}
    assert rows["10201"] == {
        "code": "10201", "name": "农业银行", "level": 2, "is_leaf": True,
        "opening_debit": "50000.00", "opening_credit": "0.00", "debit": "12345.67", "credit": "2500.00",
        "ytd_debit": "12345.67", "ytd_credit": "2500.00", "closing_debit": "59845.67", "closing_credit": "0.00",
    }
    assert "10201" not in {row["code"] for row in api("/trial-balance?year=2025&level=1").get_json()["rows"]}


def test_detail_ledger_json(api, village):
    body = api("/detail-ledger?year=2025&month_from=1&month_to=2&code=102").get_json()
    assert body["code"] == "102" and body["name"] == "银行存款"
    got = [(r["kind"], r["voucher"], r["debit"], r["credit"], r["direction"], r["balance"]) for r in body["rows"]]
    assert got[:5] == [
        ("opening", "", "0.00", "0.00", "借", "50000.00"),
        ("line", "记-0001", "0.00", "500.00", "借", "49500.00"),
        ("line", "记-0002", "12345.67", "0.00", "借", "61845.67"),
        ("month_total", "", "12345.67", "500.00", "借", "61845.67"),
        ("year_total", "", "12345.67", "500.00", "借", "61845.67"),
    ]
    assert body["rows"][1]["voucher_id"] == village.v1.id and body["rows"][1]["date"] == "2025-01-05"
    body = api("/detail-ledger?year=2025&code=112&counterparty=张三").get_json()
    assert [r["summary"] for r in body["rows"] if r["kind"] == "line"] == ["借给张三"]
    # a credit balance is negative, with its direction
    capital = api("/detail-ledger?year=2025&month=1&code=301").get_json()["rows"][0]
    assert (capital["balance"], capital["direction"]) == ("-51200.00", "贷")


def test_general_ledger_json(api):
    body = api("/general-ledger?year=2025&month_to=2&month_from=1").get_json()
    assert [a["code"] for a in body["accounts"]] == ["101", "102", "112", "301", "501", "513"]
    bank = body["accounts"][1]
    assert [r["kind"] for r in bank["rows"]] == ["opening", "month_total", "year_total", "month_total", "year_total"]
    assert bank["rows"][-1]["balance"] == "59845.67"
    one = api("/general-ledger?year=2025&code=501").get_json()
    assert [a["name"] for a in one["accounts"]] == ["经营收入"]


def test_journal_json(api):
    body = api("/journal?year=2025&quarter=1").get_json()
    assert [v["display_number"] for v in body["vouchers"]] == ["记-0001", "记-0002", "记-0003", "记-0001", "记-0002"]
    assert body["total_debit"] == body["total_credit"] == "15945.67"
    line = body["vouchers"][3]["lines"][0]
    assert (line["account_code"], line["debit"], line["counterparty"]) == ("112", "2000.00", "张三")


def test_statements_json(api):
    bs = api("/balance-sheet?year=2025&month=2").get_json()
    assert bs["columns"] == ["年初余额", "期末余额"]
    rows = {r["key"]: r for r in bs["rows"] if r["key"]}
    assert rows["cash"]["values"] == ["51200.00", "60445.67"] and rows["cash"]["line_no"] == 1
    assert rows["total_assets"]["values"][1] == rows["total_liabilities_equity"]["values"][1] == "63245.67"
    inc = api("/income-statement?year=2025&month=1").get_json()
    rows = {r["key"]: r for r in inc["rows"]}
    assert rows["operating_profit"]["values"] == ["12045.67", "12045.67"]


def test_downloads(api):
    r = api("/trial-balance?year=2025&format=xlsx")
    assert r.status_code == 200 and r.mimetype == XLSX
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert ws["A1"].value == "科目余额表"
    total = next(i for i in range(1, ws.max_row + 1) if ws.cell(i, 2).value == "合计")
    assert money(ws.cell(total, 5).value) == money("15945.67")
    r = api("/balance-sheet?year=2025", Accept="application/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    r = api("/journal?year=2025", Accept=XLSX)
    assert r.mimetype == XLSX
    assert api("/journal?year=2025", Accept="*/*").is_json


def test_voucher_pdf(api, village):
    r = api(f"/vouchers/{village.v2.id}.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert api("/vouchers/999999.pdf").status_code == 404


@pytest.mark.parametrize("query, field, message", [
    ("/journal?month=13", "month", "月份应在1到12之间"),
    ("/journal?year=abc", "year", "年份必须是整数"),
    ("/journal?year=2025&month_from=5&month_to=3", "month_from", "起始月份不能晚于截止月份"),
    ("/journal?year=2025&mnth=3", "mnth", "未知参数"),  # a typo is not silently ignored
    ("/journal?year=2025&format=html", "format", "格式应为 json、xlsx 或 pdf"),
    ("/journal?year=2024", "year", "所选期间早于建账月份（2025年1月），没有账可查"),
    ("/detail-ledger?year=2025", "code", "请选择科目"),
    ("/detail-ledger?year=2025&code=999", "code", "科目编码 999 不存在"),
    ("/detail-ledger?year=2025&code=1x", "code", "科目编码格式不正确"),
    ("/trial-balance?level=9", "level", "科目级次应在1到5之间"),
    # refused by the request guard (coop.web.hardening) before the query schema sees it
    ("/trial-balance?counterparty=%00", "counterparty", "输入含有不允许的空字符（NUL）"),
])
def test_bad_params(api, query, field, message):
    r = api(query)
    assert r.status_code == 422
    body = r.get_json()
    assert body["message"] == message
    assert field in body["errors"]


def test_auth_and_isolation(api, village, client):
    from coop.core.extensions import db
    from coop.services import orgs, users

    assert api("/trial-balance", token=None).status_code == 401
    township = orgs.create_township(village.county, "西镇")
    other = orgs.create_organization(township, name="西村经济合作社", books_start_year=2025)
    stranger = users.create_user("xicun", "孙会计", "password1")
    users.assign_role(stranger, "accountant", other)
    token = users.issue_api_token(stranger, "t")
    db.session.commit()
    for path in ("/trial-balance", "/balance-sheet?format=pdf", f"/vouchers/{village.v1.id}.pdf"):
        assert api(path, token=token).status_code == 404, path
    r = client.get(f"/api/v1/orgs/{other.id}/reports/vouchers/{village.v1.id}.pdf",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404


def test_openapi_documents_reports(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/orgs/{org_id}/reports/trial-balance"]["get"]
    assert {p["name"] for p in op["parameters"] if p["in"] == "query"} >= {"year", "month_from", "month_to",
                                                                             "counterparty", "level", "format"}
    content = op["responses"]["200"]["content"]
    assert set(content) == {"application/json", XLSX, "application/pdf"}
    schema_name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    debit = spec["components"]["schemas"]["TrialBalanceAmounts"]["properties"]["debit"]
    assert debit["type"] == "string" and schema_name == "TrialBalance"
