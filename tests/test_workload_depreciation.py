"""工作量法 (units-of-production) depreciation (RULES §14): the pure charge with worked numbers, the monthly workload
records, the run's voucher with both methods, the cap at the end, the refusals, the lock, the page and the API —
on real village books (2-2-2 and 3-3)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings, strategies as st

from coop.core.errors import CoopError, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.ledger import assets as calc
from coop.models import AssetWorkload, Voucher
from coop.services import sanzi
from tests.conftest import count
from tests.realbooks import real_books  # noqa: F401
from tests.test_sanzi import _post, _race

D = Decimal
BOUGHT = dt.date(2025, 6, 15)


def _charge(workload, used="0", accumulated="0.00", cost="60000.00", rate="0.05", total="10000", y=2025, m=7):
    return calc.workload_depreciation_for_month(D(cost), D(rate), D(total), BOUGHT, D(used), D(workload),
                                                D(accumulated), y, m)


# ---------------------------------------------------------------- the charge (pure)


def test_tractor_570_hours_of_10000_charges_3249():
    # 60,000.00 × (1 − 5%) = 57,000.00 to depreciate; ÷ 10,000 hours = 5.70 an hour; × 570 hours = 3,249.00
    assert _charge("570") == D("3249.00")
    assert _charge("0") == D("0")  # an idle month charges nothing
    assert _charge("570", m=6) == D("0")  # the month of acquisition: nothing (当月增加当月不提)
    assert _charge("570", y=2026, m=1) == D("3249.00")


def test_rounding_half_up_to_the_fen():
    # 9,500.00 over 7,000 km, 1,234.5 km: 9,500 × 1,234.5 / 7,000 = 1,675.392857… → 1,675.39
    assert _charge("1234.5", cost="10000.00", total="7000") == D("1675.39")
    # 1,000.00 with no residual over 1,000 units, 0.005 units: exactly half a fen → 0.01 (ROUND_HALF_UP, not even)
    assert _charge("0.005", cost="1000.00", rate="0", total="1000") == D("0.01")
    assert _charge("0.0049", cost="1000.00", rate="0", total="1000") == D("0.00")


def test_the_month_reaching_the_total_takes_what_is_left_and_nothing_after():
    # 4,000 + 4,000 hours: 22,800.00 each; then 2,500 hours reach (and pass) 10,000: only 57,000 − 45,600 = 11,400.00
    # is left, not 2,500 × 5.70 = 14,250.00
    assert _charge("4000") == D("22800.00")
    assert _charge("4000", used="4000", accumulated="22800.00", m=8) == D("22800.00")
    assert _charge("2500", used="8000", accumulated="45600.00", m=9) == D("11400.00")
    assert _charge("100", used="10500", accumulated="57000.00", m=10) == D("0")
    # 9,500.00 over 3 units, one a month: 3,166.67, 3,166.67, then the remainder 3,166.66 — exactly 9,500.00
    got, acc = [], D(0)
    for k in range(3):
        c = _charge("1", used=str(k), accumulated=str(acc), cost="10000.00", total="3", m=7 + k)
        got.append(c)
        acc += c
    assert got == [D("3166.67"), D("3166.67"), D("3166.66")] and acc == D("9500.00")
    # opening (imported) depreciation counts: 56,000.00 already charged leaves 1,000.00 for 570 hours' 3,249.00
    assert _charge("570", used="0", accumulated="56000.00") == D("1000.00")


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**10), rate=st.sampled_from([D(0), D("0.03"), D("0.05"), D("0.1")]),
       total=st.integers(min_value=1, max_value=10**8),
       shares=st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=60),
       reach=st.booleans())
def test_charges_sum_to_at_most_the_depreciable_amount_and_exactly_once_the_total_is_reached(
        cents, rate, total, shares, reach):
    cost, total_w = D(cents) / 100, D(total) / 10000
    workloads = [D(s) / 10000 for s in shares]
    if reach and sum(workloads) < total_w:
        workloads.append(total_w - sum(workloads) + D(shares[0]) / 10000)  # the last month reaches or passes it
    used, acc = D(0), D(0)
    for k, w in enumerate(workloads):
        y, m = divmod(6 + k, 12)
        c = calc.workload_depreciation_for_month(cost, rate, total_w, BOUGHT, used, w, acc, 2025 + y, m + 1)
        assert c >= 0 and c == c.quantize(D("0.01"))
        used += w
        acc += c
        assert acc <= calc.depreciable(cost, rate)
    if used >= total_w:
        assert acc == calc.depreciable(cost, rate)


# ---------------------------------------------------------------- cards, records and runs (both databases)


def _buy(b, *, number="GD-TLJ", cost="60000.00", total="10000", unit="小时", use="production", date=BOUGHT,
         opening="0.00"):
    v = _post(b, b.draft(date, ("151", cost, ""), (b.leaf("102", 1), "", cost), summary="购入拖拉机"))
    return sanzi.register_asset(b.org, dict(number=number, name="拖拉机", category="fixed", use=use, acquired_date=date,
                                            cost=D(cost), residual_rate=D("0.05"), method="workload",
                                            total_workload=D(total), workload_unit=unit,
                                            opening_depreciation=D(opening)), user=b.accountant, voucher=v)


def _straight(b, number="GD-LK", cost="12000.00", life=60):
    v = _post(b, b.draft(BOUGHT, ("151", cost, ""), (b.leaf("102", 1), "", cost), summary="购入冷库设备"))
    return sanzi.register_asset(b.org, dict(number=number, name="冷库设备", category="fixed", use="admin",
                                            acquired_date=BOUGHT, cost=D(cost), life_months=life,
                                            residual_rate=D("0.05")), user=b.accountant, voucher=v)


def _record(b, a, m, q, y=2025):
    return sanzi.record_workloads(b.org, y, m, [{"asset_id": a.id, "quantity": D(q)}], user=b.accountant)


def test_a_month_with_both_methods_is_one_voucher_by_use(real_books):
    b = real_books
    tractor = _buy(b)
    cold = _straight(b)  # 12,000 × 95% / 60 = 190.00 a month to 管理费用
    assert (tractor.method, tractor.total_workload, tractor.workload_unit, tractor.life_months) == (
        "workload", D("10000.0000"), "小时", 0)
    assert cold.method == "straight" and cold.total_workload is None
    # July without a workload: the tractor charges nothing and the sheet says so
    sheet = sanzi.depreciation_sheet(b.org, 2025, 7)
    assert [a.number for a in sheet.missing] == ["GD-TLJ"] and sheet.total == D("190.00")
    assert _record(b, tractor, 7, "570") == 1
    sheet = sanzi.depreciation_sheet(b.org, 2025, 7)
    assert sheet.missing == [] and [(l.asset.number, l.workload, l.charge) for l in sheet.lines] == [
        ("GD-LK", None, D("190.00")), ("GD-TLJ", D("570.0000"), D("3249.00"))]
    run = sanzi.depreciate_month(b.org, 2025, 7, b.accountant)
    v = db.session.get(Voucher, run.voucher_id)
    assert run.total == D("3439.00") and v.date == dt.date(2025, 7, 31)
    # Dr 生产成本 3,249.00 (the tractor's use), Dr 管理费用 190.00 / Cr 累计折旧 3,439.00
    assert sorted((l.account.code[:3], l.debit, l.credit) for l in v.lines) == [
        ("152", D(0), D("3439.00")), ("401", D("3249.00"), D(0)), ("513", D("190.00"), D(0))]
    _post(b, v)
    db.session.commit()
    assert sanzi.accumulated(tractor) == D("3249.00") and sanzi.used_workload(tractor) == D("570.0000")
    assert sanzi.used_workload(cold) is None
    assert [r.ok for r in sanzi.reconcile(b.org, dt.date(2025, 8, 1))] == [True]
    # once run, the month's workload is fixed
    with pytest.raises(InvalidState, match="2025年7月折旧已计提，不能再修改该月工作量"):
        _record(b, tractor, 7, "600")
    assert db.session.scalar(sa.select(AssetWorkload.quantity)) == D("570.0000")
    # nor a month before a run: September run (the cold store), August can no longer change what it counted
    sanzi.depreciate_month(b.org, 2025, 9, b.accountant)
    with pytest.raises(InvalidState, match="2025年9月折旧已计提，不能再登记此前月份的工作量"):
        _record(b, tractor, 8, "10")


def test_the_tractor_is_fully_depreciated_when_the_hours_reach_the_total(real_books):
    b = real_books
    tractor = _buy(b)
    for m, hours in ((7, "4000"), (8, "4000"), (9, "0"), (10, "2500")):
        _record(b, tractor, m, hours)
        run = sanzi.depreciate_month(b.org, 2025, m, b.accountant)
        if run:
            _post(b, db.session.get(Voucher, run.voucher_id))
    # 22,800.00 + 22,800.00 + nothing in the idle September + the rest, 11,400.00 (not 14,250.00)
    runs = [sanzi.depreciation_run(b.org, 2025, m) for m in (7, 8, 9, 10)]
    assert [r and r.total for r in runs] == [D("22800.00"), D("22800.00"), None, D("11400.00")]
    assert sanzi.accumulated(tractor) == D("57000.00") and sanzi.used_workload(tractor) == D("10500.0000")
    # fully depreciated: out of November, so no workload is asked for
    sheet = sanzi.depreciation_sheet(b.org, 2025, 11)
    assert sheet.lines == [] and sheet.missing == []
    _record(b, tractor, 11, "300")
    assert sanzi.depreciate_month(b.org, 2025, 11, b.accountant) is None
    db.session.commit()
    assert sanzi.reconcile(b.org, dt.date(2025, 12, 1)) == [sanzi.Reconciliation(
        "fixed", D("60000.00"), D("60000.00"), D("57000.00"), D("57000.00"))]


def test_refusals_of_cards_and_records_leave_the_books_unchanged(real_books):
    b = real_books
    base = dict(number="GD-X", name="收割机", category="fixed", acquired_date=BOUGHT, cost=D("80000.00"),
                method="workload")
    with pytest.raises(ValidationFailed) as exc:
        sanzi.register_asset(b.org, base, user=b.accountant)
    assert exc.value.errors["total_workload"] == ["工作量法须填写预计总工作量（大于零）"]
    assert exc.value.errors["workload_unit"] == ["工作量法须填写工作量单位，如小时、公里、台班"]
    assert "life_months" not in exc.value.errors  # 工作量法 has no life in months
    with pytest.raises(ValidationFailed) as exc:
        sanzi.register_asset(b.org, {**base, "category": "land", "total_workload": D(1), "workload_unit": "亩"},
                             user=b.accountant)
    assert "method" in exc.value.errors
    tractor, cold = _buy(b), _straight(b)
    db.session.commit()

    def refused(m, items, y=2025):
        with pytest.raises(CoopError) as exc:
            sanzi.record_workloads(b.org, y, m, items, user=b.accountant)
        db.session.rollback()
        return exc.value

    e = refused(6, [{"asset_id": tractor.id, "quantity": D(5)}])
    assert e.errors == {"workloads": {0: {"asset_id": ["资产 GD-TLJ 于 2025-06-15 取得，当月不提折旧，从次月起登记工作量"]}}}
    e = refused(7, [{"asset_id": tractor.id, "quantity": D(5)}, {"asset_id": cold.id, "quantity": D(5)}])
    assert e.errors == {"workloads": {1: {"asset_id": ["资产 GD-LK 按年限平均法折旧，不登记工作量"]}}}
    e = refused(7, [{"asset_id": tractor.id, "quantity": D(5)}, {"asset_id": tractor.id, "quantity": D(6)}])
    assert e.errors["workloads"][1]["asset_id"] == ["资产 GD-TLJ 重复填写"]
    e = refused(7, [{"asset_id": 10**6, "quantity": D(5)}])
    assert e.errors["workloads"][0]["asset_id"] == ["找不到该资产"]
    e = refused(7, [{"asset_id": tractor.id, "quantity": D(5)}], y=2099)
    assert "month" in e.errors
    b.close_through(2025, 7)
    e = refused(7, [{"asset_id": tractor.id, "quantity": D(5)}])
    assert "2025年7月已结账" in e.message
    assert count(AssetWorkload) == 0
    # an open month: recorded, then corrected before the run (the second record replaces the first)
    _record(b, tractor, 8, "100")
    _record(b, tractor, 8, "120.5")
    db.session.commit()
    assert [(w.month, w.quantity) for w in db.session.scalars(sa.select(AssetWorkload))] == [(8, D("120.5000"))]


def test_a_workload_card_is_disposed_only_after_its_disposal_month_is_depreciated(real_books):
    b = real_books
    tractor = _buy(b)
    _record(b, tractor, 7, "570")
    with pytest.raises(ValidationFailed, match="请先计提2025年7月折旧"):
        sanzi.dispose_asset(tractor, date=dt.date(2025, 7, 20), user=b.accountant)
    sanzi.depreciate_month(b.org, 2025, 7, b.accountant)
    v = sanzi.dispose_asset(tractor, date=dt.date(2025, 7, 20), proceeds=D("56751.00"), user=b.accountant,
                            bank_account=b.leaf("102", 1))
    assert ("152", D("3249.00"), D(0)) in [(l.account.code[:3], l.debit, l.credit) for l in v.lines]


def test_a_record_and_a_run_at_once_never_interleave(app, real_books):
    """July's 570 hours are recorded; then at once one thread corrects them to 600 and another runs July. Both take
    the organization's lock: either the correction goes first and the run charges 600 × 5.70 = 3,420.00, or the
    run goes first (3,249.00) and the correction is refused — never a run beside a workload it did not charge."""
    import threading

    from coop.models import DepreciationRun, Organization, User

    b = real_books
    tractor = _buy(b)
    _record(b, tractor, 7, "570")
    db.session.commit()
    org_id, user_id, asset_id = b.org.id, b.accountant.id, tractor.id

    def record():
        sanzi.record_workloads(db.session.get(Organization, org_id), 2025, 7,
                               [{"asset_id": asset_id, "quantity": D(600)}], user=db.session.get(User, user_id))

    def run():
        sanzi.depreciate_month(db.session.get(Organization, org_id), 2025, 7, db.session.get(User, user_id))

    errors, barrier = [], threading.Barrier(2)

    def go(work):
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

    threads = [threading.Thread(target=go, args=(w,)) for w in (record, run)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    db.session.expire_all()
    stored = db.session.scalar(sa.select(AssetWorkload.quantity))
    [r] = db.session.scalars(sa.select(DepreciationRun)).all()
    assert (stored, r.total) in ((D("600.0000"), D("3420.00")), (D("570.0000"), D("3249.00")))
    assert [type(e) for e in errors] == ([] if stored == 600 else [InvalidState])
    # two records of August at once write one row
    assert _race(app, 2, lambda: sanzi.record_workloads(
        db.session.get(Organization, org_id), 2025, 8, [{"asset_id": asset_id, "quantity": D(10)}],
        user=db.session.get(User, user_id))) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssetWorkload).where(
        AssetWorkload.month == 8)) == 1


def test_import_workload_cards_from_xlsx(real_books):
    from tests.test_sanzi import _xlsx

    b = real_books
    head = ["资产编号", "名称", "类别", "取得日期", "原值", "残值率", "折旧方法", "预计总工作量", "工作量单位"]
    with pytest.raises(ValidationFailed) as exc:
        sanzi.import_register(b.org, "assets", _xlsx([head, ["GD-1", "收割机", "固定资产", "2025-03-31", "80000.00",
                                                             "0.05", "工作量法", "", "小时"]]),
                              user=b.accountant, dry_run=False)
    assert exc.value.errors["rows"] == {"2": ["total_workload: 工作量法须填写预计总工作量（大于零）"]}
    sanzi.import_register(b.org, "assets", _xlsx([head, ["GD-1", "收割机", "固定资产", "2025-03-31", "80000.00", "0.05",
                                                         "工作量法", "2400.5", "台班"]]), user=b.accountant,
                          dry_run=False)
    [a] = sanzi.list_assets(b.org)
    assert (a.method, a.total_workload, a.workload_unit, a.life_months) == ("workload", D("2400.5000"), "台班", 0)


# ---------------------------------------------------------------- the API and the pages


def test_api_card_workloads_preview_and_run(app, real_books):
    from tests.test_sanzi_web_api import _api

    b = real_books
    api = _api(app, b.accountant)
    o = b.org.id
    card = {"number": "GD-TLJ", "name": "拖拉机", "acquired_date": "2025-06-15", "cost": "60000.00",
            "residual_rate": "0.05", "use": "production", "method": "workload"}
    r = api("POST", f"/orgs/{o}/assets", card)
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"total_workload", "workload_unit"}
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": "10000.12345", "workload_unit": "小时"})
    assert r.status_code == 422 and r.get_json()["errors"] == {"total_workload": ["预计总工作量最多保留4位小数"]}
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": 10000, "workload_unit": "小时"})
    assert r.status_code == 422 and "total_workload" in r.get_json()["errors"]  # a JSON number is refused
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": "0", "workload_unit": "小时"})
    assert r.get_json()["errors"] == {"total_workload": ["预计总工作量必须大于零"]}
    r = api("POST", f"/orgs/{o}/assets", {**card, "method": "sum_of_years", "total_workload": "1", "workload_unit": "h"})
    assert r.get_json()["errors"] == {"method": ["折旧方法无效"]}
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": "10000", "workload_unit": "小时" * 6})
    assert r.get_json()["errors"] == {"workload_unit": ["工作量单位最多10个字，如小时、公里、台班"]}
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": "NaN", "workload_unit": "小时"})
    assert r.get_json()["errors"] == {"total_workload": ["预计总工作量格式不正确"]} and count(sanzi.Asset) == 0
    r = api("POST", f"/orgs/{o}/assets", {**card, "total_workload": "10000", "workload_unit": "小时"})
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert (got["method"], got["total_workload"], got["workload_unit"], got["used_workload"]) == (
        "workload", "10000.0000", "小时", "0.0000")
    aid = got["id"]
    # the preview names the asset without a workload
    p = api("GET", f"/orgs/{o}/depreciation?year=2025&month=7").get_json()
    assert p["missing_workload"] == [aid] and p["total"] == "0.00" and p["run"] is False
    assert p["lines"] == [{"asset_id": aid, "number": "GD-TLJ", "name": "拖拉机", "method": "workload",
                           "workload": None, "workload_unit": "小时", "charge": "0.00"}]
    assert api("GET", f"/orgs/{o}/depreciation?year=2025&month=13").status_code == 422
    from coop.core import clock

    now = api("GET", f"/orgs/{o}/depreciation").get_json()  # no month given: this month, Beijing time
    assert (now["year"], now["month"], now["missing_workload"]) == (clock.today().year, clock.today().month, [aid])
    # refusals with field paths, nothing written
    r = api("POST", f"/orgs/{o}/depreciation/workloads",
            {"year": 2025, "month": 7, "workloads": [{"asset_id": aid, "quantity": "-1"}]})
    assert r.status_code == 422 and r.get_json()["errors"] == {
        "workloads": {"0": {"quantity": ["实际工作量不能为负数"]}}}
    r = api("POST", f"/orgs/{o}/depreciation/workloads",
            {"year": 2025, "month": 6, "workloads": [{"asset_id": aid, "quantity": "5"}]})
    assert r.status_code == 422 and "asset_id" in r.get_json()["errors"]["workloads"]["0"]
    assert api("POST", f"/orgs/{o}/depreciation/workloads", {"year": 2025, "month": 7, "workloads": []}
               ).get_json()["errors"] == {"workloads": ["请填写至少一项工作量"]}
    assert count(AssetWorkload) == 0
    aud = _api(app, b.auditor)
    assert aud("POST", f"/orgs/{o}/depreciation/workloads",
               {"year": 2025, "month": 7, "workloads": [{"asset_id": aid, "quantity": "570"}]}).status_code == 403
    r = api("POST", f"/orgs/{o}/depreciation/workloads",
            {"year": 2025, "month": 7, "workloads": [{"asset_id": aid, "quantity": "570"}]})
    assert r.status_code == 200 and r.get_json()["total"] == "3249.00" and r.get_json()["missing_workload"] == []
    r = api("POST", f"/orgs/{o}/depreciation", {"year": 2025, "month": 7})
    assert r.get_json()["total"] == "3249.00" and r.get_json()["assets"] == 1
    assert api("GET", f"/orgs/{o}/depreciation?year=2025&month=7").get_json()["run"] is True
    r = api("POST", f"/orgs/{o}/depreciation/workloads",
            {"year": 2025, "month": 7, "workloads": [{"asset_id": aid, "quantity": "600"}]})
    assert r.status_code == 409
    got = api("GET", f"/orgs/{o}/assets/{aid}").get_json()
    assert (got["used_workload"], got["accumulated"], got["net_value"]) == ("570.0000", "3249.00", "56751.00")


def test_pages_form_workloads_and_run(app, real_books, auth):
    from tests.test_loans_web import text

    b = real_books
    web = auth.browser("kuaiji")
    o = b.org.id
    form = {"number": "GD-TLJ", "name": "拖拉机", "acquired_date": "2025-06-15", "cost": "60000.00",
            "residual_rate": "0.05", "use": "production", "method": "workload", "total_workload": "",
            "workload_unit": "", "life_months": ""}
    r = web.post(f"/o/{o}/sanzi/assets/new", data=form)
    page = text(r)
    assert r.status_code == 422 and count(sanzi.Asset) == 0
    assert "工作量法须填写预计总工作量（大于零）" in page and "工作量法须填写工作量单位，如小时、公里、台班" in page
    assert web.post(f"/o/{o}/sanzi/assets/new", data={**form, "total_workload": "10000",
                                                       "workload_unit": "小时"}).status_code == 302
    assert web.post(f"/o/{o}/sanzi/assets/new", data={"number": "GD-LK", "name": "冷库设备", "acquired_date": "2025-06-15",
                                                       "cost": "12000.00", "life_months": "60"}).status_code == 302
    tractor = db.session.scalar(sa.select(sanzi.Asset).where(sanzi.Asset.number == "GD-TLJ"))
    page = text(web.get(f"/o/{o}/sanzi/"))
    assert "工作量法" in page and "0 / 10,000 小时" in page
    url = f"/o/{o}/sanzi/depreciation/2025/7"
    page = text(web.get(url))
    assert "以下工作量法资产本月尚未登记实际工作量" in page and "190.00" in page  # the cold store: 11,400 / 60
    r = web.post(url, data={f"workload-{tractor.id}": "57.12345"})
    assert r.status_code == 422 and "实际工作量最多保留4位小数" in text(r) and count(AssetWorkload) == 0
    r = web.post(url, data={f"workload-{tractor.id}": "570"})
    assert r.status_code == 302
    page = text(web.get(url))
    assert "以下工作量法资产本月尚未登记实际工作量" not in page and "3,249.00" in page and "3,439.00" in page
    assert web.post(f"/o/{o}/sanzi/depreciation", data={"year": "2025", "month": "7", "back": "month"}
                    ).headers["Location"].endswith(url)
    page = text(web.get(url))
    assert "本月折旧已计提：3,439.00 元。" in page and f'name="workload-{tractor.id}"' not in page
    r = web.post(url, data={f"workload-{tractor.id}": "600"})
    assert r.status_code == 409 and "2025年7月折旧已计提，不能再修改该月工作量" in text(r)
    assert "570 / 10,000 小时" in text(web.get(f"/o/{o}/sanzi/"))
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(web.get(f"/o/{o}/sanzi/assets.xlsx").data)).active
    rows = {r[0]: r for r in ws.iter_rows(values_only=True)}
    assert rows["GD-TLJ"][4] == "工作量法 570/10,000 小时" and rows["GD-LK"][4] == "年限平均法"
    assert web.get(f"/o/{o}/sanzi/depreciation/2025/13").status_code == 404
    aud = auth.browser("jingguan")
    assert aud.post(url, data={f"workload-{tractor.id}": "1"}).status_code == 403


def test_a_disposal_and_a_month_s_workload_and_run_at_once_agree(app, real_books):
    """The tractor's July is recorded idle (0 hours) so far, so a disposal on 20 July is allowed. At once: one
    thread records 570 hours and runs July, another disposes of the tractor. Under the run's lock either the run comes first (3,249.00
    charged, and the disposal takes that 累计折旧 out with the card) or the disposal does (nothing accumulated, and
    the record is refused for a disposed card) — never a run charging a card the disposal already cleared."""
    import threading

    from coop.models import Asset, DepreciationRun, Organization, User

    from coop.ledger import roles as R
    from coop.services import roles

    b = real_books
    roles.set_mapping(b.org, R.OTHER_EXPENSE, b.leaf("515", 2), user=b.accountant)  # the loss; 515 has 明细 here
    tractor = _buy(b)
    _record(b, tractor, 7, "0")
    db.session.commit()
    org_id, user_id, asset_id = b.org.id, b.accountant.id, tractor.id

    def record_and_run():
        org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
        sanzi.record_workloads(org, 2025, 7, [{"asset_id": asset_id, "quantity": D(570)}], user=user)
        sanzi.depreciate_month(org, 2025, 7, user)

    def dispose():
        sanzi.dispose_asset(db.session.get(Asset, asset_id), date=dt.date(2025, 7, 20), proceeds=D("50000.00"),
                            user=db.session.get(User, user_id), bank_account=b.leaf("102", 1))

    errors, barrier = [], threading.Barrier(2)

    def go(work):
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

    threads = [threading.Thread(target=go, args=(w,)) for w in (record_and_run, dispose)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    db.session.expire_all()
    a = db.session.get(Asset, asset_id)
    assert a.disposed_date == dt.date(2025, 7, 20), errors
    runs = db.session.scalars(sa.select(DepreciationRun)).all()
    disposal = db.session.get(Voucher, a.disposal_voucher_id)
    cleared = sum((l.debit for l in disposal.lines if l.account.code[:3] == "152"), D(0))
    if runs:  # the run first: the disposal clears exactly what it charged
        assert errors == [] and [r.total for r in runs] == [D("3249.00")] and cleared == D("3249.00")
    else:  # the disposal first: the record is refused, nothing charged
        assert cleared == 0 and [type(e) for e in errors] == [ValidationFailed]
        assert db.session.scalars(sa.select(AssetWorkload.quantity)).all() == [D("0.0000")]  # still idle


def test_a_workload_card_is_not_disposed_before_its_disposal_month_s_workload_is_recorded(real_books):
    """当月减少当月照提 by the month's hours: sold on 20 August with August's hours not yet recorded, the tractor
    would leave the books without the month's charge (it would land in the loss on disposal, and August could
    never take it: a disposed card records no workload). The disposal asks for the workload first (0 when idle);
    then 430 hours charge 57,000 × 430 / 10,000 = 2,451.00 and the card leaves at 60,000 − 3,249 − 2,451 = 54,300.00,
    sold for that."""
    b = real_books
    tractor = _buy(b)
    _record(b, tractor, 7, "570")
    _post(b, db.session.get(Voucher, sanzi.depreciate_month(b.org, 2025, 7, b.accountant).voucher_id))
    db.session.commit()
    with pytest.raises(ValidationFailed, match="请先登记2025年8月"):
        sanzi.dispose_asset(tractor, date=dt.date(2025, 8, 20), proceeds=D("54300.00"), user=b.accountant,
                            bank_account=b.leaf("102", 1))
    _record(b, tractor, 8, "430")
    with pytest.raises(ValidationFailed, match="请先计提2025年8月折旧"):
        sanzi.dispose_asset(tractor, date=dt.date(2025, 8, 20), user=b.accountant)
    assert sanzi.depreciate_month(b.org, 2025, 8, b.accountant).total == D("2451.00")
    v = sanzi.dispose_asset(tractor, date=dt.date(2025, 8, 20), proceeds=D("54300.00"), user=b.accountant,
                            bank_account=b.leaf("102", 1))
    assert ("152", D("5700.00"), D(0)) in [(l.account.code[:3], l.debit, l.credit) for l in v.lines]  # 3,249 + 2,451
