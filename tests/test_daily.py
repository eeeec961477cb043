"""Daily work (#20) at the service level, on both databases: the 待办 counts per role (and that they cost the same
few queries for two organizations or eight), 成批审核 / 成批记账 with what was skipped and why, the 结账
blockers, 常用凭证 and monthly vouchers (once per month), answers with attachments on a posted voucher, the
API's batch endpoints, and Beijing's today."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from coop.core import clock
from coop.core.errors import Forbidden, InvalidState, PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.models import Attachment, AuditLog, QuestionAttachment, Voucher, VoucherTemplateRun
from coop.services import attachments, batch, disclosure, orgs, todo, users
from coop.services import voucher_templates as templates
from coop.services.answers import answer_with_files

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def ready(books):
    books.lock_opening({"101": "5000.00", "102": "20000.00", "301": "-25000.00"})
    db.session.commit()
    return books


def counts(user, today=dt.date(2025, 2, 20)) -> dict[tuple[str, int | None], int]:
    return {(i.key, i.org.id if i.org else None): i.count for i in todo.todo_for(user, today).items}


def test_todo_counts_per_role(ready):
    org, acc, rev, aud = ready.org, ready.accountant, ready.reviewer, ready.auditor
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", org)
    # three drafts of January; one of them reviewed; one posted and questioned twice
    d1 = ready.draft("2025-01-05", ("101", "10.00", ""), ("102", "", "10.00"))
    d2 = ready.draft("2025-01-06", ("101", "20.00", ""), ("102", "", "20.00"))
    ready.draft("2025-01-07", ("101", "30.00", ""), ("102", "", "30.00"))
    from coop.services import vouchers

    vouchers.review_voucher(d1, user=rev)
    p = ready.post("2025-01-08", ("102", "40.00", ""), ("101", "", "40.00"))
    q1 = disclosure.ask_question(org, p, text="附件呢？", user=aud)
    disclosure.ask_question(org, p, text="收款人是谁？", user=aud)
    db.session.commit()
    assert counts(rev) == {("review", org.id): 2}  # d2 and the third: d1 is reviewed
    # the accountant: 1 to post, 2 questions to answer, and the 2024Q4? no — books start 2025-01: nothing due yet
    assert counts(acc) == {("post", org.id): 1, ("answer", org.id): 2}
    assert counts(aud) == {}
    disclosure.answer_question(q1, text="已补", user=acc)
    db.session.commit()
    assert counts(acc)[("answer", org.id)] == 1
    assert counts(aud) == {("close_question", org.id): 1}
    assert counts(ready.county_admin) == {}  # did not ask: the township auditor closes
    # a quarter ends: 2025Q1 is due for disclosure once April begins
    assert counts(acc, today=dt.date(2025, 4, 1))[("disclosure_due", org.id)] == 1
    assert counts(acc, today=dt.date(2025, 7, 1))[("disclosure_due", org.id)] == 2
    # the sheet's way: 民主理财小组 → 经管站 → the accountant publishes
    vouchers.review_voucher(d2, user=rev)
    for v in db.session.scalars(sa.select(Voucher).where(Voucher.status != "posted")):
        if v.status == "draft":
            vouchers.review_voucher(v, user=rev)
        vouchers.post_voucher(v, user=acc)
    ready.close_through(2025, 3)
    d = disclosure.create_sheet(org, kind="income_expense", start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31),
                                user=acc)
    db.session.commit()
    assert counts(group) == {("sheet_group", org.id): 1}
    assert todo.sheets_waiting(group) == [(d, "group")] and todo.sheets_waiting(aud) == []
    disclosure.finance_group_review(d, user=group, approve=True)
    db.session.commit()
    assert counts(group) == {} and counts(aud)[("sheet_township", org.id)] == 1
    assert todo.sheets_waiting(aud) == [(d, "township")]
    disclosure.township_approve(d, user=aud)
    db.session.commit()
    assert counts(acc, today=dt.date(2025, 4, 20))[("sheet_publish", org.id)] == 1
    disclosure.publish(d, user=acc, date=dt.date(2025, 4, 10), channel="村务公开栏", render_pdf=lambda s: b"%PDF-")
    db.session.commit()
    after = counts(acc, today=dt.date(2025, 7, 1))
    assert ("sheet_publish", org.id) not in after and after[("disclosure_due", org.id)] == 1  # only Q2 now


def test_reviewer_who_also_prepares_is_not_asked_to_review_their_own(ready):
    both = users.create_user("both", "兼职", "password1")
    users.assign_role(both, "accountant", ready.org)
    users.assign_role(both, "reviewer", ready.org)
    from coop.services import vouchers

    mine = {"date": dt.date(2025, 1, 3), "lines": [
        {"summary": "自己做的", "account_code": "101", "debit": Decimal("1"), "credit": Decimal("0")},
        {"summary": "自己做的", "account_code": "102", "debit": Decimal("0"), "credit": Decimal("1")}]}
    vouchers.create_draft(ready.org, mine, user=both)
    ready.draft("2025-01-04", ("101", "2.00", ""), ("102", "", "2.00"))
    db.session.commit()
    assert counts(both) == {("review", ready.org.id): 1}


def test_todo_costs_the_same_queries_for_many_organizations(ready, app):
    """Two villages or eight: the same number of statements (aggregates over all of them, not one per village)."""
    auditor = ready.auditor
    users.assign_role(users.create_user("licai", "理财", "password1"), "finance_group", ready.org)

    def statements() -> int:
        seen = []
        engine = db.engine
        listener = lambda *a: seen.append(1)  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            todo.todo_for(auditor, dt.date(2025, 8, 1))
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    orgs.create_organization(ready.township, name="西村", books_start_year=2025)
    db.session.commit()
    few = statements()
    for i in range(6):
        o = orgs.create_organization(ready.township, name=f"村{i}", books_start_year=2025)
        users.assign_role(ready.accountant, "accountant", o)
    db.session.commit()
    assert statements() == few
    assert few <= 8


def _drafts(ready, n: int, month: int = 1):
    return [ready.draft(f"2025-{month:02d}-{day:02d}", ("101", f"{day}.00", ""), ("102", "", f"{day}.00"),
                        summary=f"第{day}笔") for day in range(n, 0, -1)]  # entered newest first


def test_batch_review_numbers_in_date_order_and_skips_with_reasons(ready):
    from coop.services import vouchers

    both = users.create_user("both", "兼职", "password1")
    users.assign_role(both, "accountant", ready.org)
    users.assign_role(both, "reviewer", ready.org)
    _drafts(ready, 4)
    own = vouchers.create_draft(ready.org, {"date": dt.date(2025, 1, 2), "lines": [
        {"summary": "自己做的", "account_code": "101", "debit": Decimal("9"), "credit": Decimal("0")},
        {"summary": "自己做的", "account_code": "102", "debit": Decimal("0"), "credit": Decimal("9")}]}, user=both)
    db.session.commit()
    chosen = batch.candidates(ready.org, "review", year=2025, month=1)
    assert [v.date.day for v in chosen] == [1, 2, 2, 3, 4]
    preview = batch.preview(ready.org, "review", both, chosen)
    assert len(preview.done) == 4 and [(s.voucher.id, s.reason) for s in preview.skipped] == [
        (own.id, "制单人不能审核自己编制的凭证")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status == "draft")) == 5
    result = batch.run(ready.org, "review", both, chosen)
    db.session.commit()
    assert [(v.date.day, v.number) for v in result.done] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert [s.voucher.id for s in result.skipped] == [own.id] and own.status == "draft" and own.number is None
    # a second run finds nothing left for this reviewer, and says why for the rest
    again = batch.run(ready.org, "review", both, batch.candidates(ready.org, "review", year=2025, month=1))
    assert again.done == [] and [s.reason for s in again.skipped] == ["制单人不能审核自己编制的凭证"]
    # the other reviewer takes it
    result = batch.run(ready.org, "review", ready.reviewer, batch.candidates(ready.org, "review", year=2025, month=1))
    db.session.commit()
    assert [(v.id, v.number) for v in result.done] == [(own.id, 5)]


def test_batch_post_then_close_the_month(ready):
    _drafts(ready, 10)
    db.session.commit()
    blockers = batch.close_blockers(ready.org, 2025, 1, today=dt.date(2025, 2, 1))
    assert [(b.message, b.steps) for b in blockers] == [
        ("本月还有 10 张凭证未记账（制单或已审核）", [("review", 10, "10 张待审核")])]
    batch.run(ready.org, "review", ready.reviewer, batch.candidates(ready.org, "review", year=2025, month=1))
    db.session.commit()
    blockers = batch.close_blockers(ready.org, 2025, 1, today=dt.date(2025, 2, 1))
    assert [b.steps for b in blockers] == [[("post", 10, "10 张待记账")]]
    # the reviewer may not post: refused before anything changes
    with pytest.raises(Forbidden) as exc:
        batch.run(ready.org, "post", ready.reviewer, batch.candidates(ready.org, "post", year=2025, month=1))
    assert exc.value.status_code == 403
    db.session.rollback()
    result = batch.run(ready.org, "post", ready.accountant, batch.candidates(ready.org, "post", year=2025, month=1))
    db.session.commit()
    assert len(result.done) == 10 and result.skipped == []
    # each posting logged with its lines' digest, as one by one
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "voucher.post")) == 10
    assert batch.close_blockers(ready.org, 2025, 1, today=dt.date(2025, 2, 1)) == []
    assert [b.message for b in batch.close_blockers(ready.org, 2025, 1, today=dt.date(2025, 1, 20))] == [
        "2025年1月尚未结束，不能结账"]
    from coop.services import closing

    closing.close_period(ready.org, 2025, 1, user=ready.accountant, today=dt.date(2025, 2, 1))
    db.session.commit()
    # a draft dated in the closed month cannot exist; a selection of posted vouchers is all skipped
    posted = batch.candidates(ready.org, "post", ids=[v.id for v in result.done[:2]])
    skipped = batch.run(ready.org, "post", ready.accountant, posted).skipped
    assert [s.reason for s in skipped] == ["已经记账", "已经记账"]


def test_batch_selection_never_reaches_another_village(ready):
    west = orgs.create_organization(ready.township, name="西村", books_start_year=2025)
    users.assign_role(ready.accountant, "accountant", west)
    users.assign_role(ready.reviewer, "reviewer", west)
    ours = _drafts(ready, 1)[0]
    from coop.services import opening, vouchers

    opening.lock_opening_balances(west, user=ready.accountant)
    theirs = vouchers.create_draft(west, {"date": dt.date(2025, 1, 9), "lines": [
        {"summary": "西村", "account_code": "101", "debit": Decimal("5"), "credit": Decimal("0")},
        {"summary": "西村", "account_code": "102", "debit": Decimal("0"), "credit": Decimal("5")}]},
        user=ready.accountant)
    db.session.commit()
    chosen = batch.candidates(ready.org, "review", ids=[ours.id, theirs.id])
    assert chosen == [ours]


def test_monthly_template_generates_once_per_month(ready):
    rent = ready.post("2025-01-31", ("102", "1500.00", ""), ("501", "", "1500.00"), summary="收到门面房租金")
    db.session.commit()
    t = templates.save_template(ready.org, name="门面房租金", voucher=rent, monthly=True, day=25,
                                user=ready.accountant)
    db.session.commit()
    assert templates.template_lines(t) == [
        {"summary": "收到门面房租金", "account_code": "102", "debit": "1500.00", "credit": "", "counterparty": ""},
        {"summary": "收到门面房租金", "account_code": "501", "debit": "", "credit": "1500.00", "counterparty": ""}]
    made, done = templates.generate_month(ready.org, 2025, 2, user=ready.accountant)
    db.session.commit()
    assert [(v.date, v.status, str(v.total_debit)) for v in made] == [(dt.date(2025, 2, 25), "draft", "1500.00")]
    again, done = templates.generate_month(ready.org, 2025, 2, user=ready.accountant)
    db.session.commit()
    assert again == [] and done == ["门面房租金"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoucherTemplateRun)) == 1
    # a template with amounts left to type cannot be monthly; names are unique per organization
    with pytest.raises(ValidationFailed) as exc:
        templates.save_template(ready.org, name="门面房租金", voucher=rent, monthly=True, keep_amounts=False,
                                user=ready.accountant)
    assert set(exc.value.errors) == {"name", "monthly"}
    db.session.rollback()
    ready.close_through(2025, 1)
    with pytest.raises(PeriodClosed):
        templates.generate_month(ready.org, 2025, 1, user=ready.accountant)


def test_picker_has_pinyin_initials_and_full_paths(books):
    from coop.services import accounts

    ready = books
    accounts.add_detail_account(ready.org, "102", "10201", "农业银行")
    db.session.commit()
    by_code = {a["code"]: a for a in templates.picker_accounts(ready.org)}
    assert by_code["10201"]["path"] == "10201 银行存款—农业银行"
    assert by_code["10201"]["py"].split() == ["nyyh", "yhcknyyh"]
    assert "102" not in by_code  # no longer a leaf
    assert templates.initials("库存现金") == "kcxj"


def test_answer_with_an_attachment_on_a_posted_voucher(ready, app):
    v = ready.post("2025-01-08", ("513", "80.00", ""), ("101", "", "80.00"), summary="买办公用品")
    q = disclosure.ask_question(ready.org, v, text="请附发票", user=ready.auditor)
    db.session.commit()
    # a posted voucher takes no attachment the ordinary way
    with pytest.raises(InvalidState):
        attachments.add_attachment(v, "发票.pdf", "application/pdf", PDF, user=ready.accountant)
    db.session.rollback()
    # a bad file refuses the whole answer: nothing written
    with pytest.raises(ValidationFailed) as exc:
        answer_with_files(q, text="已附", files=[("发票.pdf", "application/pdf", b"not a pdf")], user=ready.accountant)
    assert "file" in exc.value.errors
    db.session.rollback()
    assert db.session.get(type(q), q.id).status == "open"
    answer_with_files(q, text="发票已补", files=[("发票.pdf", "application/pdf", PDF)], user=ready.accountant)
    db.session.commit()
    att = db.session.scalar(sa.select(Attachment).where(Attachment.voucher_id == v.id))
    assert (q.status, q.answer, att.filename, att.size) == ("answered", "发票已补", "发票.pdf", len(PDF))
    assert db.session.scalar(sa.select(QuestionAttachment.question_id)) == q.id
    log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "attachment.add"))
    assert log.target == str(v.id)
    # append-only: it cannot be removed from the posted voucher
    with pytest.raises(InvalidState):
        attachments.remove_attachment(att, user=ready.accountant)


def test_api_batch_review_and_post(ready, client):
    _drafts(ready, 3)
    rev_token = users.issue_api_token(ready.reviewer, "t")
    acc_token = users.issue_api_token(ready.accountant, "t")
    db.session.commit()
    r = client.post(f"/api/v1/orgs/{ready.org.id}/vouchers/batch-review", json={"year": 2025, "month": 1},
                    headers={"Authorization": f"Bearer {rev_token}"})
    assert r.status_code == 200, r.json
    assert len(r.json["done"]) == 3 and r.json["skipped"] == [] and r.json["step"] == "review"
    # the accountant may not review; an empty body names what is missing
    r = client.post(f"/api/v1/orgs/{ready.org.id}/vouchers/batch-review", json={"year": 2025, "month": 1},
                    headers={"Authorization": f"Bearer {acc_token}"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/orgs/{ready.org.id}/vouchers/batch-post", json={},
                    headers={"Authorization": f"Bearer {acc_token}"})
    assert r.status_code == 422 and "_schema" in r.json["errors"]
    r = client.post(f"/api/v1/orgs/{ready.org.id}/vouchers/batch-post", json={"ids": [999999]},
                    headers={"Authorization": f"Bearer {acc_token}"})
    assert r.status_code == 200 and r.json["done"] == []
    r = client.post(f"/api/v1/orgs/{ready.org.id}/vouchers/batch-post", json={"year": 2025, "month": 1},
                    headers={"Authorization": f"Bearer {acc_token}"})
    assert r.status_code == 200 and len(r.json["done"]) == 3
    r = client.get("/api/v1/todo", headers={"Authorization": f"Bearer {acc_token}"})
    # nothing left to post; what remains is disclosure: every quarter ended since 2025-01 (today is the real day)
    today = clock.today()
    ended = (today.year - 2025) * 4 + (today.month - 1) // 3
    assert r.status_code == 200 and r.json == [
        {"key": "disclosure_due", "label": "应公开未公开的季度", "count": ended, "organization_id": ready.org.id,
         "url": f"/o/{ready.org.id}/disclosure/"}]


def test_today_is_beijing_today():
    assert clock.today() == dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_an_answers_attachment_on_a_draft_cannot_be_removed(ready, app):
    """A question on a reviewed-then-unreviewed draft (numbered, so never deleted): its scans may be removed, not
    what was added in answer."""
    from coop.services import vouchers

    v = ready.draft("2025-01-08", ("513", "80.00", ""), ("101", "", "80.00"), summary="买办公用品")
    vouchers.review_voucher(v, user=ready.reviewer)
    vouchers.unreview_voucher(v, user=ready.reviewer)
    own = attachments.add_attachment(v, "收据.png", "image/png", b"\x89PNG\r\n", user=ready.accountant)
    q = disclosure.ask_question(ready.org, v, text="请附发票", user=ready.auditor)
    answer_with_files(q, text="已附", files=[("发票.pdf", "application/pdf", PDF)], user=ready.accountant)
    db.session.commit()
    answered = db.session.scalar(sa.select(Attachment).where(Attachment.filename == "发票.pdf"))
    with pytest.raises(InvalidState, match="答复质询时补充的附件不能删除"):
        attachments.remove_attachment(answered, user=ready.accountant)
    db.session.rollback()
    attachments.remove_attachment(db.session.get(Attachment, own.id), user=ready.accountant)
    db.session.commit()
    assert db.session.scalars(sa.select(Attachment.filename)).all() == ["发票.pdf"]
