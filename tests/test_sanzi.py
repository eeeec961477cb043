"""三资台账 (RULES §14, issue #21): contract schedules and accruals, asset depreciation and disposal, the cards'
reconciliation to the ledger and the 三色预警 rules — worked numbers, real village books (2-2-2 and 3-3)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.ledger import assets as calc
from coop.models import Voucher
from coop.services import sanzi, vouchers
from tests.realbooks import real_books  # noqa: F401

D = Decimal


def _lease(b, number="ZL-2025-001", **kw):
    data = dict(number=number, kind="lease", title="村东鱼塘租赁", counterparty="绿源农业公司",
                start_date=dt.date(2025, 1, 1), end_date=dt.date(2034, 12, 31), annual_amount=D("50000.00"),
                frequency="annual", step_rate=D("0.05"), step_years=3, democratic_date=dt.date(2024, 12, 10),
                democratic_kind="assembly", votes_for=41, votes_total=45, publicity_days=7)
    data.update(kw)
    c = sanzi.create_contract(b.org, data, user=b.accountant)
    sanzi.activate_contract(c, user=b.accountant)
    return c


def _post(b, v):
    vouchers.review_voucher(v, user=b.reviewer)
    vouchers.post_voucher(v, user=b.accountant)
    return v


# ---------------------------------------------------------------- schedule (pure)


def test_ten_year_lease_with_five_percent_every_three_years_annual():
    s = calc.schedule(dt.date(2025, 1, 1), dt.date(2035, 1, 1), D("50000.00"), "annual", step_pct=D(5), step_years=3)
    # 50,000 × 1.05 = 52,500; × 1.05 = 55,125; × 1.05 = 57,881.25
    assert [str(i.amount) for i in s] == ["50000.00"] * 3 + ["52500.00"] * 3 + ["55125.00"] * 3 + ["57881.25"]
    assert [i.due_date for i in s] == [dt.date(2025 + k, 1, 1) for k in range(10)]
    assert sum(i.amount for i in s) == D("530756.25")


def test_quarterly_instalments_round_half_up_and_the_year_sums_exactly():
    s = calc.schedule(dt.date(2025, 1, 1), dt.date(2035, 1, 1), D("50000.00"), "quarterly", step_pct=D(5),
                      step_years=3)
    assert len(s) == 40
    assert [i.amount for i in s[:4]] == [D("12500.00")] * 4
    assert [i.amount for i in s[24:28]] == [D("13781.25")] * 4  # 55,125 / 4
    # 57,881.25 / 4 = 14,470.3125 → 14,470.31 three times, the last takes the remainder
    assert [i.amount for i in s[36:]] == [D("14470.31")] * 3 + [D("14470.32")]
    assert [i.due_date for i in s[36:]] == [dt.date(2034, 1, 1), dt.date(2034, 4, 1), dt.date(2034, 7, 1),
                                          dt.date(2034, 10, 1)]
    assert sum(i.amount for i in s) == D("530756.25")


def test_half_yearly_and_one_off_and_part_year():
    s = calc.schedule(dt.date(2025, 3, 1), dt.date(2026, 9, 1), D("10000.00"), "half_yearly")
    # 18 months: the first year in two halves, then 6 months at 10,000 × 6/12
    assert [(i.due_date, i.amount) for i in s] == [(dt.date(2025, 3, 1), D("5000.00")),
                                                   (dt.date(2025, 9, 1), D("5000.00")),
                                                   (dt.date(2026, 3, 1), D("5000.00"))]
    one = calc.schedule(dt.date(2025, 1, 1), dt.date(2030, 1, 1), D("1000.00"), "one_off", step_pct=D(10),
                        step_years=2)
    assert [(i.due_date, i.amount) for i in one] == [(dt.date(2025, 1, 1), D("5410.00"))]  # 1000+1000+1100+1100+1210


def test_straight_line_depreciation_to_the_fen():
    # 10,000.00 at 5% residual over 7 months: 9,500 / 7 = 1,357.142857… → 1,357.14, the last month 1,357.16
    assert calc.monthly_depreciation(D("10000.00"), D("0.05"), 7) == D("1357.14")
    charged, months = D(0), []
    for k in range(9):
        y, m = divmod(6 + k, 12)
        c = calc.depreciation_for_month(D("10000.00"), D("0.05"), 7, dt.date(2025, 6, 15), charged, 2025 + y, m + 1)
        months.append(c)
        charged += c
    assert months == [D("1357.14")] * 6 + [D("1357.16"), D(0), D(0)]
    assert charged == D("9500.00")
    # nothing in the month of acquisition
    assert calc.depreciation_for_month(D("10000.00"), D("0.05"), 7, dt.date(2025, 6, 15), D(0), 2025, 6) == 0


def test_ageing_buckets():
    on = dt.date(2025, 6, 30)
    assert [calc.ageing_bucket(on - dt.timedelta(days=d), on) for d in (0, 1, 30, 31, 90, 91, 365, 366)] == \
        [0, 1, 1, 2, 2, 3, 3, 4]


# ---------------------------------------------------------------- contracts in the books


def test_lease_accrues_each_due_date_once_and_receipts_clear_it(real_books):
    b = real_books
    c = _lease(b)
    assert [i.amount for i in c.instalments][:4] == [D("50000.00")] * 3 + [D("52500.00")]
    first = sanzi.accrue_due(b.org, on=dt.date(2025, 6, 30), user=b.accountant)
    assert len(first) == 1 and first[0].date == dt.date(2025, 1, 1)
    lines = {(l.account.code, l.debit, l.credit, l.counterparty) for l in first[0].lines}
    assert (b.leaf("112", 1), D("50000.00"), D(0), "绿源农业公司") in lines
    assert any(l.account.code.startswith("501") and l.credit == D("50000.00") for l in first[0].lines)
    assert first[0].preparer_id == b.accountant.id and first[0].status == "draft"
    # run again for the same day: nothing new; a year later: the second instalment only
    assert sanzi.accrue_due(b.org, on=dt.date(2025, 6, 30), user=b.accountant) == []
    second = sanzi.accrue_due(b.org, on=dt.date(2026, 1, 1), user=b.accountant)
    assert [v.date for v in second] == [dt.date(2026, 1, 1)]
    for v in first + second:
        _post(b, v)
    db.session.commit()
    # a receipt beyond what is accrued and unpaid is refused
    with pytest.raises(ValidationFailed) as exc:
        sanzi.record_receipt(c, date=dt.date(2026, 1, 5), amount=D("100000.01"), user=b.accountant)
    assert exc.value.errors == {"amount": ["收款 100,000.01 超过已挂账未收的 100,000.00"]}
    db.session.rollback()
    r = sanzi.record_receipt(c, date=dt.date(2025, 2, 1), amount=D("30000.00"), user=b.accountant)
    _post(b, db.session.get(Voucher, r.voucher_id))
    db.session.commit()
    assert [i.received for i in c.instalments[:2]] == [D("30000.00"), D(0)]
    rows = sanzi.ageing(b.org, on=dt.date(2026, 1, 20))
    # 20,000 of the 2025 instalment is 384 days overdue; the 2026 one 19 days
    assert len(rows) == 1 and rows[0].counterparty == "绿源农业公司"
    assert rows[0].buckets == [D(0), D("50000.00"), D(0), D(0), D("20000.00")]
    from coop.services.reports import leaf_balances

    assert leaf_balances(b.org)[b.leaf("112", 1)] == D("70000.00")


def test_contract_number_is_unique_in_the_county(real_books):
    b = real_books
    _lease(b)
    with pytest.raises(ValidationFailed) as exc:
        _lease(b)
    assert exc.value.errors["number"] == ["合同编号 ZL-2025-001 在本县已登记"]


# ---------------------------------------------------------------- assets


def _buy_asset(b, cost="10000.00", date=dt.date(2025, 6, 15), life=7, number="GD-001", use="admin"):
    v = _post(b, b.draft(date, ("151", cost, ""), (b.leaf("102", 1), "", cost), summary="购入拖拉机"))
    return sanzi.register_asset(b.org, dict(number=number, name="拖拉机", category="fixed", use=use,
                                            acquired_date=date, cost=D(cost), life_months=life,
                                            residual_rate=D("0.05")), user=b.accountant, voucher=v)


def test_asset_bought_mid_year_depreciates_from_next_month_and_stops(real_books):
    b = real_books
    a = _buy_asset(b)
    assert sanzi.depreciate_month(b.org, 2025, 6, b.accountant) is None  # the month of purchase: nothing
    charges = []
    for k in range(9):
        y, m = divmod(6 + k, 12)
        run = sanzi.depreciate_month(b.org, 2025 + y, m + 1, b.accountant)
        if run is None:
            charges.append(D(0))
            continue
        again = sanzi.depreciate_month(b.org, 2025 + y, m + 1, b.accountant)  # idempotent per month
        assert again.id == run.id
        v = db.session.get(Voucher, run.voucher_id)
        assert v.date == calc.add_months(dt.date(2025 + y, m + 1, 1), 1) - dt.timedelta(days=1)
        assert {(l.account.code[:3], l.debit, l.credit) for l in v.lines} == {
            ("513", run.total, D(0)), ("152", D(0), run.total)}
        _post(b, v)
        charges.append(run.total)
    db.session.commit()
    assert charges == [D("1357.14")] * 6 + [D("1357.16"), D(0), D(0)]
    assert sanzi.accumulated(a) == D("9500.00")
    n = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.organization_id == b.org.id))
    assert n == 8  # the purchase and seven months
    # the card and 151/152 agree: cost 10,000.00, depreciated 9,500.00 (the 5% residual stays)
    assert sanzi.reconcile(b.org) == [sanzi.Reconciliation("fixed", D("10000.00"), D("10000.00"), D("9500.00"),
                                                           D("9500.00"))]


def test_disposal_clears_fixed_assets_through_154(real_books):
    from coop.ledger import roles as R
    from coop.services import roles

    b = real_books
    roles.set_mapping(b.org, R.OTHER_EXPENSE, b.leaf("515", 2), user=b.accountant)  # 515 has 明细科目 here
    a = _buy_asset(b, life=7)
    for m in range(7, 13):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    # accumulated 6 × 1,357.14 = 8,142.84; net book value 1,857.16; sold for 800.00: a loss of 1,057.16
    v = sanzi.dispose_asset(a, date=dt.date(2025, 12, 20), proceeds=D("800.00"), user=b.accountant,
                            bank_account=b.leaf("102", 1), reason="出售")
    got = sorted((l.account.code[:3], l.debit, l.credit) for l in v.lines)
    assert got == sorted([("154", D("1857.16"), D(0)), ("152", D("8142.84"), D(0)), ("151", D(0), D("10000.00")),
                          ("102", D("800.00"), D(0)), ("154", D(0), D("800.00")), ("515", D("1057.16"), D(0)),
                          ("154", D(0), D("1057.16"))])
    _post(b, v)
    db.session.commit()
    from coop.services.reports import leaf_balances

    bal = leaf_balances(b.org)
    for top in ("151", "152", "154"):
        assert sum((x for c, x in bal.items() if c[:3] == top), D(0)) == 0, top
    assert sanzi.reconcile(b.org) == []  # the disposed card is out and 151/152 are empty: nothing to compare
    assert sanzi.depreciate_month(b.org, 2026, 1, b.accountant) is None  # a disposed asset takes no more
    with pytest.raises(InvalidState, match=f"资产 {a.number} 已于 2025-12-20 处置"):
        sanzi.dispose_asset(a, date=dt.date(2025, 12, 21), user=b.accountant)


def test_cards_reconcile_and_a_difference_is_a_red_warning(real_books):
    b = real_books
    _buy_asset(b)
    _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, 7, b.accountant).voucher_id))
    db.session.commit()
    today = dt.date(2025, 8, 1)
    assert "assets_unreconciled" not in {w.code for w in sanzi.warnings(b.org, today)}
    # a depreciation run not yet posted: the card counts only posted runs, so still reconciled
    sanzi.depreciate_month(b.org, 2025, 8, b.accountant)
    assert [r.ok for r in sanzi.reconcile(b.org, today)] == [True]
    # a 151 purchase without a card
    _post(b, b.draft(dt.date(2025, 7, 20), ("151", "3000.00", ""), (b.leaf("102", 1), "", "3000.00")))
    db.session.commit()
    [w] = [w for w in sanzi.warnings(b.org, today) if w.code == "assets_unreconciled"]
    assert w.level == "red"
    assert "卡片原值 10,000.00，账面 13,000.00" in str(w.facts[0])


def test_december_carry_over_runs_the_depreciation_first(real_books):
    from coop.services import closing

    b = real_books
    _buy_asset(b, life=60)
    for m in range(7, 12):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    db.session.commit()
    b.close_through(2025, 11)
    closing.carry_over(b.org, 2025, user=b.accountant, today=dt.date(2025, 12, 31))
    run = sanzi.depreciation_run(b.org, 2025, 12)
    assert run is not None and run.total == D("158.33")  # 9,500 / 60 = 158.333…


def test_december_is_not_closed_without_its_depreciation(real_books):
    """结账 of December straight away (without 损益结转 first) is refused while the month's depreciation is due."""
    from coop.services import closing

    b = real_books
    _buy_asset(b, life=60)
    for m in range(7, 12):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    db.session.commit()
    b.close_through(2025, 11)
    reason = "12月固定资产折旧尚未计提（先做损益结转，或在三资台账中计提折旧）"
    assert reason in closing.close_preconditions(b.org, 2025, 12, today=dt.date(2026, 1, 5))
    _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, 12, b.accountant).voucher_id))
    assert reason not in closing.close_preconditions(b.org, 2025, 12, today=dt.date(2026, 1, 5))


