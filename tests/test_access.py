"""Who sees which books (RULES §12): nobody sees an organization they are not assigned to — it answers 404, never
403 — a township auditor reads every village of the township but writes nothing, a county admin reads the county.

Every endpoint under /api/v1/orgs/<int:org_id> is taken from the app's URL map, so endpoints added later are
covered without touching this file.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from coop import create_app
from coop.core.extensions import db
from coop.models import Account, OpeningBalance, Organization, Period, Voucher, VoucherLine
from coop.services import orgs, users

ORG_PREFIX = "/api/v1/orgs/<int:org_id>"
#: non-GET requests a township auditor may make on a village's books: 反结账, and POSTs that write nothing.
#: Any other write must answer them 403 (list a new one here when the rules give supervisors that right).
SUPERVISOR_MAY = {
    ORG_PREFIX + "/periods/reopen",
    ORG_PREFIX + "/loans/<int:loan_id>/claim-preview",  # a calculation; "Nothing is written"
    ORG_PREFIX + "/distribution-plans/preview",  # what-if, not saved
    ORG_PREFIX + "/disclosures/<int:disclosure_id>/approve",  # 经管站 approves disclosures (RULES §10)
    ORG_PREFIX + "/questions",  # 质询 on a voucher (RULES §10)
    ORG_PREFIX + "/questions/<int:question_id>/close",
    ORG_PREFIX + "/audits",  # 立案: the 经管站 opens audit cases on its villages (RULES §16)
    ORG_PREFIX + "/spending-requests/<int:request_id>/decisions",  # 乡镇代理中心审核 of a 报账单 (RULES §15)
}


def _org_routes() -> dict[str, list[tuple[str, str]]]:
    """(rule, method) of every endpoint under /api/v1/orgs/<int:org_id>, by blueprint."""
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI="sqlite://")
    routes: dict[str, list[tuple[str, str]]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule == ORG_PREFIX or rule.rule.startswith(ORG_PREFIX + "/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.setdefault(rule.endpoint.split(".")[0], []).append((rule.rule, method))
    return {bp: sorted(r) for bp, r in sorted(routes.items())}


#: one test per blueprint (each needs a fresh set of villages; one per route would cost minutes), each route
#: checked in turn and every failing route reported
ROUTES_BY_BLUEPRINT = _org_routes()
ORG_ROUTES = [r for routes in ROUTES_BY_BLUEPRINT.values() for r in routes]

#: a well-formed body for each known write, so a refusal cannot be blamed on the body
BODIES = {
    ("/accounts", "POST"): {"parent_code": "102", "code": "10201", "name": "农商银行"},
    ("/opening-balances", "PUT"): {"balances": [{"account_code": "102", "amount": "100.00"},
                                                {"account_code": "301", "amount": "-100.00"}]},
    ("/vouchers", "POST"): {"date": "2025-01-10", "lines": [
        {"summary": "提现", "account_code": "101", "debit": "500.00"},
        {"summary": "提现", "account_code": "102", "credit": "500.00"}]},
    ("/vouchers/<int:voucher_id>", "PUT"): {"date": "2025-01-11", "lines": [
        {"summary": "提现", "account_code": "101", "debit": "50.00"},
        {"summary": "提现", "account_code": "102", "credit": "50.00"}]},
    ("/vouchers/<int:voucher_id>/reverse", "POST"): {"date": "2025-01-20"},
    ("/periods/close", "POST"): {"year": 2025, "month": 1},
    ("/periods/reopen", "POST"): {"year": 2025, "month": 1, "reason": "更正"},
}
#: query parameters a read needs (the others work without)
READ_QUERY = {"/reports/detail-ledger": {"code": "102"}, "/budgets": {"year": 2026},
              "/cash-journal": {"account_code": "102", "month": "2025-01"},  # 报账/出纳 (#22)
              "/bank-reconciliation": {"account_code": "102", "month": "2025-01"}}


def test_the_url_map_has_the_ledger_endpoints():
    """Guards the parametrization itself: an empty or shrunken list would make the tests below vacuous."""
    assert ("/api/v1/orgs/<int:org_id>/vouchers", "POST") in ORG_ROUTES
    assert ("/api/v1/orgs/<int:org_id>/periods/reopen", "POST") in ORG_ROUTES
    assert sum(m == "GET" for _, m in ORG_ROUTES) >= 6 and sum(m != "GET" for _, m in ORG_ROUTES) >= 11


class World:
    """东镇 has 东村 (A, the `books` village) and 西村 (B); 南镇 in the same county has 南村 (C); 邻县 has 北村 (D).
    A and B have one draft voucher each; B has its own accountant; a member of A and a user without roles exist."""

    def __init__(self, books):
        self.books = books
        self.a = books.org
        self.b = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
        # C and D only need to exist: no chart of accounts (saves most of the setup time)
        south = orgs.create_township(books.county, "南镇")
        self.c = Organization(township_id=south.id, name="南村经济合作社", kind="village_economic", books_start_year=2025)
        other = orgs.create_township(orgs.create_county("邻县"), "北镇")
        self.d = Organization(township_id=other.id, name="北村经济合作社", kind="village_economic", books_start_year=2025)
        db.session.add_all([self.c, self.d])
        db.session.flush()
        self.nobody = users.create_user("wuming", "无角色", "password1")
        self.member = users.create_user("chengyuan", "成员", "password1")
        users.assign_role(self.member, "member", self.a)
        users.assign_role(users.create_user("kuaiji_b", "西村会计", "password1"), "accountant", self.b)
        self.drafts = {org.id: self._draft(org) for org in (self.a, self.b)}
        self.tokens = {}
        db.session.commit()

    def _draft(self, org):
        import datetime as dt
        from decimal import Decimal

        from coop.models import User
        from coop.services import access, vouchers

        accountant = next(u for u in db.session.scalars(sa.select(User)) if access.can(u, access.PREPARE, org))
        line = lambda code, d, c: {"summary": "提现", "account_code": code, "debit": Decimal(d), "credit": Decimal(c)}
        v = vouchers.create_draft(org, {"date": dt.date(2025, 1, 5), "lines": [line("101", "8", "0"),
                                                                              line("102", "0", "8")]}, user=accountant)
        return v.id

    def headers(self, user) -> dict:
        if user.id not in self.tokens:
            self.tokens[user.id] = users.issue_api_token(user, "test")
            db.session.commit()
        return {"Authorization": f"Bearer {self.tokens[user.id]}"}

    def url(self, rule: str, org_id: int) -> str:
        def fill(m):
            converter, name = m.group(1) or "string", m.group(2)
            if name == "org_id":
                return str(org_id)
            if name == "voucher_id":
                return str(self.drafts.get(org_id, 999999))
            if converter.startswith("any("):  # <any(contracts, assets):kind>: the first choice
                return converter[4:-1].split(",")[0].strip()
            return "1" if converter == "int" else "x"

        return re.sub(r"<(?:(\w+(?:\([^)]*\))?):)?(\w+)>", fill, rule)


@pytest.fixture
def world(books):
    return World(books)


def db_state():
    db.session.rollback()
    q = db.session.execute
    return (
        q(sa.select(Voucher.id, Voucher.status, Voucher.number, Voucher.date).order_by(Voucher.id)).all(),
        q(sa.select(VoucherLine.id, VoucherLine.debit, VoucherLine.credit).order_by(VoucherLine.id)).all(),
        q(sa.select(sa.func.count()).select_from(Account)).scalar(),
        q(sa.select(OpeningBalance.account_id, OpeningBalance.amount).order_by(OpeningBalance.id)).all(),
        q(sa.select(Organization.id, Organization.opening_locked).order_by(Organization.id)).all(),
        q(sa.select(Period.organization_id, Period.year, Period.month, Period.status)).all(),
    )


def call(client, world, user, rule, method, org_id):
    suffix = rule[len(ORG_PREFIX):]
    kwargs = {"json": BODIES.get((suffix, method), {})} if method != "GET" else {"query_string": READ_QUERY.get(suffix)}
    return client.open(world.url(rule, org_id), method=method, headers=world.headers(user), **kwargs)


def route_access_failures(client, world, rule, method) -> list[str]:
    """What is wrong with who may call (rule, method); empty when all is as RULES §12 says."""
    failures = []

    def check(ok: bool, who: str, r):
        if not ok:
            failures.append(f"{who}: {r.status_code} {r.get_data(as_text=True)[:200]}")

    # the accountant of A: B, a village of another township, of another county, and no village at all are 404
    for org_id in (world.b.id, world.c.id, world.d.id, 999999):
        r = call(client, world, world.books.accountant, rule, method, org_id)
        check(r.status_code == 404 and r.json == {"status": 404, "code": "not_found", "message": "找不到该组织",
                                                  "errors": {"_schema": ["找不到该组织"]}},
              f"accountant of A on org {org_id}", r)

    # the township auditor of 东镇: reads A and B, writes neither; C and D (other townships) do not exist
    auditor = world.books.auditor
    # ids other than org_id and voucher_id are placeholders of records that do not exist
    placeholder = any(name not in ("org_id", "voucher_id")
                      for name in re.findall(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", rule))
    for org in (world.a, world.b):
        r = call(client, world, auditor, rule, method, org.id)
        if method == "GET" and placeholder:  # the record is missing, not the organization or the right to read
            ok = r.status_code == 404 and r.json["message"] != "找不到该组织"
        elif method == "GET":
            ok = r.status_code == 200
        elif rule in SUPERVISOR_MAY:
            # allowed; refused, if at all, for the state of the books or the body (reopen: nothing closed, 409)
            ok = r.status_code not in (401, 403) and r.status_code < 500 and r.json.get("message") != "找不到该组织"
        else:
            ok = r.status_code == 403
        check(ok, f"township auditor on {org.name}", r)
    for org in (world.c, world.d):
        r = call(client, world, auditor, rule, method, org.id)
        check(r.status_code == 404, f"township auditor on {org.name}", r)
    return failures


@pytest.mark.parametrize("blueprint", ROUTES_BY_BLUEPRINT)
def test_endpoint_access(world, client, blueprint):
    failures = {}
    for rule, method in ROUTES_BY_BLUEPRINT[blueprint]:
        before = db_state()
        found = route_access_failures(client, world, rule, method)
        if db_state() != before:
            found.append("the database changed")
        if found:
            failures[f"{method} {rule.replace(ORG_PREFIX, '')}"] = found
    assert failures == {}


def test_township_auditor_sees_the_drafts_of_b(world, client):
    r = client.get(f"/api/v1/orgs/{world.b.id}/vouchers", headers=world.headers(world.books.auditor))
    assert [v["id"] for v in r.json["items"]] == [world.drafts[world.b.id]]
    assert r.json["items"][0]["total_debit"] == "8.00"


def test_county_admin_sees_the_county_only(world, client):
    h = world.headers(world.books.county_admin)
    for org, drafts in ((world.a, 1), (world.b, 1), (world.c, 0)):
        r = client.get(f"/api/v1/orgs/{org.id}/vouchers", headers=h)
        assert r.status_code == 200 and r.json["total"] == drafts
    assert client.get(f"/api/v1/orgs/{world.d.id}/vouchers", headers=h).status_code == 404
    # and writes only what a supervisor writes
    r = client.post(f"/api/v1/orgs/{world.c.id}/vouchers", json=BODIES[("/vouchers", "POST")], headers=h)
    assert r.status_code == 403


def test_member_sees_the_organization_but_not_its_books(world, client):
    h = world.headers(world.member)
    assert client.get(f"/api/v1/orgs/{world.a.id}", headers=h).json["name"] == "东村股份经济合作社"
    assert client.get(f"/api/v1/orgs/{world.a.id}/vouchers", headers=h).status_code == 403
    assert client.get(f"/api/v1/orgs/{world.b.id}", headers=h).status_code == 404


def test_org_list_is_exactly_the_assigned_orgs(world, client):
    def names(user):
        r = client.get("/api/v1/orgs", headers=world.headers(user))
        assert r.status_code == 200
        return sorted(o["name"] for o in r.json)

    a, b, c = "东村股份经济合作社", "西村股份经济合作社", "南村经济合作社"
    assert names(world.books.accountant) == [a]
    assert names(world.books.reviewer) == [a]
    assert names(world.member) == [a]
    assert names(world.books.auditor) == sorted([a, b])
    assert names(world.books.county_admin) == sorted([a, b, c])
    assert names(world.nobody) == []
    # one accountant keeping the books of two villages (村账镇管) sees both
    users.assign_role(world.books.accountant, "accountant", world.b)
    db.session.commit()
    assert names(world.books.accountant) == sorted([a, b])
    r = client.get(f"/api/v1/orgs/{world.b.id}/vouchers", headers=world.headers(world.books.accountant))
    assert r.status_code == 200 and r.json["total"] == 1
