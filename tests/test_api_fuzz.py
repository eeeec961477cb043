"""Schemathesis over EVERY operation of the OpenAPI document (GET, POST, PUT, PATCH, DELETE), each generated
request sent as every identity: accountant, reviewer, 民主理财小组, township auditor, county admin, a member, and
nobody (no token). Path parameters name real objects of one seeded world (vouchers in every state, households,
an issued share plan, distribution plans draft and posted, sheets draft and published, a question, a loan with a
claim, a subsidy policy, a joint project with a declared return), so requests reach the views, not only the 404s.

Checks on every response: no server error, the status and the content type are documented, the body matches
its schema (the error envelope included), and no request that breaks the schema is accepted.

Bounded for CI (SQLite only, a few examples per operation, derandomized). `scripts/fuzz` runs the same test
longer and random: COOP_FUZZ_EXAMPLES (examples per operation and mode), COOP_FUZZ_SEED (random when unset),
COOP_FUZZ_DB=postgresql|both (sets COOP_FUZZ_PG, which lets this test run on PostgreSQL).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import time
import traceback
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from coop.core.extensions import db
from coop.services import disclosure, distribution, joint, loans, opening, orgs, shares, users, vouchers

SPEC = "/api/v1/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
#: examples per operation and generation mode; scripts/fuzz raises it
EXAMPLES = int(os.environ.get("COOP_FUZZ_EXAMPLES", "2"))
#: unset: derandomized (CI sees the same requests every run); scripts/fuzz sets a seed to explore
SEED = os.environ.get("COOP_FUZZ_SEED")
METHODS = ("get", "put", "patch", "post", "delete")  # the order operations run in: deletes last
D = Decimal


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite" and not os.environ.get("COOP_FUZZ_PG"):
        pytest.skip("the contract is backend-independent; SQLite keeps the fuzz run inside the CI budget")


@pytest.fixture
def render_once(monkeypatch):
    """Each PDF is rendered for real once per document; the same document asked for again (by the next identity)
    reuses those bytes. A render takes seconds on a loaded machine and its content is tested elsewhere
    (test_reports_render, test_certificates, test_distribution_web, test_disclosure_web); here the API around it
    is the subject: who may ask, the status, the content type."""
    import coop.api.reports as api_reports
    from coop.documents import disclosure as disclosure_pdf
    from coop.documents import distribution as distribution_pdf
    from coop.documents import shares as shares_pdf
    def once(module, name, key):
        real, cache = getattr(module, name), {}

        def wrapper(*args, **kwargs):
            k = key(*args, **kwargs)
            if k not in cache:
                cache[k] = real(*args, **kwargs)
            return cache[k]

        monkeypatch.setattr(module, name, wrapper)

    once(shares_pdf, "certificate_pdf", lambda cert: (cert.id, cert.revoked_on))
    once(distribution_pdf, "roll_pdf", lambda plan: (plan.id, plan.status))
    once(disclosure_pdf, "render_sheet_pdf", lambda d, **kw: (d.id, d.status, d.digest))
    once(api_reports, "render_voucher_pdf", lambda org, v: (v.id, v.status, v.number))
    once(api_reports, "render_pdf", repr)  # a ReportTable is a dataclass: its repr is its whole content


# ---------------------------------------------------------------- the seeded world


def seed(books) -> dict:
    """One village with a closed 2025 (the distribution example), 2026 open, and a joint project of two other
    villages: every kind of object the paths name. Returns the path-parameter values and every identity's token."""
    from tests.test_distribution import build_year_2025

    _, hh = build_year_2025(books)  # closes 2025; households 张/李 with an issued plan (certificates)
    org, acc, county = books.org, books.accountant, books.county
    today = dt.date.today()
    w: dict = {"org_id": org.id, "county_id": county.id, "year": 2026, "role": "interest_expense"}

    # vouchers in 2026: a draft, a reviewed one, a posted one
    w["draft"] = books.draft("2026-01-05", ("101", "100.00", ""), ("102", "", "100.00"), summary="备用金").id
    reviewed = books.draft("2026-01-06", ("101", "200.00", ""), ("102", "", "200.00"), summary="备用金")
    vouchers.review_voucher(reviewed, user=books.reviewer)
    w["reviewed"] = reviewed.id
    w["posted"] = books.post("2026-01-07", ("101", "300.00", ""), ("102", "", "300.00"), summary="备用金").id

    # members and shares: the plan of build_year_2025 is issued; one transfer gives a share action
    people = sorted((m for h in hh for m in h.members), key=lambda m: m.id)
    w["household_id"], w["member_id"] = hh[0].id, people[1].id
    w["share_plan"] = next(iter(shares_plans(org))).id
    action = shares.transfer_shares(org, from_member_id=people[0].id, to_member_id=people[1].id,
                                    share_class="population", units=D("1"), date=dt.date(2026, 2, 1),
                                    reference="转让协议1", user=acc, today=today)
    w["action_id"] = action.id
    w["cert_id"] = shares.current_certificate(hh[0]).id

    # distribution: a draft plan and a posted one
    example = dict(year=2025, record_date=dt.date(2025, 12, 31), member_pool=D("90000.00"),
                   cadre_reward=D("0.00"), other=D("0.00"))
    w["dist_draft"] = distribution.create_plan(org, name="草案", user=acc, **example).id
    posted_plan = distribution.create_plan(org, name="方案一", user=acc, **example)
    distribution.record_approval(posted_plan, step="party_proposal", date=dt.date(2025, 12, 26), reference="党支部",
                                 user=acc)
    distribution.record_approval(posted_plan, step="assembly", date=dt.date(2026, 1, 10), reference="决议",
                                 entitled=300, present=240, votes_for=230, materials_date=dt.date(2025, 12, 29),
                                 notice_date=dt.date(2025, 12, 31), user=acc)
    distribution.approve_plan(posted_plan, method="assembly", user=books.reviewer)
    distribution.post_plan(posted_plan, date=dt.date(2026, 1, 15), user=acc)
    w["dist_posted"] = posted_plan.id
    # 分红代发 (#22): a batch in flight for the household with a card
    from coop.services import payout

    payout.set_household_account(org, user=acc, household_id=hh[0].id, bank_name="农商银行", account_no="6228001111")
    w["batch_id"] = payout.create_batch(org, user=acc, plan_id=posted_plan.id, pay_from="102").id

    # disclosure: Q1 2025 published, Q2 2025 a draft; a question on the posted voucher
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", org)
    published = disclosure.create_sheet(org, kind="income_expense", start=dt.date(2025, 1, 1),
                                        end=dt.date(2025, 3, 31), user=acc)
    disclosure.finance_group_review(published, user=group, approve=True)
    disclosure.township_approve(published, user=books.auditor)
    disclosure.publish(published, user=acc, date=dt.date(2025, 4, 10), channel="村务公开栏",
                       render_pdf=lambda d: b"%PDF-1.7 fuzz")
    w["sheet_published"], w["digest"] = published.id, published.digest
    w["sheet_draft"] = disclosure.create_sheet(org, kind="income_expense", start=dt.date(2025, 4, 1),
                                               end=dt.date(2025, 6, 30), user=acc).id
    w["question_id"] = disclosure.ask_question(org, vouchers.get_voucher(org, w["posted"]), text="请附发票",
                                               user=books.auditor).id

    # loans: LPR, the 2026 policy, a special loan with interest paid, a filed claim
    admin = books.county_admin
    loans.set_lpr(county, dt.date(2025, 12, 20), D("0.030"), user=admin)
    loans.set_policy(county, 2026, fund=D("10000.00"), user=admin)
    loan = loans.create_loan(org, lender="农商银行", contract_no="NS-2026-001", principal=D("100000.00"),
                             annual_rate=D("0.042"), start_date=dt.date(2026, 1, 1),
                             maturity_date=dt.date(2027, 1, 1), special=True, user=acc)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2026, 1, 1), amount=D("100000.00"), user=acc)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2026, 4, 1), amount=D("1050.00"),
                            period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 4, 1), evidence="结息单",
                            user=acc)
    w["loan_id"] = loan.id
    w["claim_id"] = loans.file_claim(org, loan, start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 1),
                                     claimed=D("500.00"), user=acc).id

    # 三资 (#21): an effective lease and an asset card
    from coop.services import sanzi

    contract = sanzi.create_contract(org, dict(number="ZL-2026-001", kind="lease", counterparty="绿源公司",
                                               start_date=dt.date(2026, 1, 1), end_date=dt.date(2030, 12, 31),
                                               annual_amount=D("12000.00")), user=acc)
    sanzi.activate_contract(contract, user=acc)
    w["contract_id"], w["kind"] = contract.id, "parcels"
    w["asset_id"] = sanzi.register_asset(org, dict(number="GD-001", name="仓库", acquired_date=dt.date(2025, 12, 1),
                                                   cost=D("0.00"), life_months=240), user=acc).id
    w["item_id"] = sanzi.start_inventory(org, 2026, user=acc).items[0].id

    # 飞地抱团: a 2025 project of two other villages run by a 联营公司, with a declared 2025 return
    villages = [orgs.create_organization(books.township, name=f"{n}村", books_start_year=2025) for n in "南北"]
    operator = orgs.create_organization(books.township, name="强村公司", kind="joint_company",
                                        books_start_year=2025)
    for o in villages + [operator]:
        users.assign_role(acc, "accountant", o)
        opening.set_opening_balances(o, {"102": D("5000000.00"), "301": D("-5000000.00")}, user=acc)
        opening.lock_opening_balances(o, user=acc)
    project = joint.create_project(county, name="城东标准厂房", operator_org_id=operator.id, guarantor="县城投公司",
                                   start_date=dt.date(2025, 1, 1), fixed_rate=D("0.08"), user=admin)
    parts = [joint.add_participant(project, o, user=admin) for o in villages]
    for part in parts:
        joint.contribute(project, part, kind="cash", amount=D("100000.00"), date=dt.date(2025, 1, 1), user=admin)
    ret = joint.declare_return(project, year=2025, profit=D("30000.00"), date=dt.date(2025, 12, 31), user=admin)
    w["project_id"], w["participant_id"], w["line_id"] = project.id, parts[1].id, ret.lines[0].id

    # an account the county admin manages (reset, deactivate, roles): not one of the identities below
    target = users.create_user("guanli", "被管理的用户", "password1")
    users.assign_role(target, "finance_group", org)
    users.assign_role(target, "reviewer", org)
    w["user_id"], w["assignment_id"] = target.id, target.roles[0].id
    # county view: a budget for 2026 and an open audit case with a finding and a 整改 item
    from coop.services import audits, budgets

    budgets.set_lines(org, 2026, [{"account_code": "101", "amount": D("1000.00")}], user=acc)
    case = audits.open_case(org, kind="regular", title="年度审计", scope="2025年财务收支", period_from=dt.date(2025, 1, 1),
                            period_to=dt.date(2026, 12, 31), user=books.auditor, today=dt.date(2026, 1, 5))
    finding = audits.add_finding(case, text="备用金无审批", voucher_ids=[w["posted"]], user=books.auditor)
    item = audits.add_item(finding, action="补办审批", owner="会计", deadline=dt.date(2026, 3, 31), user=books.auditor)
    w["case_id"], w["finding_id"], w["item_id"] = case.id, finding.id, item.id

    # 报账 (#22): a request waiting for the village head
    from coop.services import spending

    w["request_id"] = spending.file_request(org, user=acc, handler="王会计", purpose="办公用品", payee="文具店",
                                            amount=D("300.00"), category="expense_admin", spent_on=dt.date(2026, 1, 5),
                                            scans=[("票.png", "image/png", b"\x89PNG\r\n\x1a\n0000")]).id

    # a member of the village who may log in to the member portal
    member_user = users.create_user("chengyuan", "张一", "password1")
    users.assign_role(member_user, "member", org)
    people[0].user_id = member_user.id

    tokens = {who: users.issue_api_token(getattr(books, who), "fuzz")
              for who in ("accountant", "reviewer", "auditor", "county_admin")}
    tokens["finance_group"] = users.issue_api_token(group, "fuzz")
    tokens["member"] = users.issue_api_token(member_user, "fuzz")
    tokens["nobody"] = None
    db.session.commit()
    return {"ids": w, "tokens": tokens}