# ---------------------------------------------------------------- 三色预警: each fires on its case, not its neighbour


def _codes(b, today):
    return {w.code: w for w in sanzi.warnings(b.org, today)}


def test_overdue_rent_yellow_after_30_days_red_after_90(real_books):
    b = real_books
    _lease(b)
    assert "contract_overdue" not in _codes(b, dt.date(2025, 1, 31))  # 30 days: not yet
    assert _codes(b, dt.date(2025, 2, 1))["contract_overdue"].level == "yellow"  # 31 days
    w = _codes(b, dt.date(2025, 4, 1))  # 90 days: still yellow
    assert "contract_overdue" in w and "contract_overdue_red" not in w
    assert _codes(b, dt.date(2025, 4, 2))["contract_overdue_red"].level == "red"  # 91 days


def test_expiring_within_90_days(real_books):
    b = real_books
    _lease(b, end_date=dt.date(2025, 6, 30), step_rate=D(0), step_years=0)
    assert "contract_expiring" in _codes(b, dt.date(2025, 4, 1))  # 90 days left
    assert "contract_expiring" not in _codes(b, dt.date(2025, 3, 31))  # 91 days left


def test_term_over_legal_limit_or_30_years(real_books):
    b = real_books
    _lease(b, "A", end_date=dt.date(2044, 12, 31))  # a 20-year lease: lawful
    _lease(b, "B", kind="contracting", end_date=dt.date(2054, 12, 31))  # 30-year 发包: lawful
    assert "contract_over_long" not in _codes(b, dt.date(2025, 1, 1))
    _lease(b, "C", end_date=dt.date(2045, 12, 31))  # a 21-year lease: beyond 民法典 art. 705
    _lease(b, "D", kind="contracting", end_date=dt.date(2055, 12, 31))  # 31 years
    w = _codes(b, dt.date(2025, 1, 1))["contract_over_long"]
    assert w.level == "red" and len(w.facts) == 2


