"""Acceptance checks of RULES §9–§16 that the audit found unproven or broken, each driven as a user would."""
from __future__ import annotations

from decimal import Decimal

from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_members_api import Api
from tests.test_members_web import IDS, _fast_password_hashing, people  # noqa: F401  (fixtures)

D = Decimal


def test_api_household_search_by_the_full_id_number_only(people, client, books):
    """§13: search by ID works on the full, exact number (the web list does; the API must too), never on a part."""
    api = Api(client, books)
    assert [h["number"] for h in api.get(f"/households?q={IDS[3]}", who="reviewer").json] == ["0002"]
    assert [h["number"] for h in api.get(f"/households?q={IDS[3].lower()}").json] == ["0002"]
    assert api.get(f"/households?q={IDS[3][:-1]}").json == []
    assert api.get(f"/households?q={IDS[3][-4:]}").json == []


def test_a_bank_result_of_bu_cheng_gong_leaves_the_household_unpaid(real_books):
    """§15 分红代发: failed rows stay unpaid with the bank's reason — a result written 不成功 / 未成功 is a failure,
    not a payment because it contains 成功."""
    import datetime as dt

    from coop.core.extensions import db
    from coop.services import distribution, payout
    from tests.test_cash import people as cash_people, posted_plan

    books = real_books
    _, cash, _ = cash_people(books)
    org, acc = books.org, books.accountant
    plan, ha, hb = posted_plan(books)
    payout.set_household_account(org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    payout.set_household_account(org, user=cash, household_id=hb.id, bank_name="农商银行", account_no="6228002222")
    batch = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=books.leaf("102", 2))
    db.session.commit()
    rows = payout.batch_rows(batch, user=cash)
    result = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
              f"1,{rows[1][1]},张一,{rows[1][3]},6228001111,24640.00,交易不成功,户名不符\n"
              f"2,{rows[2][1]},李一,{rows[2][3]},6228002222,15360.00,未成功,\n").encode("utf-8")
    assert payout.import_result(batch, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5)) is None
    db.session.commit()
    assert [(i.status, i.reason) for i in batch.items] == [("failed", "户名不符"), ("failed", "银行未说明原因")]
    status = {s.dividend.household_id: s.unpaid for s in distribution.dividend_status(plan)}
    assert status == {ha.id: D("24640.00"), hb.id: D("15360.00")}


def test_a_draft_is_old_by_the_beijing_day_it_was_made(books):
    """§10 三色预警 'drafts older than 30 days', counted in the organization's (Beijing) days: created_at is stored
    in UTC, so a draft made at 04:00 Beijing on 1 March (20:00 UTC on 28 February) is 30 days old on 31 March,
    not yet older; one made at 23:00 Beijing on 28 February (15:00 UTC) is."""
    import datetime as dt

    from coop.core.extensions import db
    from coop.services import warnings

    books.lock_opening({"102": "5000.00", "301": "-5000.00"})
    v = books.draft("2025-02-05", ("101", "10.00", ""), ("102", "", "10.00"))
    today = dt.date(2025, 3, 31)
    v.created_at = dt.datetime(2025, 2, 28, 20, 0)  # 2025-03-01 04:00 Beijing
    db.session.commit()
    assert "old_drafts" not in {w.code for w in warnings.warnings_for(books.org, today)}
    v.created_at = dt.datetime(2025, 2, 28, 15, 0)  # 2025-02-28 23:00 Beijing
    db.session.commit()
    [w] = [w for w in warnings.warnings_for(books.org, today) if w.code == "old_drafts"]
    assert w.facts == ["2025-02-05 （未编号）（2025-02-28 制单）"]


