"""Who may open which web page: every web route of the app's URL map × every role, own and other village.

A route with no entry in EXPECT fails the test, naming the route: add new routes there. Roles (see World):
  acct   accountant of 东村 (A, whose pages are requested)      other  accountant of 西村 (B), on A's pages
  rev    reviewer of A                                         aud    township auditor of 东镇 (A's township)
  county county admin                                          member member of A (Member.user_id linked)
  anon   not logged in
GET routes are requested for every role; POST routes (no body) only for anon and other, which must be refused.
Outcomes: ok = 2xx/3xx/409/422 (3xx never to the login page); 403; 404; login = 302 to /login.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from coop import create_app
from coop.core.extensions import db
from coop.services import members, orgs, users
from tests.auth import Browser, browser, sign_in

ROLES = ("acct", "other", "rev", "aud", "county", "member", "anon")
#: routes anyone may call: the login itself, logout, language choice, and the public verification pages
PUBLIC = {"auth.login", "auth.logout", "auth.set_locale", "portal.verify", "disclosure.verify",
          "disclosure.verify_digest", "static",
          "setup.first_run"}  # 404 unless the database is empty and a setup token is set (tests/test_setup_imports.py)

# ---------------------------------------------------------------- expectations
#: outcome per role, in ROLES order (acct, other, rev, aud, county, member); anon is always "login"
BOOKS_READ = ("ok", "404", "ok", "ok", "ok", "403")  # a village's books: the village and its supervisors
BOOKS_WRITE = ("ok", "404", "403", "403", "403", "403")  # the accountant's forms
MISSING = ("404", "404", "404", "404", "404", "403")  # a record id that does not exist in this data set
MISSING_ANY = ("404", "404", "404", "404", "404", "404")
MISSING_WRITE = ("404", "404", "403", "403", "403", "403")  # a write form: the right is checked before the record
ORG_PUBLIC = ("ok", "404", "ok", "ok", "ok", "ok")  # members too (overview, disclosure list: redirect them)
COUNTY = ("404", "404", "404", "404", "ok", "404")  # county pages are hidden from everybody else
SUPERVISOR = ("404", "404", "404", "ok", "ok", "404")  # 经管站 / county desks, hidden from the villages
MEMBER_ONLY = ("404", "404", "404", "404", "404", "ok")
EVERYONE = ("ok",) * 6  # any signed-in user

#: endpoint → outcome per role for GET; POST-only endpoints get "post" (checked for anon and other only)
EXPECT: dict[str, tuple[str, ...] | str] = {
    "orgs.index": EVERYONE,
    "auth.tokens": EVERYONE,
    "admin.index": COUNTY,
    "admin.users_page": COUNTY,
    "admin.charter": COUNTY,
    "admin.accounts": SUPERVISOR,  # county admins, and township auditors for their villages' accounts
    "admin.account_reset": "post", "admin.account_deactivate": "post", "admin.account_reactivate": "post", "admin.account_revoke_tokens": "post",
    "admin.account_grant": "post", "admin.account_remove_role": "post",
    "auth.password": EVERYONE,
    "auditor.desk": SUPERVISOR,
    "auditor.registrations": SUPERVISOR,
    "auditor.questions": BOOKS_READ,
    "auditor.ask": "post", "auditor.answer": "post", "auditor.close": "post",
    "loans.county": SUPERVISOR, "loans.review_queue": SUPERVISOR,  # township auditors review claims
    "loans.claims": COUNTY, "loans.lpr": COUNTY, "loans.policy": COUNTY,
    "loans.report": MISSING_ANY,  # no policy for the year yet
    "loans.allocate": "post", "loans.claim_approve": "post", "loans.claim_disburse": "post",
    "loans.claim_review": "post",
    "loans.index": BOOKS_READ, "loans.loan_new": BOOKS_WRITE, "loans.loan_detail": MISSING,
    "loans.claim_new": MISSING_WRITE, "loans.claim_detail": MISSING, "loans.claim_refile": MISSING_WRITE,
    "loans.event_new": "post",
    "assets.index": BOOKS_READ, "assets.contract_new": BOOKS_WRITE, "assets.asset_new": BOOKS_WRITE,
    "assets.parcel_new": BOOKS_WRITE, "assets.contract_detail": MISSING, "assets.export": MISSING,
    "assets.contract_activate": "post", "assets.contract_receipt": "post", "assets.accrue": "post",
    "assets.depreciate": "post", "assets.depreciation_month": BOOKS_READ, "assets.import_page": BOOKS_WRITE, "assets.inventory": BOOKS_READ,
    "joint.index": EVERYONE,  # lists only the projects of the user's villages
    "joint.project_new": ("403", "403", "403", "403", "ok", "403"),
    "joint.project": MISSING_ANY, "joint.contribution_new": MISSING_ANY, "joint.exit_participant": MISSING_ANY,
    "joint.participant_new": MISSING_ANY, "joint.receive": MISSING_ANY, "joint.return_new": MISSING_ANY,
    "county.bands": SUPERVISOR, "county.balance_sheet": SUPERVISOR, "county.income_statement": SUPERVISOR,
    "county.annual_returns": SUPERVISOR, "county.village": SUPERVISOR, "county.set_target": "post",
    "county.budget": BOOKS_READ, "county.audit_case": MISSING_ANY,
    "county.audit_cases": ORG_PUBLIC,  # members see the published results
    "county.budget_lines": "post", "county.budget_approve": "post", "county.audit_open": "post",
    "county.audit_finding": "post", "county.audit_item": "post", "county.audit_item_done": "post",
    "county.audit_close": "post", "county.audit_publish": "post",
    "portal.me": MEMBER_ONLY,
    "portal.household": MEMBER_ONLY,
    "portal.certificate": ("404", "404", "404", "404", "404", "404"),  # no certificate issued
    "orgs.overview": ORG_PUBLIC,
    "ledger.accounts": BOOKS_READ, "ledger.opening": BOOKS_READ, "ledger.periods": BOOKS_READ,
    "ledger.vouchers": BOOKS_READ, "ledger.voucher_detail": BOOKS_READ,
    "ledger.voucher_new": BOOKS_WRITE, "ledger.voucher_edit": BOOKS_WRITE,
    "ledger.voucher_adjust": ("409", "404", "403", "403", "403", "403"),  # a draft is edited, not adjusted
    "ledger.attachment_download": MISSING,
    "ledger.account_add": "post", "ledger.account_active": "post", "ledger.account_rename": "post",
    "ledger.posting_roles": BOOKS_READ, "ledger.posting_role_set": "post", "admin.code_scheme": "post",
    "ledger.opening_counterparties": "post",
    "ledger.opening_save": "post", "ledger.opening_import": "post", "ledger.opening_lock": "post",
    "ledger.period_close": "post", "ledger.period_reopen": "post", "ledger.attachment_upload": "post",
    "ledger.attachment_delete": "post", "ledger.voucher_delete": "post", "ledger.voucher_post": "post",
    "ledger.voucher_reverse": "post", "ledger.voucher_review": "post", "ledger.voucher_unreview": "post",
    "reports.index": BOOKS_READ, "reports.balance_sheet": BOOKS_READ, "reports.detail_ledger": BOOKS_READ,
    "reports.general_ledger": BOOKS_READ, "reports.income_statement": BOOKS_READ, "reports.journal": BOOKS_READ,
    "reports.trial_balance": BOOKS_READ, "reports.voucher_pdf": BOOKS_READ,
    "members.index": BOOKS_READ,
    "members.roster_export": BOOKS_WRITE,  # ID numbers of every member: the village's own accountant only
    "members.household": BOOKS_READ,
    "members.member": BOOKS_READ, "members.member_new": BOOKS_WRITE, "members.household_new": BOOKS_WRITE,
    "members.roster_import": BOOKS_WRITE,
    "shares.register": BOOKS_READ, "shares.actions": BOOKS_READ, "shares.plans": BOOKS_READ,
    "shares.register_pdf": BOOKS_READ, "shares.register_xlsx": BOOKS_READ,
    "shares.event": BOOKS_WRITE,
    "shares.plan_form": BOOKS_READ,  # /plans/new shows the form read-only to supervisors
    "/o/<int:org_id>/shares/plans/<int:plan_id>": MISSING,  # the same endpoint, keyed by its rule
    "shares.reverse": MISSING_WRITE, "shares.certificate_pdf": MISSING, "shares.plan_inputs": MISSING,
    "shares.plan_preview": MISSING, "shares.plan_issue": "post",
    "distribution.index": BOOKS_READ, "distribution.compare": BOOKS_READ, "distribution.new_plan": BOOKS_WRITE,
    "distribution.mine": MEMBER_ONLY,
    "distribution.plan": MISSING, "distribution.approvals": MISSING, "distribution.dividends": MISSING,
    "distribution.dividends_pdf": MISSING, "distribution.dividends_xlsx": MISSING,
    "distribution.edit_plan": MISSING_WRITE,
    "distribution.approve": "post", "distribution.delete_plan": "post", "distribution.post": "post",
    "distribution.carry_over": "post", "distribution.policy": "post",
    "disclosure.index": ORG_PUBLIC, "disclosure.sheet": MISSING, "disclosure.sheet_pdf": MISSING,
    "disclosure.published": ("ok", "404", "ok", "ok", "ok", "ok"),
    "disclosure.published_sheet": MISSING_ANY, "disclosure.published_pdf": MISSING_ANY,
    "disclosure.approve": "post", "disclosure.correct": "post", "disclosure.publish": "post",
    "disclosure.rebuild": "post", "disclosure.review": "post", "disclosure.create": "post",
    "daily.todo_page": EVERYONE,
    "daily.sheets": ("404", "404", "404", "ok", "404", "404"),  # 民主理财小组 and 经管站 queues
    "daily.batch_page": ("ok", "404", "ok", "403", "403", "403"),  # 成批审核 (reviewer) / 成批记账 (accountant)
    "daily.templates_page": BOOKS_READ,
    "daily.template_save": "post", "daily.template_delete": "post", "daily.templates_generate": "post",
    "daily.voucher_ask": "post", "daily.voucher_answer": "post", "daily.voucher_close_question": "post",
    "setup.townships": COUNTY, "setup.progress_all": EVERYONE,  # lists only the villages whose books one reads
    "setup.progress": BOOKS_READ, "setup.chart": BOOKS_WRITE, "setup.opening": BOOKS_WRITE,
    "setup.chart_template": BOOKS_WRITE, "setup.opening_template": BOOKS_WRITE, "setup.portal": BOOKS_WRITE,
    # 报账/出纳 (#22): filing is open to the village's officers (not the township or county); the 出纳's files need
    # the village's accountant or cashier
    "cash.index": BOOKS_READ, "cash.journal": BOOKS_READ, "cash.bank_page": BOOKS_READ, "cash.payouts": BOOKS_READ,
    "cash.request_new": ("ok", "404", "ok", "403", "403", "403"),
    "cash.request_detail": MISSING, "cash.request_pdf": MISSING, "cash.scan_download": MISSING, "cash.reconciliation": MISSING,
    "cash.payout_file": MISSING_WRITE, "cash.policy": COUNTY, "cash.township_queue": SUPERVISOR,
    "cash.request_decide": "post", "cash.request_voucher": "post", "cash.count_new": "post", "cash.sign": "post",
    "cash.bank_account": "post", "cash.statement_import": "post", "cash.match_auto": "post",
    "cash.match_manual": "post", "cash.reconciliation_save": "post", "cash.payout_account": "post",
    "cash.payout_new": "post", "cash.payout_result": "post",
}


def _web_routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every web route that needs a signed-in user."""
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI="sqlite://")
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.endpoint in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.endpoint, rule.rule, method))
    return sorted(found, key=lambda r: (r[1], r[2]))


