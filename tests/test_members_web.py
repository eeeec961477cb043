"""Member, household, plan and register pages: each happy path with worked numbers, and every bad input shown
beside its field with nothing written.

Web pages use the real date, so event dates here lie in 2025 (after the 基准日 2024-12-31, before today)."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from stdnum.cn import ric
from werkzeug.security import generate_password_hash

from coop.core.extensions import db
from coop.models import (Household, Member, MembershipEvent, QuantificationPlan, ShareAction, ShareCertificate,
                         Voucher)
from coop.services import members, shares, users
from tests.conftest import count

BASE = dt.date(2024, 12, 31)
FIXTURE_TODAY = dt.date(2026, 1, 1)


def make_id(birth: str, seq: int) -> str:
    """A valid 18-digit 身份证号 (Beijing 朝阳 area code) born on `birth` (YYYYMMDD)."""
    base = f"110105{birth}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def bad_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


IDS = [make_id("19491231", 2), make_id("19500315", 4), make_id("19750601", 1), make_id("19780708", 4),
       make_id("20000101", 6), make_id("19600202", 3), make_id("19850303", 2), make_id("19910404", 5),
       make_id("19920505", 7), make_id("19930606", 8)]


def D(x) -> Decimal:
    return Decimal(x)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def people(books):
    """Two households of confirmed members: 张 (3 people) and 李 (2 people)."""
    org, user = books.org, books.accountant
    h1, h2 = members.create_household(org, address="东村一组"), members.create_household(org, address="东村二组")
    ps = [
        members.add_member(h1, name="张大山", id_number=IDS[0], relation="户主"),
        members.add_member(h1, name="王秀英", id_number=IDS[1], relation="配偶"),
        members.add_member(h1, name="张小明", id_number=IDS[2], relation="子"),
        members.add_member(h2, name="李四", id_number=IDS[3], relation="户主"),
        members.add_member(h2, name="李小红", id_number=IDS[4], relation="女"),
    ]
    for m in ps:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="2024年第1号成员大会决议",
                                        user=user, today=FIXTURE_TODAY)
    db.session.commit()
    return SimpleNamespace(books=books, org=org, p=ps, h1=h1, h2=h2)


PLAN_RULES = {"population_units": "1", "labour_units_per_year": "0.1", "labour_cap_years": 20,
              "collective_ratio": "0.2"}


@pytest.fixture
def village(people):
    """`people` with the plan issued: 5 population + 2.0 (20 capped years) + 1.4 labour = 8.4 member units;
    total 8.4 / 0.8 = 10.5 with 2.1 集体股; face value 500,000 / 10.5 = 47,619.0476. 张 5.0, 李 3.4."""
    books = people.books
    plan = shares.create_plan(people.org, name="2024年折股量化", base_date=BASE, net_assets=D("500000.00"),
                              rules=PLAN_RULES, approval_ref="2024年第2号成员大会决议", user=books.accountant)
    shares.set_member_input(plan, people.p[0], labour_start=dt.date(1990, 1, 1))
    shares.set_member_input(plan, people.p[3], labour_start=dt.date(2010, 1, 1))
    shares.issue_plan(plan, user=books.accountant)
    db.session.commit()
    people.plan = plan
    return people


@pytest.fixture
def member_user(village):
    """张大山 logs in to the member portal."""
    u = users.create_user("zhangds", "张大山", "password1")
    users.assign_role(u, "member", village.org)
    village.p[0].user_id = u.id
    db.session.commit()
    return u


def page(r) -> str:
    return r.get_data(as_text=True)


def snapshot_counts():
    return {m.__name__: count(m) for m in (Household, Member, MembershipEvent, QuantificationPlan, ShareAction,
                                            ShareCertificate, Voucher)}


# ---------------------------------------------------------------- households and members


def test_household_list_and_search(village, client, auth):
    auth.login("kuaiji")
    org = village.org
    html = page(client.get(f"/o/{org.id}/members/"))
    assert "共 2 户，5 人" in html
    assert "张大山" in html and "李四" in html
    assert "5.0000" in html and "3.4000" in html
    assert f"{org.id:04d}-0001-01" in html and f"{org.id:04d}-0002-01" in html
    html = page(client.get(f"/o/{org.id}/members/?q=李"))
    assert "李四" in html and "张大山" not in html
    html = page(client.get(f"/o/{org.id}/members/?q={IDS[2]}"))  # 张小明 by the full ID number
    assert "张大山" in html and "李四" not in html
    for part in (IDS[2][-4:], IDS[2][:-1], IDS[2][1:]):  # only the full number matches (RULES §13)
        assert "张大山" not in page(client.get(f"/o/{org.id}/members/?q={part}"))


def test_household_detail_masks_ids_for_non_accountants(village, client, auth):
    org, h1 = village.org, village.h1
    auth.login("kuaiji")
    html = page(client.get(f"/o/{org.id}/members/h/{h1.id}"))
    assert IDS[0] in html
    # holdings by class: 张大山 1 population + 2.0 labour, the others 1 each
    assert "人口股" in html and "农龄股" in html and "2.0000" in html and "5.0000" in html
    assert f"{org.id:04d}-0001-01" in html and "折股量化发行" in html
    client.post("/logout")
    auth.login("shenhe")
    html = page(client.get(f"/o/{org.id}/members/h/{h1.id}"))
    assert IDS[0] not in html and IDS[0][:6] + "*" * 8 + IDS[0][-4:] in html
    # a reviewer reads but does not write
    assert client.post(f"/o/{org.id}/members/h/{h1.id}/members/new", data={"name": "X"}).status_code == 403


def test_add_household_errors_beside_fields_and_nothing_written(people, client, books, auth):
    from coop.services import orgs

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    stranger = members.add_member(members.create_household(other), name="外村人", id_number=IDS[8], relation="户主")
    db.session.commit()
    auth.login("kuaiji")
    url = f"/o/{people.org.id}/members/new"
    before = snapshot_counts()
    r = client.post(url, data={"name": "赵六", "id_number": bad_check_digit(IDS[5])})
    assert r.status_code == 422
    assert "校验码不正确" in page(r) and 'id="e-id_number"' in page(r)
    r = client.post(url, data={"name": "赵六", "id_number": stranger.id_number})
    assert r.status_code == 422 and "已在其他集体经济组织登记，请联系乡镇经管站" in page(r)
    assert "外村人" not in page(r) and "西村" not in page(r)
    r = client.post(url, data={"id_number": IDS[5]})
    assert r.status_code == 422 and "请填写户主姓名" in page(r)
    r = client.post(url, data={"name": "赵六", "id_number": IDS[5], "number": "0001"})
    assert r.status_code == 422 and "户号 0001 已存在" in page(r)
    assert snapshot_counts() == before
    r = client.post(url, data={"name": "赵六", "id_number": IDS[5], "address": "东村三组"})
    assert r.status_code == 302
    h = db.session.scalar(sa.select(Household).where(Household.organization_id == people.org.id,
                                                     Household.number == "0003"))
    assert h.head.name == "赵六" and h.head.relation == "户主"
    assert h.head.birth_date == dt.date(1960, 2, 2) and h.head.sex == "M"


def test_add_member_duplicate_in_village(people, client, auth):
    auth.login("kuaiji")
    url = f"/o/{people.org.id}/members/h/{people.h2.id}/members/new"
    before = snapshot_counts()
    r = client.post(url, data={"name": "重复", "id_number": IDS[0], "relation": "子"})
    assert r.status_code == 422 and "已登记在本村（张大山）" in page(r)
    assert snapshot_counts() == before
    r = client.post(url, data={"name": "李小强", "id_number": IDS[6], "relation": "子"})
    assert r.status_code == 302
    assert [m.name for m in people.h2.members] == ["李四", "李小红", "李小强"]


def test_membership_events_form(people, client, auth):
    auth.login("kuaiji")
    newcomer = members.add_member(people.h2, name="新女婿", id_number=IDS[6], relation="女婿")
    db.session.commit()
    url = f"/o/{people.org.id}/members/m/{newcomer.id}"
    before = count(MembershipEvent)
    r = client.post(url, data={"kind": "benefit_granted", "date": "2025-01-05", "evidence": "2025年第1号决议",
                               "votes_for": "74", "votes_total": "100"})
    assert r.status_code == 422 and "需要 75 票，实际 74 票" in page(r)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = client.post(url, data={"kind": "confirmed", "date": tomorrow, "evidence": "决议"})
    assert r.status_code == 422 and "日期不能晚于今天" in page(r)
    r = client.post(url, data={"kind": "confirmed", "date": "2025-01-05"})
    assert r.status_code == 422 and "请填写依据" in page(r)
    assert count(MembershipEvent) == before
    r = client.post(url, data={"kind": "benefit_granted", "date": "2025-01-05", "evidence": "2025年第1号决议",
                               "votes_for": "75", "votes_total": "100"})
    assert r.status_code == 302
    db.session.refresh(newcomer)
    assert newcomer.status == "benefit"
    # loss of membership by becoming a 公务员
    r = client.post(f"/o/{people.org.id}/members/m/{people.p[4].id}",
                    data={"kind": "lost_civil_servant", "date": "2025-03-01", "evidence": "录用通知"})
    assert r.status_code == 302
    html = page(client.get(f"/o/{people.org.id}/members/m/{people.p[4].id}"))
    assert "成为公务员" in html and "已丧失成员身份" in html


# ---------------------------------------------------------------- roster import / export


def roster_csv(rows) -> bytes:
    lines = ["户号,户主,户主身份证,成员,身份证,与户主关系,联系电话"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_roster_dry_run_lists_every_problem_and_imports_nothing(people, client, auth):
    auth.login("kuaiji")
    data = roster_csv([
        ("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", ""),
        ("0101", "钱七", IDS[5], "钱小七", bad_check_digit(IDS[6]), "子", ""),  # line 3: check digit
        ("0102", "孙八", IDS[7], "孙八", IDS[7], "户主", ""),
        ("0102", "孙八", IDS[7], "孙妻", IDS[7], "配偶", ""),  # line 5: same ID as line 4
        ("0103", "王五", IDS[9], "王小五", IDS[8], "子", ""),  # line 6: the head is not in the file
        ("0104", "张大山", IDS[0], "张大山", IDS[0], "户主", ""),  # line 7: already on this village's roster
    ])
    before = snapshot_counts()
    r = client.post(f"/o/{people.org.id}/members/import", data={"file": (io.BytesIO(data), "名册.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    html = page(r)
    assert "未导入任何数据" in html
    assert "身份证：身份证号 " + bad_check_digit(IDS[6]) + " 无效：校验码不正确" in html
    assert f"身份证号 {IDS[7]} 与第 4 行重复" in html
    assert f"户主 王五（{IDS[9]}）不在名册中" in html
    assert f"身份证号 {IDS[0]} 本村已登记（张大山）" in html
    for line in (3, 5, 6, 7):
        assert f'<td class="num">{line}</td>' in html
    assert snapshot_counts() == before


def test_roster_clean_file_imports_with_confirmation(people, client, auth):
    auth.login("kuaiji")
    data = roster_csv([
        ("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", "13800000000"),
        ("0101", "钱七", IDS[5], "钱小七", IDS[6], "子", ""),
        ("", "孙八", IDS[7], "孙八", IDS[7], "户主", ""),
    ])
    url = f"/o/{people.org.id}/members/import"
    r = client.post(url, data={"file": (io.BytesIO(data), "名册.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200
    html = page(r)
    assert "检查通过：2 户，3 人" in html
    assert count(Member) == 5
    import re

    carried = re.search(r'name="data" value="([^"]+)"', html).group(1)
    # a confirmation date without the 成员大会 reference is refused, nothing imported
    r = client.post(url, data={"step": "import", "data": carried, "filename": "名册.csv", "confirm_date": "2025-02-01"})
    assert r.status_code == 422 and "确认成员身份须填写成员大会决议编号" in page(r)
    assert count(Member) == 5
    r = client.post(url, data={"step": "import", "data": carried, "filename": "名册.csv", "confirm_date": "2025-02-01",
                               "evidence": "2025年第1号成员大会决议"})
    assert r.status_code == 302
    qian = db.session.scalar(sa.select(Member).where(Member.id_number == IDS[5]))
    assert qian.household.number == "0101" and qian.household.head_id == qian.id and qian.phone == "13800000000"
    assert qian.status == "member" and qian.events[0].evidence == "2025年第1号成员大会决议"
    sun = db.session.scalar(sa.select(Member).where(Member.id_number == IDS[7]))
    assert sun.household.number == "0102"  # numbered after the highest 户号


def test_roster_export_xlsx_in_import_layout(people, client, auth):
    from openpyxl import load_workbook

    auth.login("kuaiji")
    r = client.get(f"/o/{people.org.id}/members/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]
    assert tuple(rows[0]) == members.ROSTER_COLUMNS
    assert rows[1][:6] == ["0001", "张大山", IDS[0], "张大山", IDS[0], "户主"]
    assert rows[3][3:6] == ["张小明", IDS[2], "子"] and rows[3][9] == "成员"
    # the export reads back as a roster with the same people
    records = members.read_roster(r.data, "x.xlsx")
    assert [(x["成员"], x["身份证"], x["与户主关系"]) for x in records] == [
        (m.name, m.id_number, m.relation) for m in people.p]
    client.post("/logout")
    auth.login("shenhe")
    assert client.get(f"/o/{people.org.id}/members/export.xlsx").status_code == 403


# ---------------------------------------------------------------- plans


PLAN_FORM = {"name": "2024年折股量化", "base_date": "2024-12-31", "net_assets": "500000.00",
             "population_units": "1", "labour_units_per_year": "0.1", "labour_cap_years": "20",
             "collective_ratio": "0.2"}


def test_plan_collective_over_30_percent_needs_override(people, client, auth):
    auth.login("kuaiji")
    url = f"/o/{people.org.id}/shares/plans/new"
    r = client.post(url, data=PLAN_FORM | {"collective_ratio": "0.35"})
    assert r.status_code == 422
    assert "集体股占总股本 35.00% 超过30%上限" in page(r)
    r = client.post(url, data=PLAN_FORM | {"net_assets": "abc", "base_date": "2024-13-01"})
    assert r.status_code == 422 and "日期格式应为 YYYY-MM-DD" in page(r)
    assert count(QuantificationPlan) == 0
    r = client.post(url, data=PLAN_FORM | {"collective_ratio": "0.35", "collective_override": "1"})
    assert r.status_code == 302
    plan = db.session.scalars(sa.select(QuantificationPlan)).one()
    html = page(client.get(f"/o/{people.org.id}/shares/plans/{plan.id}/preview"))
    assert "超过30%（已特别批准）" in html
    # 5 population units are 65%: T = 5 / 0.65 = 7.6923, 集体股 2.6923
    assert "7.6923" in html and "2.6923" in html


def test_plan_inputs_preview_and_issue(people, client, auth):
    auth.login("kuaiji")
    org = people.org
    r = client.post(f"/o/{org.id}/shares/plans/new", data=PLAN_FORM)
    plan = db.session.scalars(sa.select(QuantificationPlan)).one()
    url = f"/o/{org.id}/shares/plans/{plan.id}/inputs"
    zhang, li = people.p[0], people.p[3]
    r = client.post(url, data={f"m-{zhang.id}-labour_start": "1990-01-01", f"m-{li.id}-labour_start": "2010-01-01",
                               f"m-{li.id}-labour_end": "2009-01-01", f"m-{people.p[1].id}-cash": "12.345"})
    assert r.status_code == 422
    html = page(r)
    assert "农龄截止日期早于开始日期" in html and "金额最多两位小数" in html
    assert len(plan.inputs) == 0
    r = client.post(url, data={f"m-{zhang.id}-labour_start": "1990-01-01", f"m-{li.id}-labour_start": "2010-01-01",
                               f"m-{li.id}-labour_end": "2009-01-01"})
    assert r.status_code == 422 and "农龄截止日期早于开始日期" in page(r)
    db.session.expire_all()
    assert len(plan.inputs) == 0
    r = client.post(url, data={f"m-{zhang.id}-labour_start": "1990-01-01", f"m-{li.id}-labour_start": "2010-01-01"})
    assert r.status_code == 302
    preview = f"/o/{org.id}/shares/plans/{plan.id}/preview"
    for _ in range(2):  # recomputed on every view, nothing stored
        html = page(client.get(preview))
        assert "10.5000" in html and "47,619.0476" in html and "2.1000" in html
        assert "5.0000" in html and "3.4000" in html
    assert count(ShareAction) == 0
    # issue needs the approval reference
    r = client.post(f"/o/{org.id}/shares/plans/{plan.id}/issue", data={"approval_ref": ""})
    assert r.status_code == 422 and "发行前请填写批准文号" in page(r)
    assert count(ShareAction) == 0 and count(ShareCertificate) == 0
    r = client.post(f"/o/{org.id}/shares/plans/{plan.id}/issue", data={"approval_ref": "2024年第2号成员大会决议"})
    assert r.status_code == 302
    assert shares.register_total(org) == D("10.5000") and count(ShareCertificate) == 2
    # issued: no more changes
    r = client.post(f"/o/{org.id}/shares/plans/{plan.id}", data=PLAN_FORM | {"net_assets": "1.00"})
    assert r.status_code == 422 and "方案已发行，不能再修改" in page(r)
    db.session.refresh(plan)
    assert plan.net_assets == D("500000.00")


# ---------------------------------------------------------------- the register and its events


def test_register_page_as_of_and_downloads(village, client, auth):
    from openpyxl import load_workbook

    auth.login("shenhe")
    org = village.org
    html = page(client.get(f"/o/{org.id}/shares/?as_of=2025-01-01"))
    assert "10.5000" in html and "47,619.0476" in html and "2.1000" in html
    html = page(client.get(f"/o/{org.id}/shares/?as_of=2024-12-30"))
    assert "该日期没有股权登记" in html
    r = client.get(f"/o/{org.id}/shares/register.xlsx?as_of=2025-01-01")
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[2] == ("户号", "户主", "股东姓名", "与户主关系", "备注", "人口股", "农龄股", "集体股", "合计")
    assert rows[3][:3] == ("0001", "张大山", "张大山") and rows[3][5:] == (1, 2, None, 3)
    assert rows[-1][0] == "合计" and rows[-1][-1] == 10.5 and rows[-1][-2] == 2.1
    r = client.get(f"/o/{org.id}/shares/register.pdf?as_of=2025-01-01")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def post_event(client, org, kind, data):
    return client.post(f"/o/{org.id}/shares/events/{kind}", data=data)


def test_transfer_form_errors_then_success_and_reverse(village, client, auth):
    auth.login("kuaiji")
    org, p = village.org, village.p
    outsider = members.add_member(village.h2, name="外嫁女", id_number=IDS[5], relation="其他")
    db.session.commit()
    base = {"from_member_id": str(p[0].id), "to_member_id": str(p[3].id), "share_class": "labour", "units": "0.5",
            "date": "2025-03-02", "reference": "转让协议1"}
    before = snapshot_counts()
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    cases = [
        ({"to_member_id": str(outsider.id)}, "to_member_id", "不是本集体经济组织成员"),
        ({"units": "2.5"}, "units", "张大山持有农龄股 2.0000 股，不足 2.5000 股"),
        ({"units": "0.12345"}, "units", "股数最多4位小数"),
        ({"date": "2024-12-01"}, "date", "日期早于折股量化基准日 2024-12-31"),
        ({"date": tomorrow}, "date", "日期不能晚于今天"),
        ({"reference": ""}, "reference", "请填写依据"),
    ]
    for change, field, message in cases:
        r = post_event(client, org, "transfer", base | change)
        assert r.status_code == 422, change
        html = page(r)
        # the message sits in the field's own block
        block = html.split(f'id="f-{field}"')[1].split('<div class="field')[0]
        assert message in block, (field, message)
    assert snapshot_counts() == before
    r = post_event(client, org, "transfer", base)
    assert r.status_code == 302
    assert shares.household_units(org) == {village.h1.id: D("4.5000"), village.h2.id: D("3.9000")}
    action = db.session.scalars(sa.select(ShareAction).where(ShareAction.kind == "transfer")).one()
    html = page(client.get(f"/o/{org.id}/shares/actions"))
    assert "社内转让" in html and f"/shares/actions/{action.id}/reverse" in html
    r = client.post(f"/o/{org.id}/shares/actions/{action.id}/reverse", data={"date": "2025-03-01", "reason": "录错"})
    assert r.status_code == 422 and "冲正日期不能早于原变动日期" in page(r)
    r = client.post(f"/o/{org.id}/shares/actions/{action.id}/reverse", data={"date": "2025-03-05", "reason": "录错"})
    assert r.status_code == 302
    assert shares.household_units(org) == {village.h1.id: D("5.0000"), village.h2.id: D("3.4000")}
    assert "已冲正" in page(client.get(f"/o/{org.id}/shares/actions"))
    r = client.post(f"/o/{org.id}/shares/actions/{action.id}/reverse", data={"date": "2025-03-06", "reason": "再冲"})
    assert r.status_code == 422 and "该变动已经冲正" in page(r)
    assert shares.register_total(org) == D("10.5000")


def test_buyback_form_limit_and_voucher_link(village, client, auth):
    village.books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    db.session.commit()
    auth.login("kuaiji")
    org, p = village.org, village.p
    data = {"member_id": str(p[1].id), "share_class": "population", "units": "1", "price": "40000",
            "date": "2025-06-01", "reference": "退出申请"}
    before = snapshot_counts()
    r = post_event(client, org, "buyback", data)
    # 5% of 10.5 = 0.525 units a year
    assert r.status_code == 422 and "本次 1.0000 股将超出 0.4750 股" in page(r)
    assert snapshot_counts() == before
    r = post_event(client, org, "buyback", data | {"units": "0.5", "price": "23809.52"})
    assert r.status_code == 302
    action = db.session.scalars(sa.select(ShareAction).where(ShareAction.kind == "buyback")).one()
    html = page(client.get(f"/o/{org.id}/shares/actions"))
    assert f"/vouchers/{action.voucher_id}" in html and "付款凭证" in html
    assert shares.register_total(org) == D("10.5000")


def test_inherit_split_merge_nominee_forms(village, client, auth):
    auth.login("kuaiji")
    org, p, h1, h2 = village.org, village.p, village.h1, village.h2
    members.record_membership_event(p[0], "lost_death", date=dt.date(2025, 4, 1), evidence="死亡证明",
                                    user=village.books.accountant)
    db.session.commit()
    r = post_event(client, org, "inherit", {"deceased_id": str(p[0].id), "heir_id": str(p[2].id),
                                            "date": "2025-05-01", "reference": "继承公证书"})
    assert r.status_code == 302
    assert {h.share_class: h.units for h in shares.holdings(org) if h.member_id == p[2].id} == {
        "population": D("2.0000"), "labour": D("2.0000")}
    # split: the household must be chosen first; its members are the choices
    html = page(client.get(f"/o/{org.id}/shares/events/split?household_id={h1.id}"))
    assert "张小明（子）" in html
    r = post_event(client, org, "split", {"household_id": str(h1.id), "date": "2025-06-01", "reference": "分户申请"})
    assert r.status_code == 422 and "请选择分出的成员" in page(r)
    r = client.post(f"/o/{org.id}/shares/events/split", data={
        "household_id": str(h1.id), "member_ids": [str(p[2].id)], "date": "2025-06-01", "reference": "分户申请"})
    assert r.status_code == 302
    new = db.session.get(Member, p[2].id).household
    assert new.number == "0003" and shares.household_units(org)[new.id] == D("4.0000")
    r = post_event(client, org, "merge", {"source_id": str(new.id), "target_id": str(new.id), "date": "2025-07-01",
                                          "reference": "合户"})
    assert r.status_code == 422 and "请选择本组织的两个不同的户" in page(r)
    r = post_event(client, org, "merge", {"source_id": str(new.id), "target_id": str(h2.id), "date": "2025-07-01",
                                          "reference": "合户申请"})
    assert r.status_code == 302
    assert shares.household_units(org)[h2.id] == D("7.4000")
    # 代持: the collective holds 0.3 集体股 for 李小红, then releases it
    r = post_event(client, org, "nominee", {"beneficiary_id": str(p[4].id), "share_class": "collective",
                                            "units": "3", "date": "2025-08-01", "reference": "代持协议1"})
    assert r.status_code == 422 and "集体持有集体股 2.1000 股，不足 3.0000 股" in page(r)
    r = post_event(client, org, "nominee", {"beneficiary_id": str(p[4].id), "share_class": "collective",
                                            "units": "0.3", "date": "2025-08-01", "reference": "代持协议1"})
    assert r.status_code == 302
    assert "代李小红持有" in page(client.get(f"/o/{org.id}/shares/"))
    r = post_event(client, org, "nominee_release", {"beneficiary_id": str(p[4].id), "share_class": "collective",
                                                    "date": "2025-09-01", "reference": "解除协议"})
    assert r.status_code == 302
    assert {h.share_class: h.units for h in shares.holdings(org) if h.member_id == p[4].id} == {
        "population": D("1.0000"), "collective": D("0.3000")}
    assert shares.register_total(org) == D("10.5000")


def test_pages_of_another_village_are_404(village, client, books, auth):
    from coop.services import orgs

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    stranger = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(stranger, "accountant", other)
    db.session.commit()
    auth.login("xicun")
    org = village.org
    for url in (f"/o/{org.id}/members/", f"/o/{org.id}/members/h/{village.h1.id}", f"/o/{org.id}/shares/",
                f"/o/{org.id}/shares/plans/{village.plan.id}/preview"):
        assert client.get(url).status_code == 404, url
    # and a household of this village under the other village's URL
    assert client.get(f"/o/{other.id}/members/h/{village.h1.id}").status_code == 404


def test_every_page_renders(village, client, auth):
    auth.login("kuaiji")
    org, h1, plan = village.org, village.h1, village.plan
    action = db.session.scalars(sa.select(ShareAction)).first()
    urls = [f"/o/{org.id}/members/", f"/o/{org.id}/members/new", f"/o/{org.id}/members/h/{h1.id}",
            f"/o/{org.id}/members/h/{h1.id}/members/new", f"/o/{org.id}/members/m/{village.p[0].id}",
            f"/o/{org.id}/members/import", f"/o/{org.id}/shares/", f"/o/{org.id}/shares/actions",
            f"/o/{org.id}/shares/actions/{action.id}/reverse", f"/o/{org.id}/shares/plans",
            f"/o/{org.id}/shares/plans/new", f"/o/{org.id}/shares/plans/{plan.id}",
            f"/o/{org.id}/shares/plans/{plan.id}/inputs"]
    urls += [f"/o/{org.id}/shares/events/{k}" for k in ("transfer", "inherit", "buyback", "split", "merge", "nominee",
                                                        "nominee_release")]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert "东村股份经济合作社" in page(r), url
    assert client.get(f"/o/{org.id}/shares/events/gift").status_code == 404
    # an issued plan is never recomputed: its preview leads to the register on the 基准日
    r = client.get(f"/o/{org.id}/shares/plans/{plan.id}/preview")
    assert r.status_code == 302 and r.headers["Location"].endswith("/shares/?as_of=2024-12-31")
    # the issued plan's form is read-only and shows its values
    html = page(client.get(f"/o/{org.id}/shares/plans/{plan.id}"))
    assert "disabled" in html and 'value="500000.00"' in html and 'value="0.2"' in html