def test_no_democratic_procedure(real_books):
    b = real_books
    _lease(b, "A")
    assert "contract_no_democracy" not in _codes(b, dt.date(2025, 1, 1))
    _lease(b, "B", democratic_date=None)
    w = _codes(b, dt.date(2025, 1, 1))["contract_no_democracy"]
    assert w.level == "red" and len(w.facts) == 1 and "B" in str(w.facts[0])


def test_zero_or_below_appraisal_price_without_reason(real_books):
    b = real_books
    _lease(b, "A", appraisal=D("50000.00"))  # at the appraisal
    _lease(b, "B", annual_amount=D("0.00"), low_price_reason="扶贫车间免租三年（村民代表会议决定）")
    assert "contract_low_price" not in _codes(b, dt.date(2025, 1, 1))
    _lease(b, "C", appraisal=D("50000.01"))
    _lease(b, "D", annual_amount=D("0.00"))
    w = _codes(b, dt.date(2025, 1, 1))["contract_low_price"]
    assert w.level == "red" and len(w.facts) == 2


# ---------------------------------------------------------------- resources and inventory


def test_parcels_summary_and_inventory_through_181(real_books):
    b = real_books
    sanzi.register_parcel(b.org, dict(code="DK-01", kind="arable", area=D("12.3456"), status="contracted",
                                      east="河", south="路", west="林地", north="村道"), user=b.accountant)
    sanzi.register_parcel(b.org, dict(code="DK-02", kind="arable", area=D("0.6544"), status="contracted"),
                          user=b.accountant)
    with pytest.raises(ValidationFailed) as exc:
        sanzi.register_parcel(b.org, dict(code="DK-03", kind="arable", area=D("1.00001")), user=b.accountant)
    assert exc.value.errors == {"area": ["面积最多保留4位小数（亩）"]}
    assert sanzi.resource_summary(b.org) == {("arable", "contracted"): (2, D("13.0000"))}
    a = _buy_asset(b, life=7)
    for m in range(7, 13):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    inv = sanzi.start_inventory(b.org, 2025, user=b.accountant)
    assert len(inv.items) == 3
    with pytest.raises(ValidationFailed, match="还有 3 项未清点"):
        sanzi.post_inventory(inv, user=b.accountant)  # nothing counted yet
    for item in inv.items:
        sanzi.count_item(item, result="missing" if item.asset_id == a.id else "present", user=b.accountant)
    sanzi.add_surplus(inv, description="水泵一台", value=D("600.00"), user=b.accountant)
    v = sanzi.post_inventory(inv, user=b.accountant)
    assert sorted((l.account.code[:3], l.debit, l.credit) for l in v.lines) == sorted([
        ("181", D("1857.16"), D(0)), ("152", D("8142.84"), D(0)), ("151", D(0), D("10000.00")),
        ("151", D("600.00"), D(0)), ("181", D(0), D("600.00"))])
    with pytest.raises(ValidationFailed, match="公示期不少于 7 天"):
        sanzi.publish_inventory(inv, publish_from=dt.date(2026, 1, 5), publish_until=dt.date(2026, 1, 10),
                                user=b.accountant)  # 6 days
    sanzi.publish_inventory(inv, publish_from=dt.date(2026, 1, 5), publish_until=dt.date(2026, 1, 11),
                            user=b.accountant)
    assert inv.status == "published"