ROUTES = _web_routes()


def test_every_web_route_has_an_expectation():
    missing = sorted({f"{endpoint} ({rule})" for endpoint, rule, _ in ROUTES if endpoint not in EXPECT})
    assert not missing, f"web routes without an entry in tests/test_web_access.py EXPECT: {missing}"
    stale = sorted(set(EXPECT) - {e for e, _, _ in ROUTES} - {r for _, r, _ in ROUTES})
    assert not stale, f"EXPECT names endpoints that no longer exist: {stale}"
    assert len(ROUTES) > 100  # the map is really there


# ---------------------------------------------------------------- data


class World:
    """东村 (A, with a draft voucher and one household whose 户主 is the member user) and 西村 (B) in 东镇."""

    def __init__(self, app, books):
        self.app, self.books, self.a = app, books, books.org
        self.b = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
        self.other = users.create_user("kuaiji_b", "西村会计", "password1")
        users.assign_role(self.other, "accountant", self.b)
        self.member_user = users.create_user("chengyuan", "张成员", "password1")
        users.assign_role(self.member_user, "member", self.a)
        self.household = members.create_household(self.a)
        self.member = members.add_member(self.household, name="张大山", id_number="11010519491231002X",
                                         relation="户主")
        self.member.user_id = self.member_user.id
        self.voucher = books.draft("2025-01-05", ("101", "8", ""), ("102", "", "8"))
        db.session.commit()
        self.logins = {"acct": "kuaiji", "other": "kuaiji_b", "rev": "shenhe", "aud": "jingguan", "county": "xian",
                       "member": "chengyuan"}

    def client(self, role: str) -> Browser:
        c = browser(self.app)
        if role != "anon":
            sign_in(c, self.logins[role])
        return c

    def url(self, rule: str) -> str:
        values = {"org_id": self.a.id, "voucher_id": self.voucher.id, "household_id": self.household.id,
                  "member_id": self.member.id, "year": 2025, "month": 7, "code": "101", "kind": "transfer", "fmt": "xlsx"}

        def fill(m):
            converter, name = m.group(1) or "string", m.group(2)
            return str(values.get(name, 999999 if converter == "int" else "x"))

        return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule)


