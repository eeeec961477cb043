"""The county's view (RULES §16): consolidated statements tie to the sum of the village statements to the fen, with the
飞地抱团 items between two villages and their operator eliminated; 经营收益 bands; the 农经统计年报 xlsx cell by cell.

The worked case (2025, one township): 东村, 南村, 西村 and the 联营公司 强村公司. 东村 and 南村 put 200,000 and
100,000 into the operator's project (no 保底, profit shared 2:1); the operator earns 50,000 rent and declares
30,000 of returns: 20,000 to 东村, 10,000 to 南村.
    东村: opening 102 500,000; 经营收入 80,000; 管理费用 12,345.67        → 经营收益 87,654.33 (5–10万)
    南村: opening 102 300,000; 经营收入 30,000.50; 经营支出 5,000         → 经营收益 35,000.50 (< 5万)
    西村: opening 102 100,000; 补助收入 8,000; 公益支出 3,000              → 经营收益 0 (无)
    强村公司: opening 102 1,000; 资本 300,000 from the villages; rent 50,000; 向成员分配 30,000
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from coop.core.extensions import db

D = Decimal


@pytest.fixture
def county(books):
    from coop.services import joint, opening, orgs, users

    admin = books.county_admin
    east = books.org
    south = orgs.create_organization(books.township, name="南村股份经济合作社", books_start_year=2025)
    west = orgs.create_organization(books.township, name="西村经济合作社", kind="village_economic",
                                    books_start_year=2025)
    op = orgs.create_organization(books.township, name="强村公司", kind="joint_company", books_start_year=2025)
    for o, cash in ((east, "500000.00"), (south, "300000.00"), (west, "100000.00"), (op, "1000.00")):
        if o is not east:
            users.assign_role(books.accountant, "accountant", o)
            users.assign_role(books.reviewer, "reviewer", o)
        opening.set_opening_balances(o, {"102": D(cash), "301": -D(cash)}, user=books.accountant)
        opening.lock_opening_balances(o, user=books.accountant)
        o.county_may_post = True
    post = _poster(books)
    post(east, "2025-03-10", ("102", "80000.00", ""), ("501", "", "80000.00"))
    post(east, "2025-06-30", ("513", "12345.67", ""), ("102", "", "12345.67"))
    post(south, "2025-04-01", ("102", "30000.50", ""), ("501", "", "30000.50"))
    post(south, "2025-05-01", ("511", "5000.00", ""), ("102", "", "5000.00"))
    post(west, "2025-02-01", ("102", "8000.00", ""), ("503", "", "8000.00"))
    post(west, "2025-09-01", ("514", "3000.00", ""), ("102", "", "3000.00"))
    post(op, "2025-06-01", ("102", "50000.00", ""), ("501", "", "50000.00"))
    p = joint.create_project(books.county, name="城东厂房", operator_org_id=op.id, start_date=dt.date(2025, 1, 1),
                             fixed_rate=D(0), user=admin)
    pe, ps = joint.add_participant(p, east, user=admin), joint.add_participant(p, south, user=admin)
    joint.contribute(p, pe, kind="cash", amount=D("200000.00"), date=dt.date(2025, 1, 1), user=admin)
    joint.contribute(p, ps, kind="cash", amount=D("100000.00"), date=dt.date(2025, 1, 1), user=admin)
    joint.declare_return(p, year=2025, profit=D("30000.00"), date=dt.date(2025, 12, 31), user=admin)
    db.session.commit()
    return books, [east, south, west, op]


def _poster(books):
    from coop.services import vouchers

    def post(org, date, *lines):
        v = vouchers.create_draft(org, {"date": dt.date.fromisoformat(date), "lines": [
            {"summary": "测试", "account_code": code, "debit": D(d or 0), "credit": D(c or 0),
             "counterparty": "往来单位" if code[:3] in ("112", "211") else None} for code, d, c in lines]},
            user=books.accountant)
        vouchers.review_voucher(v, user=books.reviewer)
        vouchers.post_voucher(v, user=books.accountant)
        return v
    return post


def test_consolidated_statements_tie_to_the_villages_and_eliminate_the_joint_project(county):
    from coop.services import consolidation, reports

    books, orgs = county
    c = consolidation.consolidate(consolidation.scope(books.county), 2025, 12)
    # each column is the organization's own statement, to the fen
    for o in orgs:
        own = {r.key: r.values[1] for r in reports.balance_sheet(o, 2025, 12).rows if r.key}
        assert {k: c.end[o.id][k] for k in own} == own, o.name
        begin = {r.key: r.values[0] for r in reports.balance_sheet(o, 2025, 12).rows if r.key}
        assert {k: c.begin[o.id][k] for k in begin} == begin, o.name
        ytd = {r.key: r.values[1] for r in reports.income_statement(o, 2025, 12).rows}
        assert {k: c.income[o.id][k] for k in ytd} == ytd, o.name
    total, elim, net = c.balance_sheet()
    assert total["cash"] == D("1048654.83")  # 367,654.33 + 225,000.50 + 105,000 + 351,000
    assert (total["long_investments"], elim["long_investments"], net["long_investments"]) == (
        D("300000.00"), D("300000.00"), D("0.00"))
    assert (total["receivables"], elim["receivables"], net["receivables"]) == (D("30000.00"), D("30000.00"), 0)
    assert (total["payables"], elim["payables"], net["payables"]) == (D("30000.00"), D("30000.00"), 0)
    assert (total["capital"], elim["capital"], net["capital"]) == (D("1201000.00"), D("300000.00"), D("901000.00"))
    assert total["undistributed"] == net["undistributed"] == D("147654.83")
    assert total["total_assets"] == total["total_liabilities_equity"] == D("1378654.83")
    assert net["total_assets"] == net["total_liabilities_equity"] == D("1048654.83")
    assert [(i.project, i.investment, i.capital, i.receivable, i.payable) for i in c.items] == [
        ("城东厂房", D("200000.00"), D("-200000.00"), D("20000.00"), D("-20000.00")),
        ("城东厂房", D("100000.00"), D("-100000.00"), D("10000.00"), D("-10000.00"))]
    total, elim, net = c.income_statement()
    assert total["operating_revenue"] == net["operating_revenue"] == D("160000.50")
    assert (total["investment_income"], elim["investment_income"], net["investment_income"]) == (
        D("30000.00"), D("30000.00"), 0)
    assert total["operating_profit"] == D("172654.83")
    assert net["operating_profit"] == D("142654.83")
    assert net["total_profit"] == D("147654.83")  # + 补助 8,000 − 公益 3,000
    assert (total["member_distribution"], net["member_distribution"]) == (D("30000.00"), 0)
    assert total["closing_undistributed"] == net["closing_undistributed"] == D("147654.83")
    # a township of another county's shape: the scope of one township only counts its own organizations
    assert c.closed == set()


def test_bands_and_the_doubling_target(county):
    from coop.services import consolidation

    books, (east, south, west, op) = county
    sc = consolidation.scope(books.county)
    target = consolidation.Target(2025, 2, 3, True)
    r = consolidation.bands(sc, target, upto=2025)
    assert [row.org.name for row in r.rows] == ["东村股份经济合作社", "南村股份经济合作社", "西村经济合作社"]
    assert {row.org.name: row.profits[2025] for row in r.rows} == {
        "东村股份经济合作社": D("87654.33"), "南村股份经济合作社": D("35000.50"), "西村经济合作社": D("0.00")}
    assert r.counts(2025) == {"none": 1, "lt5": 1, "5to10": 1, "10to50": 0, "50to100": 0, "ge100": 0}
    assert {row.org.name: row.target for row in r.rows} == {
        "东村股份经济合作社": D("175308.66"), "南村股份经济合作社": D("70001.00"), "西村经济合作社": None}
    assert r.total(2025) == D("122654.83")


def test_band_edges():
    from coop.ledger.consolidation import band_of

    assert [band_of(D(x)) for x in ("-1", "0", "0.01", "49999.99", "50000", "99999.99", "100000", "499999.99",
                                    "500000", "999999.99", "1000000")] == [
        "none", "none", "lt5", "lt5", "5to10", "5to10", "10to50", "10to50", "50to100", "50to100", "ge100"]


def _close_year(books, orgs, year=2025):
    from coop.services import closing, periods

    for o in orgs:
        while True:
            fy, fm = periods.first_open(o)
            if (fy, fm) > (year, 12):
                break
            closing.close_period(o, fy, fm, user=books.accountant, today=dt.date(2100, 1, 1))
    db.session.commit()


def test_the_returns_xlsx_ties_cell_by_cell_to_each_village(county, client, auth):
    """农经统计年报 from closed books: rows = statement lines, a column per closed organization + 合计; every cell is
    the organization's own statement figure (blank = 0), the total their sum."""
    from openpyxl import load_workbook

    from coop.ledger.statements import BALANCE_SHEET_LAYOUT, INCOME_LAYOUT
    from coop.services import reports

    books, orgs = county
    east, south, west, op = orgs
    _close_year(books, [east, south, west])  # the operator is not closed: left out and named
    auth.login("xian")
    for kind, layout in (("income", INCOME_LAYOUT), ("balance", BALANCE_SHEET_LAYOUT)):
        r = client.get(f"/county/returns?county={books.county.id}&year=2025&kind={kind}&format=xlsx")
        assert r.status_code == 200, r.data[:300]
        ws = load_workbook(io.BytesIO(r.data)).active
        assert ws.cell(1, 1).value == ("收益分配统计表" if kind == "income" else "资产负债统计表")
        assert [ws.cell(2, c).value for c in (1, 6)] == ["填报单位：测试县", "单位：元"]
        assert "2025年度" in [ws.cell(2, c).value for c in range(2, 6)]
        header = [ws.cell(3, c).value for c in range(1, 7)]
        assert header == ["项目", "行次", "东村股份经济合作社", "南村股份经济合作社", "西村经济合作社", "合计"]
        own = {}
        for o in (east, south, west):
            st = (reports.income_statement(o, 2025, 1, 12) if kind == "income" else reports.balance_sheet(o, 2025, 12))
            own[o.id] = {row.key: row.values[1] for row in st.rows if row.key}
        row = 4
        for key, label, style, _ in layout:
            assert ws.cell(row, 1).value == label
            if style != "header":
                got = [D(str(ws.cell(row, c).value or 0)).quantize(D("0.01")) for c in range(3, 7)]
                want = [own[o.id][key] for o in (east, south, west)]
                assert got == want + [sum(want)], (kind, key, got)
            row += 1
        assert any("强村公司" in (ws.cell(r_, 1).value or "") for r_ in range(row, row + 4))
    # worked figure: the total assets of the three closed villages
    ws = load_workbook(io.BytesIO(client.get(
        f"/county/returns?county={books.county.id}&year=2025&kind=balance&format=xlsx").data)).active
    total_assets = next(r_ for r_ in range(4, 60) if ws.cell(r_, 1).value == "资产总计")
    assert D(str(ws.cell(total_assets, 6).value)) == D("1027654.83")  # 东村 367,654.33 + 200,000 + 20,000; 南村 225,000.50 + 100,000 + 10,000; 西村 105,000


