"""Security review of the 报账/出纳, 三资 and county domains: bad input is a 4xx (never a 500) and a township outside
the user's own reads as 404, not 403."""
from __future__ import annotations

from coop.core.extensions import db
from coop.models.assets import Inventory
from coop.services import bank, orgs, users
from tests.conftest import count
from tests.realbooks import real_books  # noqa: F401  (fixture)


def _cashier(books):
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", books.org)
    code = books.leaf("102", 1)
    bank.set_account(books.org, user=cash, account_code=code, bank_name="农商银行")
    db.session.commit()
    return cash, code


def test_reconciliation_page_of_a_year_out_of_range_is_404(app, real_books, auth):
    cash, code = _cashier(real_books)
    c = auth.browser("chuna")
    base = f"/o/{real_books.org.id}/cash/bank/{code}"
    for year in (0, 99999):
        assert c.get(f"{base}/{year}/12").status_code == 404
        assert c.get(f"{base}/{year}/12?format=pdf").status_code == 404
        assert c.post(f"{base}/{year}/12/final").status_code == 404


def test_api_months_out_of_the_calendar_are_422(app, real_books, auth):
    cash, code = _cashier(real_books)
    c, org = app.test_client(), real_books.org
    for month in ("0000-01", "9999-12"):
        r = c.get(f"/api/v1/orgs/{org.id}/cash-journal?account_code={code}&month={month}", headers=auth.headers(cash))
        assert r.status_code == 422 and "month" in r.get_json()["errors"]
        r = c.get(f"/api/v1/orgs/{org.id}/bank-reconciliation?account_code={code}&month={month}", headers=auth.headers(cash))
        assert r.status_code == 422 and "month" in r.get_json()["errors"]
        r = c.post(f"/api/v1/orgs/{org.id}/bank-reconciliation/final", json={"account_code": code, "month": month},
                   headers=auth.headers(cash))
        assert r.status_code == 422 and "month" in r.get_json()["errors"]
    r = c.get(f"/api/v1/orgs/{org.id}/cash-journal?account_code={code}&month=2025-03", headers=auth.headers(cash))
    assert r.status_code == 200


def test_inventory_of_a_year_out_of_range_is_refused(app, real_books, auth):
    c, org = app.test_client(), real_books.org
    for year in (99999, 1):
        r = c.post(f"/api/v1/orgs/{org.id}/inventories/{year}", json={}, headers=auth.headers(real_books.accountant))
        assert r.status_code == 422 and "year" in r.get_json()["errors"]
    r = auth.browser("kuaiji").post(f"/o/{org.id}/sanzi/inventory/99999", data={"action": "start"})
    assert r.status_code == 422 and "年份应在1990到2100之间" in r.get_data(as_text=True)
    assert count(Inventory) == 0


def test_another_township_of_the_county_is_404_for_a_township_auditor(app, real_books, auth):
    books = real_books
    west = orgs.create_township(books.county, "西镇")
    orgs.create_organization(west, name="西村股份经济合作社", books_start_year=2025)
    db.session.commit()
    c = app.test_client()
    r = c.get(f"/api/v1/counties/{books.county.id}/bands?township_id={west.id}", headers=auth.headers(books.auditor))
    assert r.status_code == 404
    r = c.get(f"/api/v1/counties/{books.county.id}/bands?township_id={books.township.id}", headers=auth.headers(books.auditor))
    assert r.status_code == 200
    assert auth.browser("jingguan").get(f"/county/?county={books.county.id}&township={west.id}").status_code == 404


def test_web_ids_and_years_that_int_cannot_hold_are_4xx(app, real_books, auth):
    """'²' passes str.isdigit() but not int(); 2**40 passes int() but not a PostgreSQL integer column."""
    org = real_books.org
    acc, head = auth.browser("kuaiji"), auth.browser("shenhe")
    for bad in ("²", str(2**40)):
        assert head.get(f"/o/{org.id}/batch?ids={bad}").status_code == 200, bad
        assert head.get(f"/o/{org.id}/batch?year={bad}").status_code == 200, bad
        assert acc.post(f"/o/{org.id}/templates", data={"voucher_id": bad}).status_code == 404
        # '²' is no template id (the empty form); 2**40 is one that does not exist
        assert acc.get(f"/o/{org.id}/vouchers/new?template={bad}").status_code == (200 if bad == "²" else 404), bad
        assert acc.get(f"/o/{org.id}/budgets?year={bad}").status_code == 200
        assert acc.post(f"/o/{org.id}/budgets/approve", data={"year": bad}).status_code == 422
        assert acc.post(f"/o/{org.id}/budgets/lines", data={"year": bad}).status_code == 422
    assert auth.browser("xian").get("/county/?county=²").status_code == 404


