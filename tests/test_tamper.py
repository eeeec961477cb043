"""Someone with write access to the database, but not the audit key, changes what the application recorded:
`coop verify` exits non-zero and names what changed (issue 17). A rebuilt chain — even by someone holding the key —
fails against a head recorded outside the database."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditHead, AuditLog, Disclosure, Period, RoleAssignment, Voucher, VoucherLine
from coop.models.distribution import HouseholdDividend
from coop.ledger.digest import rows_digest
from coop.services import audit
from coop.services.disclosure import digest_of
from tests.conftest import superuser_engine
from tests.test_verify_cli import published, verify  # noqa: F401  (fixture)


def behind_the_app(*statements: str, **params) -> None:
    """Run SQL as an intruder would: straight on the database, the guard triggers out of the way."""
    with superuser_engine().begin() as conn:  # not the app's role: it may not bypass the guard triggers
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET session_replication_role = replica")
            for s in statements:
                conn.execute(sa.text(s), params)
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")
        else:
            triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type='trigger'").all()
            for name, _ in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            for s in statements:
                conn.execute(sa.text(s), params)
            for _, sql in triggers:
                conn.exec_driver_sql(sql)
    db.session.expire_all()


def problems_of(result) -> str:
    assert result.exit_code == 1, result.output
    return result.stderr


def entries(action: str | None = None) -> list[AuditLog]:
    q = sa.select(AuditLog).where(AuditLog.seq.is_not(None)).order_by(AuditLog.seq)
    if action:
        q = q.where(AuditLog.action == action)
    return list(db.session.scalars(q))


def posted_voucher(books) -> Voucher:
    return db.session.scalars(sa.select(Voucher).where(Voucher.organization_id == books.org.id,
                                                       Voucher.kind == "normal")).one()


def test_intact_books_pass_every_check(published, app):
    r = verify(app)
    assert r.exit_code == 0, r.output
    assert "角色分配与授权记录一致" in r.output


def test_last_entries_deleted_with_rewound_head(published, app):
    first, second = published
    log = entries()
    keep = log[-2]
    assert log[-1].action == "disclosure.publish" and log[-1].target == str(second.id)
    behind_the_app("DELETE FROM audit_log WHERE seq > :seq",
                   "UPDATE audit_head SET last_seq = :seq, last_hash = :hash", seq=keep.seq, hash=keep.hash)
    assert audit.verify_chain() == []  # the chain alone cannot tell: what it recorded can
    err = problems_of(verify(app))
    assert f"公开表 {second.id}：状态为已公开，审计日志中没有它的公开记录" in err


def test_posted_voucher_set_back_to_draft(published, app, books):
    v = posted_voucher(books)
    post = entries("voucher.post")[0]
    behind_the_app("UPDATE vouchers SET status = 'draft', poster_id = NULL, posted_at = NULL WHERE id = :id", id=v.id)
    err = problems_of(verify(app))
    assert f"凭证 id {v.id} 已记账（审计日志第 {post.seq} 条），现在的状态却是 draft（记账被撤销）" in err


def _insert_backdated_cash_out(books) -> int:
    """A posted 记-0002 dated 2025-02-20 (a closed month): Dr 501 / Cr 101 500.00, copied from the real voucher."""
    v = posted_voucher(books)
    vt, lt = Voucher.__table__, VoucherLine.__table__
    row = dict(db.session.execute(sa.select(vt).where(vt.c.id == v.id)).mappings().one())
    row.update(id=None, date=dt.date(2025, 2, 20), month=2, number=1)
    row.pop("id")
    behind_the_app(
        f"INSERT INTO vouchers ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", **row)
    new_id = db.session.scalar(sa.select(sa.func.max(Voucher.id)))
    accounts = {l.account.code: l.account_id for l in v.lines}
    cash = db.session.execute(sa.text("SELECT id FROM accounts WHERE organization_id = :o AND code = '101'"),
                              {"o": books.org.id}).scalar_one()
    for seq, (account, debit, credit) in enumerate([(accounts["501"], 50000, 0), (cash, 0, 50000)], start=1):
        behind_the_app("INSERT INTO voucher_lines (voucher_id, seq, account_id, summary, debit, credit) "
                       "VALUES (:v, :s, :a, '付款', :d, :c)", v=new_id, s=seq, a=account, d=debit, c=credit)
    return new_id


@pytest.mark.parametrize("forgery", ["plain", "wrong_key"])
def test_backdated_voucher_with_a_forged_posting_entry(published, app, books, forgery):
    new_id = _insert_backdated_cash_out(books)
    from coop.services import integrity

    head = db.session.get(AuditHead, 1)
    entry = dict(action="voucher.post", user_id=books.accountant.id, organization_id=books.org.id,
                 target=str(new_id), detail=json.dumps({"lines": "x"}), created_at=dt.datetime(2025, 2, 20, 9),
                 seq=head.last_seq + 1, prev_hash=head.last_hash)
    rows = integrity._raw_lines()[new_id]
    entry["detail"] = json.dumps({"lines": rows_digest(rows)}, sort_keys=True)
    row = type("Row", (), entry)
    if forgery == "plain":  # continues the chain the old, unkeyed way
        entry.update(key_id=None, hash=audit.entry_hash(head.last_hash, row))
    else:  # claims the current key, but the intruder does not have it
        kid, _ = audit.current_key()
        entry.update(key_id=kid, hash=audit.entry_mac(b"guessed-key-0123456789", kid, head.last_hash, row))
    behind_the_app(f"INSERT INTO audit_log ({', '.join(entry)}) VALUES ({', '.join(':' + k for k in entry)})",
                   "UPDATE audit_head SET last_seq = :seq, last_hash = :hash", **entry)
    err = problems_of(verify(app))
    if forgery == "plain":
        assert f"审计日志第 {entry['seq']} 条" in err and "签名链中出现未签名的记录" in err
    else:
        assert f"审计日志第 {entry['seq']} 条" in err and "密钥签名不符" in err


def test_published_sheet_rows_edited_with_digest_recomputed(published, app):
    first, second = published
    data = second.data.replace("12345.67", "2345.67")
    publish = [e for e in entries("disclosure.publish") if e.target == str(second.id)][0]
    behind_the_app("UPDATE disclosures SET data = :data, digest = :digest WHERE id = :id",
                   data=data, digest=digest_of(data), id=second.id)
    err = problems_of(verify(app))
    assert (f"公开表 {second.id}：数据摘要与公开时记录的不符（审计日志第 {publish.seq} 条；数据和摘要被一起改写）"
            in err)


def test_closed_month_set_back_to_open(published, app, books):
    close = [e for e in entries("period.close") if e.target == "2025-03"][0]
    behind_the_app("UPDATE periods SET status = 'open', closed_at = NULL, closed_by_id = NULL "
                   "WHERE organization_id = :o AND year = 2025 AND month = 3", o=books.org.id)
    err = problems_of(verify(app))
    assert f"东村股份经济合作社 2025-03：已结账（审计日志第 {close.seq} 条），现在却是未结账（被改回）" in err


def test_county_admin_role_inserted(published, app, books):
    behind_the_app("INSERT INTO role_assignments (user_id, role, county_id, created_at) "
                   "VALUES (:u, 'county_admin', :c, :t)", u=books.accountant.id, c=books.county.id,
                   t=dt.datetime(2026, 1, 1))
    err = problems_of(verify(app))
    assert f"用户 kuaiji 的角色 county_admin（county {books.county.id}）没有授权记录（直接写入数据库）" in err


def test_role_revoked_through_the_service_is_recorded(books, app):
    from coop.services import users

    ra = next(r for r in books.reviewer.roles if r.role == "reviewer")
    users.revoke_role(books.reviewer, ra, by=books.county_admin)
    db.session.commit()
    assert verify(app).exit_code == 0
    assert entries("role.revoke")[-1].target == str(books.reviewer.id)


def test_household_dividend_raised(year_2025, app):
    from tests.test_distribution import approve, make_plan
    from coop.services import distribution

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    assert verify(app).exit_code == 0
    behind_the_app("UPDATE household_dividends SET amount = amount + 100000 WHERE plan_id = :p AND household_id = :h",
                   p=plan.id, h=hb.id)  # 34,560.00 → 35,560.00
    err = problems_of(verify(app))
    assert f"收益分配方案 {plan.id}（2025年度）：分红清册与记账时不符（某户分红被改动）" in err


def test_household_payee_relabelled(year_2025, app):
    """A 分红清册 row's 211 label changed behind the app: payments would debit a counterparty never credited."""
    from tests.test_distribution import approve, make_plan
    from coop.services import distribution

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    assert verify(app).exit_code == 0
    behind_the_app("UPDATE household_dividends SET payee = '0002 李二' WHERE plan_id = :p AND household_id = :h",
                   p=plan.id, h=hb.id)
    err = problems_of(verify(app))
    assert (f"收益分配方案 {plan.id}（2025年度）：分红清册“0002 李二”应付 34560.00，记账凭证贷记该户 0.00，不符"
            "（往来户名被改动）") in err


