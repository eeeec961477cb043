"""预决算 and audit cases (RULES §16): a budget approved by the 成员大会 against the posted actuals month by month;
an audit case from opening to publication, with findings on vouchers and 整改 items."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db

D = Decimal


def test_budget_approved_and_against_actual_by_month(books):
    from coop.services import budgets

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    b = budgets.set_lines(books.org, 2025, [{"account_code": "501", "amount": D("100000.00")},
                                            {"account_code": "513", "amount": D("20000.00")}], user=books.accountant)
    books.post("2025-03-10", ("102", "30000.00", ""), ("501", "", "30000.00"))
    books.post("2025-06-10", ("102", "50000.00", ""), ("501", "", "50000.00"))
    books.post("2025-02-01", ("513", "5000.50", ""), ("102", "", "5000.50"))
    with pytest.raises(ValidationFailed) as e:
        budgets.set_lines(books.org, 2025, [{"account_code": "999", "amount": D(1)},
                                            {"account_code": "501", "amount": D(-1)}], user=books.accountant)
    assert set(e.value.errors["lines"]) == {0, 1} or set(e.value.errors["lines"]) == {"0", "1"}
    # 30 members: 19 present is under two thirds (20); 15 in favour is not more than half of 30
    with pytest.raises(ValidationFailed, match="实到 19 人，不足应到 30 人的三分之二"):
        budgets.approve(books.org, 2025, meeting_date=dt.date(2025, 1, 20), entitled=30, present=19, votes_for=19,
                        reference="2025-1号", user=books.accountant)
    with pytest.raises(ValidationFailed, match="赞成 15 票，未超过全体成员 30 人的半数"):
        budgets.approve(books.org, 2025, meeting_date=dt.date(2025, 1, 20), entitled=30, present=25, votes_for=15,
                        votes_against=10, reference="2025-1号", user=books.accountant)
    budgets.approve(books.org, 2025, meeting_date=dt.date(2025, 1, 20), entitled=30, present=25, votes_for=22,
                    votes_against=2, abstained=1, reference="2025-1号", user=books.accountant)
    db.session.commit()
    assert b.status == "approved" and (b.present, b.votes_for) == (25, 22)
    with pytest.raises(InvalidState, match="不能修改"):
        budgets.set_lines(books.org, 2025, [{"account_code": "501", "amount": D(1)}], user=books.accountant)
    rows = {r.code: r for r in budgets.budget_vs_actual(books.org, 2025)}
    assert rows["501"].months[2] == D("30000.00") and rows["501"].months[5] == D("50000.00")
    assert (rows["501"].actual, rows["501"].variance, rows["501"].rate) == (D("80000.00"), D("-20000.00"), D("0.8"))
    assert (rows["513"].months[1], rows["513"].actual, rows["513"].variance) == (
        D("5000.50"), D("5000.50"), D("-14999.50"))


def test_audit_case_from_opening_to_publication(books):
    from coop.services import audits, orgs

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    v = books.post("2025-03-10", ("513", "8800.00", ""), ("102", "", "8800.00"), summary="招待费")
    other = orgs.create_organization(books.township, name="西村", books_start_year=2025)
    with pytest.raises(Forbidden):
        audits.open_case(books.org, kind="regular", title="x", scope="x", period_from=dt.date(2025, 1, 1),
                         period_to=dt.date(2025, 12, 31), user=books.accountant)
    with pytest.raises(ValidationFailed, match="离任审计请填写离任人员"):
        audits.open_case(books.org, kind="departure", title="村主任离任审计", scope="任期内财务收支",
                         period_from=dt.date(2025, 1, 1), period_to=dt.date(2025, 12, 31), user=books.auditor)
    case = audits.open_case(books.org, kind="departure", title="村主任离任审计", scope="任期内财务收支、资产处置",
                            period_from=dt.date(2025, 1, 1), period_to=dt.date(2025, 12, 31), subject="张某 村主任",
                            user=books.auditor, today=dt.date(2026, 1, 5))
    with pytest.raises(ValidationFailed) as e:
        audits.add_finding(case, text="超标准招待", voucher_ids=[v.id, 999999], user=books.auditor)
    assert "voucher_ids" in e.value.errors
    f = audits.add_finding(case, text="超标准招待，无审批", voucher_ids=[v.id], amount=D("8800.00"), user=books.auditor)
    item = audits.add_item(f, action="退回超标部分并补办审批", owner="张某", deadline=dt.date(2026, 2, 28),
                           user=books.auditor)
    db.session.commit()
    assert [x[1].id for x in audits.open_findings([books.org.id, other.id])] == [f.id]
    with pytest.raises(InvalidState, match="还有 1 项整改未完成"):
        audits.close_case(case, conclusion="基本规范", user=books.auditor)
    with pytest.raises(InvalidState, match="结案后才能公布"):
        audits.publish(case, user=books.auditor)
    audits.complete_item(item, note="已退回 3,800 元", done_on=dt.date(2026, 2, 10), user=books.accountant)
    audits.close_case(case, conclusion="基本规范，问题已整改", user=books.auditor, today=dt.date(2026, 2, 20))
    audits.publish(case, user=books.auditor, today=dt.date(2026, 2, 21))
    db.session.commit()
    assert (case.status, case.published_on) == ("published", dt.date(2026, 2, 21))
    assert audits.open_findings([books.org.id]) == []
    assert [fv.voucher_id for fv in f.vouchers] == [v.id]


def test_budget_and_audit_pages(books, client, auth):
    """The accountant drafts the budget on the page and records the resolution; a bad vote count is answered
    beside the field with 422 and nothing saved; the auditor opens a case and its open finding shows on the desk."""
    from coop.services import budgets

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    v = books.post("2025-03-10", ("513", "8800.00", ""), ("102", "", "8800.00"), summary="招待费")
    db.session.commit()
    o = books.org.id
    auth.login("kuaiji")
    r = client.post(f"/o/{o}/budgets/lines", data={"year": "2025", "lines-0-account_code": "513",
                                                    "lines-0-amount": "20000", "lines-1-account_code": "",
                                                    "lines-1-amount": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    r = client.post(f"/o/{o}/budgets/lines", data={"year": "2025", "lines-0-account_code": "513",
                                                    "lines-0-amount": "-5"})
    assert r.status_code == 422
    r = client.post(f"/o/{o}/budgets/approve", data={"year": "2025", "meeting_date": "2025-01-20", "entitled": "30",
                                                      "present": "25", "votes_for": "12", "reference": "1号"})
    assert r.status_code == 422 and "未超过全体成员 30 人的半数" in r.get_data(as_text=True)
    assert budgets.get_budget(books.org, 2025).status == "draft"
    r = client.post(f"/o/{o}/budgets/approve", data={"year": "2025", "meeting_date": "2025-01-20", "entitled": "30",
                                                      "present": "25", "votes_for": "22", "reference": "1号"})
    assert r.status_code == 302
    page = client.get(f"/o/{o}/budgets?year=2025").get_data(as_text=True)
    assert "8,800.00" in page and "44.0%" in page
    assert client.get(f"/o/{o}/budgets?year=2025&format=xlsx").status_code == 200
    assert client.post(f"/o/{o}/audits", data={"kind": "regular", "title": "x", "scope": "x",
                                               "period_from": "2025-01-01", "period_to": "2025-12-31"}).status_code == 403
    client.post("/logout")
    auth.login("jingguan")
    r = client.post(f"/o/{o}/audits", data={"kind": "special", "title": "招待费专项审计", "scope": "2025年招待费",
                                            "period_from": "2025-01-01", "period_to": "2025-12-31"})
    assert r.status_code == 302
    case_url = r.headers["Location"]
    r = client.post(case_url + "/findings", data={"text": "招待费超标", "amount": "8800.00", "voucher_ids": str(v.id)})
    assert r.status_code == 302
    r = client.post(case_url + "/findings", data={"text": "", "voucher_ids": "abc"})
    assert r.status_code == 422
    desk = client.get("/auditor/").get_data(as_text=True)
    assert "未整改的审计问题" in desk and "招待费超标" in desk
    assert "招待费超标" in client.get(case_url).get_data(as_text=True)


def test_budget_and_audit_api(books, client):
    from coop.services import users

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    v = books.post("2025-03-10", ("513", "8800.00", ""), ("102", "", "8800.00"), summary="招待费")
    tokens = {w: users.issue_api_token(getattr(books, w), "t") for w in ("accountant", "auditor")}
    db.session.commit()

    def call(method, path, body=None, who="accountant"):
        return client.open("/api/v1" + path, method=method, json=body,
                           headers={"Authorization": f"Bearer {tokens[who]}"})

    o = books.org.id
    r = call("PUT", f"/orgs/{o}/budgets", {"year": 2025, "lines": [{"account_code": "513", "amount": "20000.00"}]})
    assert r.status_code == 200, r.json
    assert r.json["rows"][0]["actual"] == "8800.00" and r.json["rows"][0]["months"][2] == "8800.00"
    r = call("POST", f"/orgs/{o}/budgets/approval", {"year": 2025, "meeting_date": "2025-01-20", "entitled": 30,
                                                      "present": 19, "votes_for": 19, "reference": "1号"})
    assert r.status_code == 422 and "present" in r.json["errors"]
    r = call("POST", f"/orgs/{o}/audits", {"kind": "regular", "title": "年度审计", "scope": "收支",
                                           "period_from": "2025-01-01", "period_to": "2025-12-31"})
    assert r.status_code == 403
    r = call("POST", f"/orgs/{o}/audits", {"kind": "regular", "title": "年度审计", "scope": "收支",
                                           "period_from": "2025-01-01", "period_to": "2025-12-31"}, who="auditor")
    assert r.status_code == 201, r.json
    case = r.json["id"]
    r = call("POST", f"/audits/{case}/findings", {"text": "招待费超标", "voucher_ids": [v.id]}, who="auditor")
    assert r.status_code == 201 and r.json["findings"][0]["voucher_ids"] == [v.id]
    r = call("POST", f"/audits/{case}/close", {"conclusion": "规范"}, who="auditor")
    assert r.status_code == 200 and r.json["status"] == "closed"  # a finding without 整改 items needs none
    assert call("POST", f"/audits/{case}/publish", who="auditor").json["status"] == "published"


def test_two_first_drafts_of_a_budget_at_once_make_one_budget(app, books, backend):
    """Two accountants' first drafts of the same year at once: one budget row, the later lines win (PostgreSQL
    threads; the organization's row lock makes them queue instead of one failing on the unique key)."""
    import threading

    import sqlalchemy as sa

    from coop.models import Budget, Organization, User
    from coop.services import budgets

    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite serialises writers anyway")
    # last year's budget first: it also starts the audit chain, whose head row the two threads would otherwise
    # both try to create (the chain's own first-entry race, not this one's)
    budgets.set_lines(books.org, 2024, [{"account_code": "513", "amount": D("50.00")}], user=books.accountant)
    db.session.commit()
    org_id, user_id = books.org.id, books.accountant.id
    barrier, errors = threading.Barrier(2), []

    def worker(amount):
        with app.app_context():
            try:
                org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
                barrier.wait(timeout=30)
                budgets.set_lines(org, 2025, [{"account_code": "513", "amount": D(amount)}], user=user)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(a,)) for a in ("100.00", "200.00")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Budget).where(Budget.year == 2025)) == 1
    db.session.expire_all()
    assert [ln.amount for ln in budgets.get_budget(books.org, 2025).lines] in ([D("100.00")], [D("200.00")])