def test_county_pages_answer_and_download(county, client, auth):
    books, orgs = county
    auth.login("xian")
    r = client.get(f"/county/?county={books.county.id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<svg" in page and "东村股份经济合作社" in page and "87,654.33" in page
    for path in ("balance-sheet", "income-statement"):
        r = client.get(f"/county/{path}?county={books.county.id}&year=2025&month=12")
        assert r.status_code == 200 and "合并数" in r.get_data(as_text=True)
        assert client.get(f"/county/{path}?county={books.county.id}&year=2025&month=12&format=xlsx").status_code == 200
    r = client.get(f"/county/balance-sheet?county={books.county.id}&township={books.township.id}&year=2025&month=12"
                   "&format=pdf")
    assert r.status_code == 200 and r.data[:5] == b"%PDF-"
    assert "1,048,654.83" in client.get(f"/county/balance-sheet?county={books.county.id}&year=2025&month=12"
                                        ).get_data(as_text=True)
    assert client.get(f"/county/balance-sheet?county={books.county.id}&year=2025&month=13").status_code == 422
    # the county: a column per township by default; per organization on request
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(client.get(
        f"/county/balance-sheet?county={books.county.id}&year=2025&month=12&format=xlsx").data)).active
    assert [ws.cell(3, c).value for c in range(1, 7)] == ["项目", "行次", "东镇", "合计", "抵销", "合并数"]
    ws = load_workbook(io.BytesIO(client.get(
        f"/county/balance-sheet?county={books.county.id}&year=2025&month=12&by=org&format=xlsx").data)).active
    assert [ws.cell(3, c).value for c in range(3, 7)] == ["东村股份经济合作社", "南村股份经济合作社", "强村公司",
                                                          "西村经济合作社"]
    cash = next(r_ for r_ in range(4, 60) if ws.cell(r_, 1).value == "货币资金")
    assert [D(str(ws.cell(cash, c).value or 0)) for c in range(3, 10)] == [  # blank: nothing eliminated
        D("367654.33"), D("225000.50"), D("351000.00"), D("105000.00"), D("1048654.83"), D("0"), D("1048654.83")]
    assert client.get(f"/county/villages/{orgs[0].id}").status_code == 200
    r = client.post(f"/county/target?county={books.county.id}", data={"base_year": "2025", "factor": "12", "years": "3"})
    assert r.status_code == 422 and "倍数应在1至10之间" in r.get_data(as_text=True)
    r = client.post(f"/county/target?county={books.county.id}", data={"base_year": "2025", "factor": "2", "years": "3"})
    assert r.status_code == 302
    from coop.services import consolidation
    assert consolidation.target_of(books.county, dt.date(2026, 1, 1)).base_year == 2025
    # a township auditor sees the township, not another county
    client.post("/logout")
    auth.login("jingguan")
    assert client.get(f"/county/?county={books.county.id}&township={books.township.id}").status_code == 200
    assert client.get(f"/county/?county={books.county.id}").status_code == 403
    assert client.post(f"/county/target?county={books.county.id}&township={books.township.id}",
                       data={"base_year": "2024", "factor": "2", "years": "3"}).status_code == 403


