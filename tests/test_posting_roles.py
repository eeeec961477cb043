"""科目对照 (RULES §2 posting roles): defaults while the default account is a leaf, a required mapping once it has
sub-accounts, set/clear through the service, the page and the API, refusals naming the role, nothing written."""
from __future__ import annotations

import pytest

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger import roles as R
from coop.models import AuditLog, PostingRoleMapping
from coop.services import accounts, roles
from tests.conftest import count


def test_default_applies_while_leaf_then_mapping_required(books):
    org = books.org
    assert roles.resolve(org, R.BANK) == "102"
    assert roles.resolve(org, R.UNDISTRIBUTED) == "32202"
    accounts.add_detail_account(org, "102", "10201", "农商银行")
    accounts.add_detail_account(org, "102", "10202", "邮储银行")
    with pytest.raises(ValidationFailed) as e:
        roles.resolve(org, R.BANK)
    assert "银行存款" in e.value.message and "科目对照" in e.value.message
    assert e.value.errors == {"roles": {"bank": [e.value.message]}}
    with pytest.raises(ValidationFailed) as e:
        roles.resolve(org, R.BANK, field="pay_account")
    assert "pay_account" in e.value.errors
    # a leaf chosen on the form wins, and must lie under 102
    assert roles.resolve(org, R.BANK, chosen="10202") == "10202"
    with pytest.raises(ValidationFailed, match="102 下的末级科目"):
        roles.resolve(org, R.BANK, chosen="101")
    with pytest.raises(ValidationFailed, match="有下级科目"):
        roles.resolve(org, R.BANK, chosen="102")
    st = {s.key: s for s in roles.statuses(org)}
    assert st[R.BANK].problem == roles.NOT_LEAF and st[R.CASH].ok
    roles.set_mapping(org, R.BANK, "10201", user=books.accountant)
    assert roles.resolve(org, R.BANK) == "10201"
    st = {s.key: s for s in roles.statuses(org)}
    assert st[R.BANK].ok and st[R.BANK].mapped and st[R.BANK].code == "10201"
    # adding a detail under the mapped leaf breaks the mapping: shown, and refused when posting
    accounts.add_detail_account(org, "10201", "1020101", "基本户")
    assert {s.key: s for s in roles.statuses(org)}[R.BANK].problem == roles.NOT_LEAF
    with pytest.raises(ValidationFailed, match="10201"):
        roles.resolve(org, R.BANK)
    # clearing goes back to the default (102, non-leaf): unresolvable again
    roles.set_mapping(org, R.BANK, None, user=books.accountant)
    assert count(PostingRoleMapping) == 0
    actions = [a.action for a in db.session.query(AuditLog).order_by(AuditLog.id)]
    assert actions.count("posting_role.set") == 2


@pytest.mark.parametrize("code, message", [
    ("101", "102 下的末级科目"), ("102", "有下级科目"), ("999", "不存在"),
])
def test_set_mapping_refuses_what_is_not_a_leaf_under_the_top(books, code, message):
    accounts.add_detail_account(books.org, "102", "10201", "农商银行")
    with pytest.raises(ValidationFailed, match=message) as e:
        roles.set_mapping(books.org, R.BANK, code, user=books.accountant)
    assert "account_code" in e.value.errors
    assert count(PostingRoleMapping) == 0


def test_api_lists_and_puts(client, books, auth):
    accounts.add_detail_account(books.org, "515", "51501", "利息支出")
    accounts.add_detail_account(books.org, "515", "51502", "其他")
    db.session.commit()
    h = auth.headers(books.accountant)
    url = f"/api/v1/orgs/{books.org.id}/posting-roles"
    body = {r["role"]: r for r in client.get(url, headers=h).get_json()}
    assert body["interest_expense"]["problem"] == "not_leaf"
    assert body["interest_expense"]["account_code"] == "515"
    assert body["cash"] == {"role": "cash", "label": "库存现金", "top": "101", "money": True, "account_code": "101",
                            "account_name": "库存现金", "mapped": False, "problem": None}
    r = client.put(url + "/interest_expense", json={"account_code": "51502x"}, headers=h)
    assert r.status_code == 422 and "account_code" in r.get_json()["errors"]
    r = client.put(url + "/interest_expense", json={"account_code": "515"}, headers=h)
    assert r.status_code == 422 and "有下级科目" in r.get_json()["errors"]["account_code"][0]
    assert count(PostingRoleMapping) == 0
    r = client.put(url + "/interest_expense", json={"account_code": "51501"}, headers=h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["problem"] is None and r.get_json()["mapped"] is True
    assert client.put(url + "/nope", json={"account_code": "51501"}, headers=h).status_code == 404
    # the township auditor reads but may not change the mapping
    ha = auth.headers(books.auditor)
    assert client.get(url, headers=ha).status_code == 200
    assert client.put(url + "/interest_expense", json={"account_code": None}, headers=ha).status_code == 403


def test_page_shows_problems_and_saves(client, books, auth):
    accounts.add_detail_account(books.org, "102", "10201", "农商银行")
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(f"/o/{books.org.id}/accounts/roles").get_data(as_text=True)
    assert 'data-role="bank"' in page and "非末级，请指定" in page
    r = client.post(f"/o/{books.org.id}/accounts/roles/bank", data={"account_code": "101"})
    assert r.status_code == 422 and "102 下的末级科目" in r.get_data(as_text=True)
    r = client.post(f"/o/{books.org.id}/accounts/roles/bank", data={"account_code": "10201"})
    assert r.status_code == 302
    assert roles.resolve(books.org, R.BANK) == "10201"


def test_concurrent_mappings_of_one_role_leave_one_row(app, books, backend):
    """Two accountants map the same role at the same moment (PostgreSQL; SQLite serialises writers): the
    organization row lock makes the second update the first one's row instead of failing on the unique key."""
    import threading

    from coop.models import Organization, User

    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite serialises writers anyway")
    accounts.add_detail_account(books.org, "102", "10201", "农商银行")
    accounts.add_detail_account(books.org, "102", "10202", "邮储银行")
    db.session.commit()
    org_id, user_id = books.org.id, books.accountant.id
    barrier, errors = threading.Barrier(2), []

    def worker(code):
        with app.app_context():
            try:
                org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
                barrier.wait(timeout=30)
                roles.set_mapping(org, R.BANK, code, user=user)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(c,)) for c in ("10201", "10202")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and count(PostingRoleMapping) == 1
    db.session.expire_all()
    assert roles.resolve(books.org, R.BANK) in ("10201", "10202")