def test_dividend_payment_changed_against_its_voucher(year_2025, app):
    from tests.test_distribution import approve, make_plan
    from coop.models.distribution import DividendPayment
    from coop.services import distribution, vouchers

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    pay = distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    db.session.commit()
    behind_the_app("UPDATE dividend_payments SET amount = amount - 5494000 WHERE voucher_id = :v",
                   v=pay.id)  # 55,440.00 → 500.00
    err = problems_of(verify(app))
    assert f"分红发放凭证 id {pay.id}：发放记录合计 500.00，凭证金额 55440.00，不符" in err


@pytest.fixture
def year_2025(books):
    from tests.test_distribution import build_year_2025

    return build_year_2025(books)


# ---------------------------------------------------------------- anchors


def _rebuild_from(seq: int, edit: dict) -> None:
    """An insider holding the key edits entry `seq` and re-signs every entry after it."""
    kid, material = audit.current_key()
    t = AuditLog.__table__
    prev = db.session.scalar(sa.select(t.c.hash).where(t.c.seq == seq - 1))
    with db.engine.begin() as conn:
        conn.execute(t.update().where(t.c.seq == seq).values(**edit))
        for row in conn.execute(sa.select(t).where(t.c.seq >= seq).order_by(t.c.seq)).all():
            mac = audit.entry_mac(material, row.key_id, prev, row)
            conn.execute(t.update().where(t.c.id == row.id).values(prev_hash=prev, hash=mac))
            prev = mac
        conn.execute(AuditHead.__table__.update().values(last_hash=prev))
    db.session.expire_all()