def test_api_bands_and_consolidated(county, client):
    from coop.services import users

    books, (east, south, west, op) = county
    tokens = {w: users.issue_api_token(getattr(books, w), "t") for w in ("county_admin", "auditor", "accountant")}
    db.session.commit()

    def get(path, who="county_admin"):
        return client.get("/api/v1" + path, headers={"Authorization": f"Bearer {tokens[who]}"})

    r = get(f"/counties/{books.county.id}/consolidated?year=2025&month=12&statement=income")
    assert r.status_code == 200, r.json
    line = next(x for x in r.json["lines"] if x["key"] == "operating_profit")
    assert (line["total"], line["eliminations"], line["consolidated"]) == ("172654.83", "30000.00", "142654.83")
    assert line["values"][str(east.id)] == "87654.33"
    r = get(f"/counties/{books.county.id}/bands?year=2025")
    assert r.status_code == 200, r.json
    assert r.json["counts"]["2025"]["5to10"] == 1
    assert get(f"/counties/{books.county.id}/consolidated?month=13").status_code == 422
    assert get(f"/counties/{books.county.id}/bands", who="auditor").status_code == 403  # the county: not theirs
    assert get(f"/counties/{books.county.id}/bands?township_id={books.township.id}", who="auditor").status_code == 200
    assert get(f"/counties/{books.county.id}/bands", who="accountant").status_code == 404