def test_a_masked_id_number_cannot_be_completed_from_the_birth_date_shown_beside_it(people, client, books, auth):
    """§13: everyone but the organization's accountants sees 520203********0033 — the eight hidden digits are the
    birth date, so the reviewer is not shown that date in full either (the year is enough to read an age); the
    accountant still sees both."""
    api = Api(client, books)
    hid = people.p[0].household_id
    # IDS[2] is born 1975-06-01
    detail = api.get(f"/households/{hid}", who="reviewer").json
    shown = {m["name"]: m for m in detail["members"]}["张小明"]
    assert shown["id_number"] == IDS[2][:6] + "********" + IDS[2][-4:]
    assert shown["birth_date"] is None
    assert api.get(f"/members/{people.p[2].id}", who="reviewer").json["birth_date"] is None
    assert api.get(f"/households/{hid}").json["members"][2]["birth_date"] == "1975-06-01"
    roster = api.get("/roster", who="reviewer").json
    row = next(r for r in roster["rows"] if r[roster["columns"].index("成员")] == "张小明")
    assert row[roster["columns"].index("出生日期")] == "1975"
    assert "1975-06-01" not in str(roster["rows"])

    auth.login(books.reviewer)
    for url in (f"/o/{books.org.id}/members/h/{hid}", f"/o/{books.org.id}/members/m/{people.p[2].id}"):
        page = client.get(url).get_data(as_text=True)
        assert "1975-06-01" not in page and "19750601" not in page and "1975年" in page, url
    auth.login(books.accountant)
    page = client.get(f"/o/{books.org.id}/members/h/{hid}").get_data(as_text=True)
    assert "1975-06-01" in page and IDS[2] in page


def test_the_cashier_and_the_finance_group_borrowing_are_officer_receivables(books):
    """§10 三色预警 'receivables from officers' (农村集体经济组织法 art. 35 binds 理事、监事 and 经营管理人员): the
    出纳 and a 民主理财小组 member owing the collective are red, as the accountant and the head are; a member
    who holds no office is not."""
    import datetime as dt

    from coop.services import users, vouchers, warnings

    cashier = users.create_user("chuna", "钱出纳", "password1")
    users.assign_role(cashier, "cashier", books.org)
    watcher = users.create_user("licai", "孙理财", "password1")
    users.assign_role(watcher, "finance_group", books.org)
    plain = users.create_user("chengyuan", "周成员", "password1")
    users.assign_role(plain, "member", books.org)
    books.lock_opening({"102": "5000.00", "301": "-5000.00"})
    for who, amount in (("钱出纳", "150.00"), ("孙理财", "80.00"), ("周成员", "60.00")):
        v = books.draft("2025-01-06", ("112", amount, ""), ("102", "", amount), summary=f"{who}借款")
        v.lines[0].counterparty = who
        vouchers.review_voucher(v, user=books.reviewer)
        vouchers.post_voucher(v, user=books.accountant)
    [w] = [w for w in warnings.warnings_for(books.org, dt.date(2025, 1, 31)) if w.code == "officer_receivable"]
    assert w.level == "red" and sorted(w.facts) == ["孙理财 欠款 80.00", "钱出纳 欠款 150.00"]


def test_a_question_on_a_voucher_shows_the_beijing_day_it_was_asked(books, client, auth):
    """§10 questions on vouchers, dated as people read them (Beijing): asked at 01:00 Beijing on 1 April, stored as
    17:00 UTC on 31 March, the page says 2025-04-01."""
    import datetime as dt

    from coop.core.extensions import db
    from coop.services import disclosure

    books.lock_opening({"102": "5000.00", "301": "-5000.00"})
    v = books.post("2025-03-05", ("513", "80.00", ""), ("102", "", "80.00"), summary="买办公用品")
    q = disclosure.ask_question(books.org, v, text="请附发票", user=books.auditor)
    q.created_at = dt.datetime(2025, 3, 31, 17, 0)
    db.session.commit()
    auth.login(books.accountant)
    page = client.get(f"/o/{books.org.id}/vouchers/{v.id}").get_data(as_text=True)
    assert "请附发票" in page and "2025-04-01" in page and "2025-03-31" not in page