def test_an_instalment_due_in_a_closed_month_is_accrued_in_the_first_open_month(real_books):
    b = real_books
    b.close_through(2025, 2)
    _lease(b, frequency="quarterly", step_rate=D(0), step_years=0)
    vs = sanzi.accrue_due(b.org, on=dt.date(2025, 4, 1), user=b.accountant)
    # 1 January (closed) → 1 March, the first open month; 1 April on its day
    assert [(v.date, v.lines[0].debit) for v in vs] == [(dt.date(2025, 3, 1), D("12500.00")),
                                                       (dt.date(2025, 4, 1), D("12500.00"))]
    assert "2025-01-01 到期" in vs[0].lines[0].summary


def _xlsx(rows) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_contracts_dry_run_all_or_nothing_once(real_books):
    from coop.models import Contract, ContractInstalment

    b = real_books
    header = ["合同编号", "合同类型", "对方", "起始日", "终止日", "年租金", "收款方式", "递增比例", "递增间隔年", "表决日期", "生效"]
    good = ["ZL-1", "租赁", "绿源农业公司", dt.datetime(2025, 1, 1), "2034-12-31", 50000, "按年", "0.05", 3,
            "2024-12-10", "是"]
    bad = ["ZL-2", "租地", "张三", "2025-01-01", "2024-12-31", "12000.00", "按季", "", "", "", ""]
    with pytest.raises(ValidationFailed) as exc:
        sanzi.import_register(b.org, "contracts", _xlsx([header, good, bad]), user=b.accountant, dry_run=True)
    assert list(exc.value.errors["rows"]) == ["3"]  # line 3 only: the kind and the term
    assert any("kind" in m for m in exc.value.errors["rows"]["3"])
    db.session.rollback()
    data = _xlsx([header, good, ["ZL-2", "发包/承包", "张三", "2025-01-01", "2029-12-31", "12000.00", "按季", "", "",
                                 "", ""]])
    result = sanzi.import_register(b.org, "contracts", data, user=b.accountant, dry_run=True)
    assert result.rows == 2 and db.session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0
    sanzi.import_register(b.org, "contracts", data, user=b.accountant, dry_run=False)
    db.session.commit()
    got = {c.number: c for c in sanzi.list_contracts(b.org)}
    assert got["ZL-1"].status == "effective" and got["ZL-2"].status == "draft"
    assert [i.amount for i in got["ZL-1"].instalments][3] == D("52500.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContractInstalment)) == 10
    with pytest.raises(InvalidState, match="不能重复导入"):
        sanzi.import_register(b.org, "contracts", data, user=b.accountant, dry_run=False)


def test_import_assets_and_parcels(real_books):
    b = real_books
    sanzi.import_register(b.org, "assets", _xlsx([
        ["资产编号", "名称", "类别", "取得日期", "原值", "使用月数", "残值率", "期初累计折旧"],
        ["GD-1", "办公楼", "固定资产", "2015-06-30", "600000.00", 360, "0.05", "180500.00"]]),
        user=b.accountant, dry_run=False)
    sanzi.import_register(b.org, "parcels", _xlsx([
        ["地块编码", "类型", "面积", "经营状态", "东至"], ["DK-1", "林地", "120.5", "集体统一经营", "山脊"]]),
        user=b.accountant, dry_run=False)
    [a] = sanzi.list_assets(b.org)
    assert (a.cost, a.opening_depreciation, a.residual_rate) == (D("600000.00"), D("180500.00"), D("0.0500"))
    [p] = sanzi.list_parcels(b.org)
    assert (p.kind, p.area, p.status, p.east) == ("forest", D("120.5000"), "collective", "山脊")


# ---------------------------------------------------------------- concurrency: real threads, both databases


def _race(app, n, work):
    """Run `work()` in n threads at once, each in its own session; returns the exceptions raised."""
    import threading

    barrier, errors = threading.Barrier(n), []

    def run():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                work()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return errors


def test_two_depreciation_runs_and_two_accrual_runs_at_once_write_each_once(app, real_books):
    from coop.models import ContractInstalment, DepreciationRun, Organization, User

    b = real_books
    _buy_asset(b, life=60)
    _lease(b, frequency="quarterly", step_rate=D(0), step_years=0)
    db.session.commit()
    org_id, user_id = b.org.id, b.accountant.id

    def depreciate():
        sanzi.depreciate_month(db.session.get(Organization, org_id), 2025, 7, db.session.get(User, user_id))

    def accrue():
        sanzi.accrue_due(db.session.get(Organization, org_id), on=dt.date(2025, 7, 1),
                         user=db.session.get(User, user_id))

    assert _race(app, 2, depreciate) == []
    assert _race(app, 2, accrue) == []
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DepreciationRun)) == 1
    accrued = db.session.scalars(sa.select(ContractInstalment.accrual_voucher_id).where(
        ContractInstalment.accrual_voucher_id.is_not(None))).all()
    assert len(accrued) == 3 and len(set(accrued)) == 3  # 1 January, 1 April, 1 July: one voucher each
    vouchers_written = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
        Voucher.organization_id == org_id))
    assert vouchers_written == 1 + 1 + 3  # the purchase, one depreciation, three accruals


