"""飞地抱团 pages with the project of tests/test_joint.py (four villages, an in-system operator, 8% 保底):
returns previewed then declared with hand-computed figures, receipts, an exit, the reconciliation agreeing on
every side; every refusal shown beside its field with no book changed; who may see and manage."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import (JointProject, ProjectContribution, ProjectParticipant, ProjectReturn, ProjectReturnLine,
                         Voucher)
from coop.services import joint, opening, orgs, users
from tests.conftest import count
from tests.test_joint import project  # noqa: F401  (fixture)
from tests.test_loans_web import text

D = Decimal
MODELS = (JointProject, ProjectParticipant, ProjectContribution, ProjectReturn, ProjectReturnLine, Voucher)


def snapshot() -> tuple:
    return tuple(count(m) for m in MODELS)


@pytest.fixture
def site(app, project, auth):
    books, p, parts, villages, operator = project
    return books, p, parts, villages, operator, {who: auth.browser(getattr(books, who).username)
                                                  for who in ("county_admin", "auditor")}


def test_returns_receipts_and_exit_keep_every_side_agreeing(site):
    books, p, parts, villages, operator, c = site
    admin = c["county_admin"]
    url = f"/joint/{p.id}"

    r = admin.get("/joint/")
    assert r.status_code == 200 and "城东标准厂房" in text(r) and "4,000,000.00" in text(r)
    r = admin.get(url)
    page = text(r)
    assert r.status_code == 200 and "各方一致" in page and "2,000,000.00" in page and "县城投公司" in page

    # 2025 preview: fixed 8% by days held (the fourth village 184 of 365 days), the rest split 4:2:1:1
    before = snapshot()
    r = admin.post(f"{url}/returns/new", data={"year": "2025", "profit": "400000.00", "action": "preview"})
    page = text(r)
    assert r.status_code == 200
    for figure in ("160,000.00", "80,000.00", "40,000.00", "20,164.38", "300,164.38",  # fixed, ΣF
                   "49,917.81", "24,958.91", "12,479.45", "99,835.62",  # profit parts, their sum
                   "209,917.81", "104,958.91", "52,479.45", "32,643.83"):  # totals per village
        assert figure in page, figure
    assert snapshot() == before

    # declaring books 4 villages and 4 mirror entries at once
    declare = {"year": "2025", "profit": "400000.00", "date": "2025-12-31", "action": "declare"}
    r = admin.post(f"{url}/returns/new", data={**declare, "previewed": "2025|399999.00"})
    assert r.status_code == 200 and "2025 年度收益预览" in text(r)  # changed since the preview: shown again
    assert snapshot() == before
    r = admin.post(f"{url}/returns/new", data={**declare, "previewed": "2025|400000.00"})
    assert r.status_code == 302
    assert count(Voucher) == before[-1] + 8
    before = snapshot()
    r = admin.post(f"{url}/returns/new", data={"year": "2025", "profit": "1.00", "action": "preview"})
    assert r.status_code == 409 and "2025年度的收益已经登记，不能重复登记" in text(r)
    assert snapshot() == before

    r1 = db.session.query(ProjectReturn).filter_by(year=2025).one()
    assert len(r1.lines) == 4  # one line per participating village
    for line in r1.lines:
        r = admin.post(f"{url}/return-lines/{line.id}/receive", data={"date": "2026-01-10"})
        assert r.status_code == 302
    r = admin.post(f"{url}/return-lines/{r1.lines[0].id}/receive", data={"date": "2026-01-11"})
    assert r.status_code == 409 and "已经收到" in text(r)

    # 2026: profit 250,000 does not cover ΣF 320,000; the guarantor owes 70,000 (split by fixed part)
    r = admin.post(f"{url}/returns/new", data={"year": "2026", "profit": "250000.00", "action": "preview"})
    page = text(r)
    assert "320,000.00" in page and "70,000.00" in page and "35,000.00" in page and "17,500.00" in page
    r = admin.post(f"{url}/returns/new", data={"year": "2026", "profit": "250000.00", "date": "2026-12-31",
                                               "previewed": "2026|250000.00", "action": "declare"})
    assert r.status_code == 302
    r2 = db.session.query(ProjectReturn).filter_by(year=2026).one()
    first = r2.lines[0]
    assert (first.fixed, first.guaranteed) == (D("160000.00"), D("35000.00"))
    assert admin.post(f"{url}/return-lines/{first.id}/receive",
                      data={"date": "2027-01-05", "from_guarantor": "1"}).status_code == 302
    db.session.expire_all()
    assert first.guarantor_paid_on == dt.date(2027, 1, 5) and first.operator_paid_on is None

    # the fourth village leaves: its 500,000 comes back on both sides
    r = admin.get(f"{url}/participants/{parts[3].id}/exit")
    assert "¥500,000.00" in text(r)
    r = admin.post(f"{url}/participants/{parts[3].id}/exit", data={"date": "2026-12-31"})
    assert r.status_code == 302
    r = admin.get(url)
    page = text(r)
    assert "各方一致" in page and "-500,000.00" in page and "2026-12-31 已退出" in page
    rows = joint.reconciliation(p)
    assert rows and all(row.difference == 0 for row in rows)


def test_refusals_beside_fields_and_no_book_changes(site, app):
    books, p, parts, villages, operator, c = site
    admin = c["county_admin"]
    url = f"/joint/{p.id}"
    before = snapshot()

    # a return year before the first contribution; a negative profit; weights by contract not summing to 1
    r = admin.post(f"{url}/returns/new", data={"year": "2024", "profit": "1.00", "action": "preview"})
    assert r.status_code == 422 and "2024年前没有出资" in text(r)
    r = admin.post(f"{url}/returns/new", data={"year": "2025", "profit": "-5.00", "action": "preview"})
    assert r.status_code == 422 and "可分配利润不能为负数" in text(r) and 'id="e-profit"' in text(r)
    r = admin.post(f"{url}/returns/new", data={"year": "2025", "profit": "1.00", "date": "2025-06-30",
                                               "previewed": "2025|1.00", "action": "declare"})
    assert r.status_code == 422 and "年度收益应在年末或之后登记" in text(r)

    # an organization of another county cannot join, so cannot contribute
    other_county = orgs.create_county("邻县")
    stranger = orgs.create_organization(orgs.create_township(other_county, "邻镇"), name="外县村",
                                        books_start_year=2025)
    db.session.commit()
    before = snapshot()
    r = admin.post(f"{url}/participants/new", data={"organization_id": str(stranger.id)})
    assert r.status_code == 422 and "外县村 不属于本项目所在县，不能参与" in text(r) and "field-error" in text(r)
    r = admin.post(f"{url}/contributions/new", data={"participant_id": "999999", "kind": "cash",
                                                     "amount": "100.00", "date": "2025-02-01"})
    assert r.status_code == 422 and "该项目没有这个参与方" in text(r)
    r = admin.post(f"{url}/contributions/new", data={"participant_id": str(parts[0].id), "kind": "gold",
                                                     "amount": "1.005", "date": "2025-13-01"})
    page = text(r)
    assert r.status_code == 422 and "出资方式应为" in page and "金额最多两位小数" in page and "日期格式应为" in page
    assert snapshot() == before

    # posting into a participant's closed month: refused for every side, naming whose books
    books.close_through(2025, 12)
    db.session.commit()
    before = snapshot()
    r = admin.post(f"{url}/contributions/new", data={"participant_id": str(parts[0].id), "kind": "cash",
                                                     "amount": "100000.00", "date": "2025-11-01"})
    assert r.status_code == 409 and "东村股份经济合作社：2025年11月已结账" in text(r)
    r = admin.post(f"{url}/returns/new", data={"year": "2025", "profit": "400000.00", "date": "2025-12-31",
                                               "previewed": "2025|400000.00", "action": "declare"})
    assert r.status_code == 409 and "东村股份经济合作社：2025年12月已结账" in text(r)
    assert snapshot() == before

    # weights fixed by contract must sum to 1
    r = admin.post("/joint/new", data={"name": "西山光伏", "operator_name": "县国资公司", "start_date": "2026-01-01",
                                       "fixed_rate": "6%", "profit_sharing": "1", "contract_weights": "1"})
    assert r.status_code == 302
    q = db.session.query(JointProject).filter_by(name="西山光伏").one()
    assert (q.fixed_rate, q.profit_sharing, q.contract_weights, q.operator_org_id) == (D("0.06"), True, True, None)
    r = admin.post(f"/joint/{q.id}/participants/new", data={"organization_id": str(villages[1].id)})
    assert r.status_code == 422 and "请填写0到1之间的比例" in text(r)
    for v, w in ((villages[1], "0.6"), (villages[2], "0.3")):
        assert admin.post(f"/joint/{q.id}/participants/new",
                          data={"organization_id": str(v.id), "weight": w}).status_code == 302
    q_parts = db.session.query(ProjectParticipant).filter_by(project_id=q.id).all()
    assert admin.post(f"/joint/{q.id}/contributions/new", data={
        "participant_id": str(q_parts[0].id), "kind": "cash", "amount": "300000.00",
        "date": "2026-01-01"}).status_code == 302
    r = admin.post(f"/joint/{q.id}/returns/new", data={"year": "2026", "profit": "50000.00", "action": "preview"})
    assert r.status_code == 422 and "合同约定的分配比例合计为 0.9" in text(r)

    # a project form with nothing in it
    r = admin.post("/joint/new", data={"fixed_rate": "2"})
    page = text(r)
    assert r.status_code == 422 and "请填写项目名称" in page and "请填写日期" in page


def test_who_sees_and_manages(site, app, auth):
    books, p, parts, villages, operator, c = site
    url = f"/joint/{p.id}"
    auditor = c["auditor"]
    # the township auditor reads every project touching the township, but manages nothing
    r = auditor.get("/joint/")
    assert "城东标准厂房" in text(r) and "新建项目" not in text(r)
    r = auditor.get(url)
    assert r.status_code == 200 and "/returns/new" not in text(r) and "/contributions/new" not in text(r)
    before = snapshot()
    assert auditor.post(f"{url}/contributions/new", data={"participant_id": str(parts[0].id), "kind": "cash",
                                                          "amount": "1.00", "date": "2025-02-01"}).status_code == 403
    assert auditor.post(f"{url}/returns/new", data={"year": "2025", "profit": "1.00"}).status_code == 403
    assert auditor.get("/joint/new").status_code == 403
    # an accountant of a village that is not in the project does not see it at all
    outsider = orgs.create_organization(books.township, name="东山村", books_start_year=2025)
    someone = users.create_user("dongshan", "东山会计", "password1")
    users.assign_role(someone, "accountant", outsider)
    opening.lock_opening_balances(outsider, user=someone)
    db.session.commit()
    s = auth.browser("dongshan")
    assert s.get(url).status_code == 404
    assert "城东标准厂房" not in text(s.get("/joint/"))
    assert s.post(f"{url}/participants/{parts[0].id}/exit", data={"date": "2025-12-31"}).status_code == 404
    assert snapshot() == before