def shares_plans(org):
    import sqlalchemy as sa

    from coop.models import QuantificationPlan

    return db.session.scalars(sa.select(QuantificationPlan).where(QuantificationPlan.organization_id == org.id))


#: which seeded object a path parameter names, by the end of the path (most specific first)
_BY_PATH = [
    ("/vouchers/{voucher_id}/unreview", {"voucher_id": "reviewed"}),
    ("/vouchers/{voucher_id}/post", {"voucher_id": "reviewed"}),
    ("/vouchers/{voucher_id}/reverse", {"voucher_id": "posted"}),
    ("/vouchers/{voucher_id}.pdf", {"voucher_id": "posted"}),
    ("/vouchers/{voucher_id}", {"voucher_id": "draft"}),
    ("/vouchers/{voucher_id}/review", {"voucher_id": "draft"}),
    ("/distribution-plans/{plan_id}/dividends", {"plan_id": "dist_posted"}),
    ("/distribution-plans/{plan_id}/dividends.pdf", {"plan_id": "dist_posted"}),
    ("/distribution-plans/{plan_id}/dividends.xlsx", {"plan_id": "dist_posted"}),
    ("/distribution-plans/{plan_id}/payments", {"plan_id": "dist_posted"}),
    ("/distribution-plans/{plan_id}", {"plan_id": "dist_draft"}),
    ("/distribution-plans/{plan_id}/preview", {"plan_id": "dist_draft"}),
    ("/distribution-plans/{plan_id}/approvals", {"plan_id": "dist_draft"}),
    ("/distribution-plans/{plan_id}/approve", {"plan_id": "dist_draft"}),
    ("/distribution-plans/{plan_id}/post", {"plan_id": "dist_draft"}),
    ("/plans/{plan_id}", {"plan_id": "share_plan"}),
    ("/plans/{plan_id}/inputs", {"plan_id": "share_plan"}),
    ("/plans/{plan_id}/preview", {"plan_id": "share_plan"}),
    ("/plans/{plan_id}/issue", {"plan_id": "share_plan"}),
    ("/disclosures/{disclosure_id}", {"disclosure_id": "sheet_draft"}),
    ("/disclosures/{disclosure_id}/pdf", {"disclosure_id": "sheet_published"}),
    ("/disclosures/{disclosure_id}/correction", {"disclosure_id": "sheet_published"}),
    ("/disclosures/{disclosure_id}/", {"disclosure_id": "sheet_draft"}),  # review, approve, publish, rebuild
]