def test_a_card_from_a_voucher_needs_the_voucher_to_have_bought_it(real_books):
    b = real_books
    a = _buy_asset(b, cost="10000.00")
    with pytest.raises(ValidationFailed) as exc:  # the same voucher cannot back a second card
        sanzi.register_asset(b.org, dict(number="GD-002", name="又一台", acquired_date=dt.date(2025, 6, 15),
                                         cost=D("0.01"), life_months=12),
                             user=b.accountant, voucher=db.session.get(Voucher, a.acquisition_voucher_id))
    assert "已建卡 10,000.00" in exc.value.errors["voucher_id"][0]


def test_a_generated_depreciation_draft_is_not_deleted_by_hand(real_books):
    b = real_books
    _buy_asset(b)
    run = sanzi.depreciate_month(b.org, 2025, 7, b.accountant)
    with pytest.raises(InvalidState, match="这张凭证由资产台账（计提折旧）生成，不能删除"):
        vouchers.delete_draft(db.session.get(Voucher, run.voucher_id), user=b.accountant)


# ---------------------------------------------------------------- invariants (pure, Hypothesis)

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31)),
       months=st.integers(min_value=1, max_value=480),
       cents=st.integers(min_value=0, max_value=10**9),
       frequency=st.sampled_from(sorted(calc.FREQUENCIES)),
       step_pct=st.sampled_from([D(0), D(3), D(5), D("7.5")]), step_years=st.integers(min_value=0, max_value=5))