def test_doubling_path():
    from coop.ledger.consolidation import doubling_path

    assert [doubling_path(D("100000.00"), 2, 2024, 3, y) for y in (2024, 2025, 2026, 2027)] == [
        D("100000.00"), D("133333.33"), D("166666.67"), D("200000.00")]


def test_a_return_the_guarantor_owes_is_not_eliminated(county):
    """A second project of the same operator, 10% fixed on east's 100,000.00 for all of 2025 with no profit: the
    guarantor (outside the scope) owes east 10,000.00. Only the operator's 30,000.00 of the first project is
    eliminated from 投资收益, so the consolidated 年末未分配收益 of both statements agree: 157,654.83."""
    from coop.services import consolidation, joint

    books, (east, south, west, op) = county
    admin = books.county_admin
    p = joint.create_project(books.county, name="城西冷库", operator_org_id=op.id, guarantor="县城投公司",
                             start_date=dt.date(2025, 1, 1), fixed_rate=D("0.10"), user=admin)
    pe = joint.add_participant(p, east, user=admin)
    joint.contribute(p, pe, kind="cash", amount=D("100000.00"), date=dt.date(2025, 1, 1), user=admin)
    ret = joint.declare_return(p, year=2025, profit=D("0.00"), date=dt.date(2025, 12, 31), user=admin)
    assert [(l.fixed, l.guaranteed) for l in ret.lines] == [(D("10000.00"), D("10000.00"))]
    db.session.commit()
    c = consolidation.consolidate(consolidation.scope(books.county), 2025, 12)
    total, elim, net = c.income_statement()
    assert (total["investment_income"], elim["investment_income"], net["investment_income"]) == (
        D("40000.00"), D("30000.00"), D("10000.00"))
    assert net["closing_undistributed"] == D("157654.83")  # 147,654.83 + the guarantor's 10,000.00
    assert c.balance_sheet()[2]["undistributed"] == D("157654.83")