def test_the_township_grants_and_manages_a_village_cashier(books, client, auth):
    """§13 + §15: the 出纳 is a village role — the township grants and removes it on its villages, resets and
    deactivates whoever holds it, and the account pages offer it (the county's too)."""
    from coop.core.extensions import db
    from coop.services import admin, users

    clerk = users.create_user("chuna", "钱出纳", "password1")
    users.assign_role(clerk, "member", books.org)
    db.session.commit()
    aud = books.auditor
    ra = admin.grant_role(aud, clerk, "cashier", organization_id=books.org.id)
    db.session.commit()
    assert {r.role for r in clerk.roles} == {"member", "cashier"}
    assert "chuna" in {u.username for u in admin.manageable_users(aud)}
    assert admin.reset_password(aud, clerk)
    admin.set_active(aud, clerk, False)
    admin.set_active(aud, clerk, True)
    admin.remove_role(aud, clerk, ra.id)
    db.session.commit()
    assert {r.role for r in clerk.roles} == {"member"}
    for who in ("jingguan", "xian"):
        auth.login(who)
        assert 'value="cashier"' in client.get("/admin/accounts").get_data(as_text=True), who
    assert 'value="cashier"' in client.get("/admin/users").get_data(as_text=True)


def test_the_command_line_grants_the_cashier_role(books, app):
    """§15 出纳 is a role: `coop user grant` and `coop create-user` know it like the other village roles."""
    from coop.core.extensions import db
    from coop.models import User

    runner = app.test_cli_runner()
    r = runner.invoke(args=["coop", "user", "grant", "shenhe", "cashier", "--org", str(books.org.id)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["coop", "create-user", "--username", "chuna2", "--name", "钱出纳", "--password",
                            "Qiang-Zhi-2025", "--role", "cashier", "--org", str(books.org.id), "--one-time"])
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    for name in ("shenhe", "chuna2"):
        user = db.session.scalar(db.select(User).where(User.username == name))
        assert "cashier" in {ra.role for ra in user.roles if ra.organization_id == books.org.id}, name


def test_a_statement_imported_twice_names_the_beijing_day_of_the_first_import(real_books):
    """§15 bank statements: the same file again is refused, saying when it was imported — in Beijing time (an
    import at 01:00 Beijing on 1 April is stored as 17:00 UTC on 31 March)."""
    import datetime as dt

    import pytest

    from coop.core.errors import ValidationFailed
    from coop.core.extensions import db
    from coop.services import bank
    from tests.test_cash import MAPPING, csv_of, people as cash_people

    books = real_books
    _, cash, _ = cash_people(books)
    b1 = books.leaf("102", 1)
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行", account_no="6228000011112222")
    data = csv_of([("2025-03-02", "租金", "100.00", "", "A1")], "5000000.00")
    st = bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=data, mapping=MAPPING)
    st.statement.created_at = dt.datetime(2025, 3, 31, 17, 0)
    db.session.commit()
    with pytest.raises(ValidationFailed) as exc:
        bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=data, mapping=MAPPING)
    assert exc.value.errors == {"file": ["该文件已于 2025-04-01 导入（3月.csv），不能重复导入"]}


def test_the_printed_approval_form_dates_each_step_in_beijing_time(real_books):
    """§15 村级财务支出审批单: the date beside each decision is the Beijing day (a head's approval at 01:00 Beijing on
    1 April is stored as 17:00 UTC on 31 March)."""
    import datetime as dt

    from coop.core.extensions import db
    from coop.documents import cash as docs
    from coop.services import spending
    from tests.test_cash import file, people as cash_people

    books = real_books
    cash_people(books)
    req = file(books, "800.00")
    spending.decide(req, user=books.reviewer, step="head", decision="approve")
    [approval] = req.approvals
    approval.created_at = dt.datetime(2025, 3, 31, 17, 0)
    db.session.commit()
    t = docs.request_table(req, {books.reviewer.id: "李主任"})
    [row] = [r for r in t.rows if r.cells[0] == "村负责人审批"]
    assert row.cells[1] == "同意 李主任 2025-04-01"