def path_parameters(path: str, ids: dict) -> dict:
    names = re.findall(r"{(\w+)}", path)
    chosen: dict = {}
    for suffix, mapping in _BY_PATH:
        if path.endswith(suffix) or (suffix.endswith("/") and suffix in path):
            chosen = mapping
            break
    out = {}
    for name in names:
        key = chosen.get(name, name)
        assert key in ids, f"no seeded object for {{{name}}} in {path}"
        out[name] = ids[key]
    return out


# ---------------------------------------------------------------- the run


def _operations(schema):
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (METHODS.index(op.method.lower()), op.path))


def _run(op, mode, *, path_params, identities, failures, statuses):
    try:
        strategy = op.as_strategy(generation_mode=mode, path_parameters=path_params)
    except Unsatisfiable:
        return

    def body(case):
        for who, token in identities.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                statuses.append((op.label, who, response.status_code))
            # schemathesis raises a FailureGroup (a BaseExceptionGroup) for several failures at once
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected
                db.session.rollback()
                text = str(exc).strip() or repr(exc)
                if not isinstance(exc, (AssertionError, BaseExceptionGroup)):
                    # a crash in a view: the tests propagate exceptions (in production it is a 500 envelope)
                    frame = traceback.extract_tb(exc.__traceback__)[-1]
                    text = f"{type(exc).__name__}: {text} (raised at {frame.filename}:{frame.lineno})"
                failures.append(f"{mode.value} as {who}: {op.method.upper()} {op.path}\n{text[:1500]}\n"
                                f"  {case.as_curl_command(headers=headers)}")

    run = given(case=strategy)(body)
    if SEED is not None:
        run = hypothesis_seed(int(SEED))(run)
    run = settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                   derandomize=SEED is None, suppress_health_check=list(HealthCheck))(run)
    try:
        run()
    except Unsatisfiable:
        pass