@pytest.fixture
def world(app, books):
    return World(app, books)


#: a page's title is text only (a template whose title block is left open swallows the page into <title>)
TITLE = re.compile(r"<title>[^<]+</title>")


def outcome(r) -> str:
    if r.status_code in (301, 302, 303) and "/login" in r.headers.get("Location", ""):
        return "login"
    if 200 <= r.status_code < 400 or r.status_code in (409, 422):
        return "ok" if r.status_code not in (409,) else "409"
    return str(r.status_code)


def _same(expected: str, got: str) -> bool:
    return expected == got or (expected == "ok" and got == "409")


@pytest.mark.parametrize("role", ROLES)
def test_web_access(world, role):
    client = world.client(role)
    failures = []
    for endpoint, rule, method in ROUTES:
        expect = EXPECT.get(rule, EXPECT.get(endpoint))
        if expect is None:
            continue  # reported by test_every_web_route_has_an_expectation
        if method == "POST":
            if role not in ("anon", "other") or (role == "other" and "<int:org_id>" not in rule):
                continue  # another village's accountant: only A's pages are someone else's
            want = "login" if role == "anon" else None
            r = client.post(world.url(rule))
            got = outcome(r)
            r.close()
            if (want and got != want) or (not want and got not in ("403", "404")):
                failures.append(f"POST {rule} ({endpoint}): {got}, expected {want or '403/404'}")
            continue
        if expect == "post":
            failures.append(f"GET {rule} ({endpoint}) is marked POST-only in EXPECT")
            continue
        want = "login" if role == "anon" else expect[ROLES.index(role)]
        r = client.get(world.url(rule))
        got = outcome(r)
        if r.status_code == 200 and r.mimetype == "text/html" and not TITLE.search(r.get_data(as_text=True)):
            failures.append(f"GET {rule} ({endpoint}): no plain-text <title> (a block left open in the template?)")
        r.close()
        if not _same(want, got):
            failures.append(f"GET {rule} ({endpoint}): {got}, expected {want}")
    assert not failures, f"{role}: " + "\n".join(failures)