def test_rebuilt_chain_fails_against_the_recorded_anchor(published, app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "anchor.json"
    r = runner.invoke(args=["coop", "verify", "--anchor", "-o", str(path)])
    assert r.exit_code == 0, r.output
    recorded = json.loads(path.read_text())
    head = db.session.get(AuditHead, 1)
    assert recorded == {"seq": head.last_seq, "mac": head.last_hash, "key_id": audit.current_key()[0]}
    assert json.dumps(recorded, sort_keys=True) in r.output
    review = entries("voucher.review")[0]
    _rebuild_from(review.seq, {"user_id": None})  # who reviewed is erased, the chain re-signed
    assert audit.verify_chain() == []
    assert runner.invoke(args=["coop", "verify"]).exit_code == 0
    r = runner.invoke(args=["coop", "verify", "--against-anchor", str(path)])
    assert r.exit_code == 1
    assert f"审计日志第 {recorded['seq']} 条的签名与外部记录的链头不符（日志被重建）" in r.stderr


def test_truncated_chain_fails_against_the_recorded_anchor(published, app, tmp_path):
    path = tmp_path / "anchor.json"
    path.write_text(audit.anchor().as_json())
    keep = entries()[-3]
    behind_the_app("DELETE FROM audit_log WHERE seq > :seq",
                   "UPDATE audit_head SET last_seq = :seq, last_hash = :hash", seq=keep.seq, hash=keep.hash)
    r = app.test_cli_runner().invoke(args=["coop", "verify", "--against-anchor", str(path)])
    assert r.exit_code == 1 and "已不存在，而外部记录的链头是它（日志被截断或重建）" in r.stderr


def test_head_is_printed_on_the_published_sheet(published, app):
    from coop.documents import disclosure as disclosure_pdf
    first, second = published
    from coop.services import audit

    with app.test_request_context():
        html = disclosure_pdf.sheet_html(second)
    head = audit.anchor()
    assert head.seq > 0 and f"审计链 第{head.seq}条 {head.mac[:16]}" in html  # the head as it stands, to the entry


# ---------------------------------------------------------------- keys


def test_row_inserted_behind_the_app_is_never_sealed(books, app):
    behind_the_app("INSERT INTO audit_log (action, target, created_at) VALUES ('role.grant', '999', :t)",
                   t=dt.datetime(2026, 1, 1))
    books.lock_opening()
    books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    forged = db.session.scalars(sa.select(AuditLog).where(AuditLog.target == "999", AuditLog.action == "role.grant",
                                                          AuditLog.user_id.is_(None))).one()
    assert forged.seq is None
    assert any(f"审计日志记录 id {forged.id}（role.grant）不是由系统写入的" in p for p in audit.verify_chain())


def test_rotation_keeps_old_entries_verifiable(books, app, tmp_path):
    old = app.config["AUDIT_KEY"]
    key_file = tmp_path / "audit.key"
    key_file.write_text(old.replace(":", " ", 1) + "\n")
    app.config.update(AUDIT_KEY=None, AUDIT_KEY_FILE=str(key_file))
    app.extensions.pop("coop_audit_keys", None)
    try:
        books.lock_opening()
        books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
        db.session.commit()
        r = app.test_cli_runner().invoke(args=["coop", "audit-key", "rotate"])
        assert r.exit_code == 0, r.output
        assert [line.split()[0] for line in key_file.read_text().splitlines()] == ["test", "k2"]
        books.post("2025-01-06", ("101", "100.00", ""), ("102", "", "100.00"))
        db.session.commit()
        kids = [e.key_id for e in entries()]
        assert kids[0] == "test" and kids[-1] == "k2" and "audit.key_rotate" in [e.action for e in entries()]
        assert audit.verify_chain() == []
        # without the old key, the old entries can no longer be checked: said, not passed
        key_file.write_text(key_file.read_text().splitlines()[1] + "\n")
        app.extensions.pop("coop_audit_keys", None)
        assert any("未知的密钥编号 test" in p for p in audit.verify_chain())
    finally:
        app.config.update(AUDIT_KEY=old, AUDIT_KEY_FILE=None)
        app.extensions.pop("coop_audit_keys", None)


def test_plain_chain_is_anchored_by_the_first_keyed_seal(books, app):
    """A database upgraded from the plain chain: its entries keep their SHA-256 links and the next seal continues
    them with a keyed `audit.anchor` entry that records the plain head and the roles granted so far."""
    books.lock_opening()
    books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    t = AuditLog.__table__
    prev = audit.GENESIS
    with db.engine.begin() as conn:  # turn the chain into what migrations find: plain, no key ids
        for row in conn.execute(sa.select(t).order_by(t.c.seq)).all():
            h = audit.entry_hash(prev, row)
            conn.execute(t.update().where(t.c.id == row.id).values(key_id=None, prev_hash=prev, hash=h))
            prev = h
        conn.execute(AuditHead.__table__.update().values(last_hash=prev, key_id=None))
    db.session.expire_all()
    assert "审计日志没有任何密钥签名的记录（哈希链可能被重建）" in audit.verify_chain()
    plain_seq = db.session.get(AuditHead, 1).last_seq
    r = app.test_cli_runner().invoke(args=["coop", "audit-key", "seal"])
    assert r.exit_code == 0, r.output
    anchor = entries("audit.anchor")[0]
    assert anchor.seq == plain_seq + 1 and anchor.key_id == audit.current_key()[0]
    assert json.loads(anchor.detail)["plain_head"] == {"seq": plain_seq, "hash": prev}
    assert audit.verify_chain() == []
    assert verify(app).exit_code == 0