def test_every_operation_as_every_identity(app, sqlite_only, books, render_once):
    world = seed(books)
    ids, identities = world["ids"], world["tokens"]
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    # the identities bring their own Authorization; generated (random or broken) tokens would only be 401s
    schema.config.generation.update(with_security_parameters=False)
    ops = _operations(schema)
    failures: list[str] = []
    statuses: list[tuple[str, str, int]] = []
    timings = []
    started = time.perf_counter()
    for op in ops:
        t0 = time.perf_counter()
        params = path_parameters(op.path, ids)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(op, mode, path_params=params, identities=identities, failures=failures, statuses=statuses)
        timings.append((time.perf_counter() - t0, op.label))
    elapsed = time.perf_counter() - started
    by_class = Counter(f"{status // 100}xx" for _, _, status in statuses)
    slowest = ", ".join(f"{label} {t:.1f}s" for t, label in sorted(timings, reverse=True)[:5])
    print(f"\nfuzzed {len(ops)} operations × {len(identities)} identities: {len(statuses)} requests in "
          f"{elapsed:.1f}s, {dict(sorted(by_class.items()))}, {len(failures)} failures; slowest: {slowest}")
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:40])
    # every method was exercised, and every operation got past authentication and the object lookup for someone
    assert {op.method.lower() for op in ops} >= {"get", "post", "put", "delete"}
    reached = {label for label, _, status in statuses if status not in (401, 403, 404)}
    assert [op.label for op in ops if op.label not in reached] == []
    # and nobody without a token got anything but a 401, except from the public verify answer and the first run
    # (guarded by the installer's setup token instead: 404 here, no token being set)
    assert {status for label, who, status in statuses if who == "nobody" and "/verify/" not in label
            and label != "POST /api/v1/setup/county"} == {401}