def test_portal_accounts_with_an_id_that_cannot_be_one_open_nobody(app, books, auth):
    """A selection with an id that is not one was dropped, and an empty selection means every household head."""
    import datetime as dt

    from coop.models import User
    from coop.services import members
    from tests.test_members_web import FIXTURE_TODAY, IDS

    org = books.org
    h = members.create_household(org, address="东村一组")
    m = members.add_member(h, name="张大山", id_number=IDS[0], relation="户主")
    members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="决议", user=books.accountant,
                                    today=FIXTURE_TODAY)
    db.session.commit()
    before = count(User)
    acc = auth.browser("kuaiji")
    for bad in ("²", str(2**40), "abc"):
        r = acc.post(f"/o/{org.id}/portal-accounts", data={"member_id": bad})
        assert r.status_code == 422 and "找不到该成员" in r.get_data(as_text=True)
    assert count(User) == before


def test_result_file_with_a_sequence_int_cannot_read_is_refused_by_row(real_books):
    import datetime as dt

    import pytest

    from coop.core.errors import ValidationFailed
    from coop.services import payout
    from tests.test_cash import people, posted_plan

    books = real_books
    _, cash, _ = people(books)
    plan, ha, hb = posted_plan(books)
    payout.set_household_account(books.org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    payout.set_household_account(books.org, user=cash, household_id=hb.id, bank_name="农商银行", account_no="6228002222")
    batch = payout.create_batch(books.org, user=cash, plan_id=plan.id, pay_from=books.leaf("102", 2))
    db.session.commit()
    result = ("序号,卡号,金额,处理结果,失败原因\n"
              "²,6228001111,24640.00,成功,\n"
              "2,6228002222,15360.00,成功,\n").encode("utf-8")
    with pytest.raises(ValidationFailed, match="第2行：序号「²」不在本批次中或重复"):
        payout.import_result(batch, user=books.accountant, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))


def test_township_queue_leaves_out_a_village_where_the_auditor_is_only_a_member(app, books, auth):
    """A township auditor who is also a member of a village of another township sees that village's household only,
    not its 报账单."""
    import datetime as dt
    from decimal import Decimal

    from coop.services import spending
    from tests.test_cash import SCAN

    west = orgs.create_township(books.county, "西镇")
    village = orgs.create_organization(west, name="西村股份经济合作社", books_start_year=2025)
    acc2, head2 = users.create_user("kuaiji2", "西会计", "password1"), users.create_user("zhuren2", "西主任", "password1")
    users.assign_role(acc2, "accountant", village)
    users.assign_role(head2, "reviewer", village)
    users.assign_role(books.auditor, "member", village)
    spending.set_policy(books.county, user=books.county_admin, finance_group_above=Decimal("2000.00"),
                        meeting_above=Decimal("50000.00"), township_review=True, cash_payment_limit=Decimal("1000.00"),
                        request_required_above=Decimal("500.00"))
    for org, acc, head, purpose in ((books.org, books.accountant, books.reviewer, "东村修渠"),
                                    (village, acc2, head2, "西村修路")):
        req = spending.file_request(org, user=acc, handler="经办人", purpose=purpose, payee="施工队",
                                    amount=Decimal("1500.00"), category="expense_public", spent_on=dt.date(2025, 3, 1),
                                    scans=SCAN)
        spending.decide(req, user=head, step="head", decision="approve")
    db.session.commit()
    page = auth.browser("jingguan").get("/cash/queue").get_data(as_text=True)
    assert "东村修渠" in page and "西村修路" not in page


def test_older_pages_read_superscript_digits_as_no_number(app, real_books, auth):
    """The same '²' (isdigit, not int) in the query strings of the older pages: their defaults, never a 500."""
    org = real_books.org
    acc = auth.browser("kuaiji")
    for url in (f"/o/{org.id}/distribution/?year=²", f"/o/{org.id}/distribution/compare?year=2025&plan=²",
                f"/o/{org.id}/disclosure/?year=²", f"/o/{org.id}/vouchers?year=²&month=²"):
        assert acc.get(url).status_code == 200, url
    # the report pages validate their period: a precise message, not a default
    r = acc.get(f"/o/{org.id}/reports/trial-balance?year=²")
    assert r.status_code == 422 and "年份必须是整数" in r.get_data(as_text=True)