def test_the_financial_plan_goes_through_the_disclosure_workflow(books):
    """财务计划执行公开表 of Q1 2025 (closed): the approved budget, the quarter's actual and the year's to date."""
    from coop.services import budgets, disclosure

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    budgets.set_lines(books.org, 2025, [{"account_code": "501", "amount": D("100000.00")},
                                        {"account_code": "513", "amount": D("20000.00")}], user=books.accountant)
    books.post("2025-02-10", ("102", "30000.00", ""), ("501", "", "30000.00"))
    books.post("2025-03-01", ("513", "5000.50", ""), ("102", "", "5000.50"))
    books.post("2025-04-01", ("102", "7000.00", ""), ("501", "", "7000.00"))
    books.close_through(2025, 4)
    with pytest.raises(ValidationFailed, match="尚未经成员大会通过"):
        disclosure.create_sheet(books.org, kind="financial_plan", start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31),
                                user=books.accountant)
    budgets.approve(books.org, 2025, meeting_date=dt.date(2025, 1, 20), entitled=30, present=25, votes_for=22,
                    reference="2025-1号", user=books.accountant)
    sheet = disclosure.create_sheet(books.org, kind="financial_plan", start=dt.date(2025, 1, 1),
                                    end=dt.date(2025, 3, 31), user=books.accountant)
    data = disclosure.build_sheet(books.org, "financial_plan", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert data["rows"][:2] == [["501 经营收入", "100000.00", "30000.00", "30000.00", "30.0%"],
                                ["513 管理费用", "20000.00", "5000.50", "5000.50", "25.0%"]]
    assert data["totals"][0]["amount"] == "120000.00"
    assert sheet.kind == "financial_plan"


def test_members_read_published_audit_results_only(books, client, auth):
    from coop.services import audits, users

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    member = users.create_user("chengyuan", "张成员", "password1")
    users.assign_role(member, "member", books.org)
    kw = dict(scope="收支", period_from=dt.date(2025, 1, 1), period_to=dt.date(2025, 12, 31), user=books.auditor)
    done = audits.open_case(books.org, kind="regular", title="2025年定期审计", **kw)
    audits.add_finding(done, text="现金日记账未逐日登记", user=books.auditor)
    audits.close_case(done, conclusion="财务收支基本规范", user=books.auditor)
    audits.publish(done, user=books.auditor)
    pending = audits.open_case(books.org, kind="special", title="工程款专项审计", **kw)
    db.session.commit()
    auth.login("chengyuan")
    page = client.get(f"/o/{books.org.id}/audits").get_data(as_text=True)
    assert "2025年定期审计" in page and "工程款专项审计" not in page
    r = client.get(f"/o/{books.org.id}/audits/{done.id}")
    assert r.status_code == 200 and "财务收支基本规范" in r.get_data(as_text=True)
    assert client.get(f"/o/{books.org.id}/audits/{pending.id}").status_code == 404