def test_schedule_years_sum_exactly_and_instalments_cover_the_term(start, months, cents, frequency, step_pct,
                                                                    step_years):
    end = calc.add_months(start, months)
    base = D(cents) / 100
    s = calc.schedule(start, end, base, frequency, step_pct=step_pct, step_years=step_years)
    # what each contract year owes (pro rata for a part year), each rounded once
    owed = sum((calc.fen(calc.annual_rent(base, y, step_pct, step_years) * min(12, months - 12 * y) / 12)
                for y in range((months + 11) // 12)), D(0))
    assert sum(i.amount for i in s) == owed
    assert all(i.amount >= 0 and i.amount == i.amount.quantize(D("0.01")) for i in s)
    if frequency != "one_off":
        assert s[0].period_start == start and s[-1].period_end == end
        assert all(a.period_end == b.period_start for a, b in zip(s, s[1:]))


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**10), life=st.integers(min_value=1, max_value=600),
       rate=st.sampled_from([D(0), D("0.03"), D("0.05"), D("0.1")]),
       acquired=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_depreciation_totals_the_depreciable_amount_exactly_then_stops(cents, life, rate, acquired):
    cost = D(cents) / 100
    y, m = calc.first_depreciation_month(acquired)
    charged, last = D(0), None
    for k in range(life + 2):
        yy, mm = divmod(m - 1 + k, 12)
        c = calc.depreciation_for_month(cost, rate, life, acquired, charged, y + yy, mm + 1)
        assert c >= 0
        charged += c
        if c:
            last = k
    assert charged == calc.depreciable(cost, rate)
    assert last is None or last <= life - 1  # nothing after the life


def test_a_contract_past_its_term_expires_at_the_next_accrual_run(real_books):
    b = real_books
    c = _lease(b, end_date=dt.date(2025, 3, 31), step_rate=D(0), step_years=0)
    sanzi.accrue_due(b.org, on=dt.date(2025, 3, 31), user=b.accountant)
    db.session.refresh(c)
    assert c.status == "effective"
    sanzi.accrue_due(b.org, on=dt.date(2025, 4, 1), user=b.accountant)
    db.session.refresh(c)
    assert c.status == "expired"
    assert "contract_expiring" not in _codes(b, dt.date(2025, 4, 1))


def test_two_inventory_postings_at_once_write_one_voucher(app, real_books):
    """盘亏 of the 10,000.00 tractor (accumulated 8,142.84 over its 7 months) posted twice at once: one voucher,
    the second is told the inventory is posted — never 20,000.00 out of 固定资产."""
    from coop.models import Inventory, Organization, User

    b = real_books
    a = _buy_asset(b, life=7)
    for m in range(7, 13):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    inv = sanzi.start_inventory(b.org, 2025, user=b.accountant)
    for item in inv.items:
        sanzi.count_item(item, result="missing" if item.asset_id == a.id else "present", user=b.accountant)
    db.session.commit()
    org_id, user_id, before = b.org.id, b.accountant.id, db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))

    def post():
        sanzi.post_inventory(sanzi.get_inventory(db.session.get(Organization, org_id), 2025),
                             user=db.session.get(User, user_id))

    errors = _race(app, 2, post)
    assert [str(e) for e in errors] == ["清查已过账"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before + 1
    v = db.session.get(Voucher, db.session.scalar(sa.select(Inventory.voucher_id)))
    assert sorted((l.account.code[:3], l.debit, l.credit) for l in v.lines) == sorted([
        ("181", D("1857.16"), D(0)), ("152", D("8142.84"), D(0)), ("151", D(0), D("10000.00"))])


def test_an_asset_disposed_after_the_count_began_is_not_written_off_again(real_books):
    """The tractor (10,000.00) is sold at its net book value 1,857.16 on 20 December after the 清查 list was made; counted 盘亏 by mistake, the
    posting is refused naming it — 固定资产 is not credited 10,000.00 a second time."""
    b = real_books
    a = _buy_asset(b, life=7)
    for m in range(7, 13):
        sanzi.depreciate_month(b.org, 2025, m, b.accountant)
    inv = sanzi.start_inventory(b.org, 2025, user=b.accountant)
    sanzi.dispose_asset(a, date=dt.date(2025, 12, 20), proceeds=D("1857.16"), user=b.accountant)
    for item in inv.items:
        sanzi.count_item(item, result="missing", user=b.accountant)
    with pytest.raises(ValidationFailed) as exc:
        sanzi.post_inventory(inv, user=b.accountant)
    assert "GD-001 拖拉机" in exc.value.errors["items"][0] and "2025-12-20" in exc.value.errors["items"][0]
    assert inv.status == "counting" and inv.voucher_id is None


def test_a_card_is_disposed_only_after_its_disposal_month_is_depreciated(real_books):
    """当月减少当月照提: the tractor (10,000.00, 7 months) sold 20 December with July–November charged (5 × 1,357.14
    = 6,785.70) is refused until December's 1,357.14 is charged; then 累计折旧 8,142.84 leaves with it and the
    price of 1,857.16 (its net book value) clears 154."""
    b = real_books
    a = _buy_asset(b, life=7)
    for m in range(7, 12):
        _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, m, b.accountant).voucher_id))
    with pytest.raises(ValidationFailed) as exc:
        sanzi.dispose_asset(a, date=dt.date(2025, 12, 20), proceeds=D("3214.30"), user=b.accountant)
    assert "2025年12月" in exc.value.errors["date"][0]
    assert a.disposed_date is None and sanzi.accumulated(a) == D("6785.70")
    sanzi.depreciate_month(b.org, 2025, 12, b.accountant)
    v = sanzi.dispose_asset(a, date=dt.date(2025, 12, 20), proceeds=D("1857.16"), user=b.accountant)
    assert sorted((l.account.code[:3], l.debit, l.credit) for l in v.lines) == sorted([
        ("154", D("1857.16"), D(0)), ("152", D("8142.84"), D(0)), ("151", D(0), D("10000.00")),
        ("102", D("1857.16"), D(0)), ("154", D(0), D("1857.16"))])
