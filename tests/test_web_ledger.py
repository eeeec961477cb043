"""The accountant's ledger pages through the test client: voucher entry with every error beside its field,
the 制单 → 审核 → 记账 flow, attachments, chart, opening balances, periods, and organization isolation."""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Attachment, OpeningBalance, Period, Voucher, VoucherLine
from tests.conftest import count

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def form(*lines, date="2025-01-15", word="记", attachment_count="0", **extra) -> dict:
    """lines: (summary, account, debit, credit) or with a fifth item, the counterparty."""
    data = {"date": date, "word": word, "attachment_count": attachment_count, **extra}
    for i, line in enumerate(lines):
        summary, account, debit, credit, *cp = line
        data.update({f"lines-{i}-summary": summary, f"lines-{i}-account_code": account,
                     f"lines-{i}-debit": debit, f"lines-{i}-credit": credit,
                     f"lines-{i}-counterparty": cp[0] if cp else ""})
    return data


def errors_at(page: str, path: str) -> list[str]:
    """The messages shown beside the field `path` (the template marks them with data-error-for)."""
    return [html.unescape(m) for m in re.findall(rf'data-error-for="{re.escape(path)}">([^<]*)<', page)]


def snapshot():
    """Everything a failed submit must leave untouched."""
    rows = db.session.execute(sa.select(Voucher.id, Voucher.status, Voucher.number, Voucher.date)).all()
    lines = db.session.execute(sa.select(VoucherLine.voucher_id, VoucherLine.debit, VoucherLine.credit)).all()
    db.session.rollback()
    return sorted(rows), sorted(lines)


@pytest.fixture
def ready(books):
    """Books with balanced, locked opening balances."""
    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    db.session.commit()
    return books


def url(books, path: str = "") -> str:
    return f"/o/{books.org.id}{path}"


# ---------------------------------------------------------------- entry


def test_new_voucher_form_renders_with_leaf_accounts(client, ready, auth):
    auth.login("kuaiji")
    r = client.get(url(ready, "/vouchers/new"))
    assert r.status_code == 200
    page = r.text
    assert 'value="10201' not in page  # no detail accounts yet
    assert 'value="101 库存现金"' in page and 'value="3220101 提取公积公益金"' in page
    assert 'value="322 收益分配"' not in page  # not a leaf: not offered
    assert 'name="lines-1-debit"' in page and "voucher.js" in page and 'id="total-diff"' in page
    assert 'inputmode="decimal"' in page


def test_create_voucher_through_form(client, ready, app, auth):
    auth.login("kuaiji")
    data = form(
        ("收到东湖承包费", "102 银行存款", "12,345.67", ""),
        ("收到东湖承包费", "501", "", "10000"),
        ("收到东湖承包费", "211", "", "2345.67", "张三"),
        ("", "", "", ""),                 # an empty row is skipped
        ("收到东湖承包费", "", "", ""),    # so is a row with only the copied-down 摘要
        attachment_count="2",
    )
    r = client.post(url(ready, "/vouchers/new"), data=data)
    assert r.status_code == 302, r.text
    v = db.session.scalar(sa.select(Voucher))
    assert r.headers["Location"].endswith(f"/vouchers/{v.id}")
    assert (v.status, v.number, v.word, v.attachment_count, v.kind) == ("draft", None, "记", 2, "normal")
    assert [(l.account.code, l.debit, l.credit, l.counterparty) for l in v.lines] == [
        ("102", Decimal("12345.67"), Decimal("0.00"), None),
        ("501", Decimal("0.00"), Decimal("10000.00"), None),
        ("211", Decimal("0.00"), Decimal("2345.67"), "张三"),
    ]
    assert v.preparer.username == "kuaiji"
    page = client.get(r.headers["Location"]).text
    assert "凭证已保存" in page  # the flash
    assert "12,345.67" in page and "壹万贰仟叁佰肆拾伍元陆角柒分" in page
    assert "王会计" in page and "编辑" in page
    if "reports.voucher_pdf" in app.view_functions:  # the print link, once the reports page exists
        assert f'href="/o/{ready.org.id}/reports/vouchers/{v.id}.pdf"' in page


GOOD_CREDIT = ("提现", "102", "", "500.00")


@pytest.mark.parametrize("line0, credit_line, path, message", [
    (("提现", "101", "500.00", ""), ("提现", "102", "", "400.00"), "lines", "借贷不平衡"),
    (("提现", "322", "500.00", ""), GOOD_CREDIT, "lines.0.account_code", "322 收益分配 有下级科目，只能在末级科目记账"),
    (("提现", "199", "500.00", ""), GOOD_CREDIT, "lines.0.account_code", "科目 199 不存在"),
    (("提现", "101", "0", ""), ("提现", "102", "", "0.00"), "lines.0.debit", "请填写借方或贷方金额（不能为零）"),
    (("提现", "101", "-500.00", ""), ("提现", "102", "", "-500.00"), "lines.0.debit", "金额不能为负数（红字冲销凭证除外）"),
    (("提现", "101", "12.345", ""), ("提现", "102", "", "12.35"), "lines.0.debit", "金额最多两位小数"),
    (("提现", "101", "abc", ""), GOOD_CREDIT, "lines.0.debit", "金额格式不正确"),
    (("提现", "101", "500.00", "500.00"), GOOD_CREDIT, "lines.0.debit", "借方和贷方只能填写一方"),
    (("提现", "101", "", ""), GOOD_CREDIT, "lines.0.debit", "请填写借方或贷方金额（不能为零）"),
    (("", "101", "500.00", ""), GOOD_CREDIT, "lines.0.summary", "请填写摘要"),
    (("提现", "科目", "500.00", ""), GOOD_CREDIT, "lines.0.account_code", "科目编码格式不正确"),
], ids=["unbalanced", "non-leaf", "unknown", "zero", "negative", "three-decimals", "abc", "both-sides",
        "neither-side", "no-summary", "bad-code"])
def test_bad_input_shows_message_beside_field(client, ready, line0, credit_line, path, message, auth):
    auth.login("kuaiji")
    before = snapshot()
    r = client.post(url(ready, "/vouchers/new"), data=form(line0, credit_line))
    assert r.status_code == 422
    assert any(message in m for m in errors_at(r.text, path)), (path, re.findall(r'data-error-for="[^"]*">[^<]*', r.text))
    assert 'id="form-errors"' in r.text
    # the form comes back with what the user typed
    assert f'value="{html.escape(line0[2])}"' in r.text or not line0[2]
    assert snapshot() == before


def test_all_errors_at_once(client, ready, auth):
    """A closed month, a bad amount, an unknown account, a non-leaf account and the balance, in one answer."""
    ready.close_through(2025, 1)
    db.session.commit()
    auth.login("kuaiji")
    before = snapshot()
    data = form(("提现", "101", "abc", ""), ("提现", "199", "300.00", ""), ("提现", "322", "", "100.00"),
                ("", "102", "", "100.00"), date="2025-01-20")
    r = client.post(url(ready, "/vouchers/new"), data=data)
    assert r.status_code == 422
    page = r.text
    assert errors_at(page, "lines.0.debit") == ["金额格式不正确"]
    assert errors_at(page, "lines.1.account_code") == ["科目 199 不存在"]
    assert "有下级科目" in errors_at(page, "lines.2.account_code")[0]
    assert errors_at(page, "lines.3.summary") == ["请填写摘要"]
    assert any("已结账" in m for m in errors_at(page, "date"))
    # the balance over the lines that parsed: 300 debit against 200 credit
    assert errors_at(page, "lines") == ["借贷不平衡：借方合计 300.00，贷方合计 200.00，相差 100.00"]
    assert snapshot() == before


def test_closed_month_date_is_refused(client, ready, auth):
    ready.close_through(2025, 1)
    db.session.commit()
    auth.login("kuaiji")
    before = snapshot()
    r = client.post(url(ready, "/vouchers/new"),
                    data=form(("提现", "101", "500", ""), GOOD_CREDIT, date="2025-01-31"))
    assert r.status_code == 422
    assert errors_at(r.text, "date") == ["2025年1月已结账，不能在该期间记账"]
    assert snapshot() == before


def test_header_errors(client, ready, auth):
    auth.login("kuaiji")
    r = client.post(url(ready, "/vouchers/new"),
                    data=form(("提现", "101", "500", ""), GOOD_CREDIT, date="", attachment_count="两张"))
    assert r.status_code == 422
    assert errors_at(r.text, "date") == ["请填写日期"]
    assert errors_at(r.text, "attachment_count") == ["附单据数应为0到999的整数"]
    # a bad count alone must not hide the ledger errors
    r = client.post(url(ready, "/vouchers/new"),
                    data=form(("提现", "101", "500", ""), ("提现", "102", "", "400"), attachment_count="x"))
    assert errors_at(r.text, "attachment_count") == ["附单据数应为0到999的整数"]
    assert "借贷不平衡" in errors_at(r.text, "lines")[0]
    r = client.post(url(ready, "/vouchers/new"), data=form(("提现", "101", "500", ""), date="2024-12-31"))
    assert errors_at(r.text, "date") == ["日期早于建账月份 2025年1月"]
    assert errors_at(r.text, "lines")[0] == "凭证应有2到200行分录"
    assert count(Voucher) == 0


def test_edit_draft(client, ready, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(url(ready, f"/vouchers/{v.id}/edit")).text
    assert 'value="500.00"' in page and 'value="101 库存现金"' in page
    bad = client.post(url(ready, f"/vouchers/{v.id}/edit"), data=form(("提现", "101", "600", ""), GOOD_CREDIT))
    assert bad.status_code == 422 and "借贷不平衡" in errors_at(bad.text, "lines")[0]
    r = client.post(url(ready, f"/vouchers/{v.id}/edit"),
                    data=form(("提现", "101", "600", ""), ("提现", "102", "", "600"), date="2025-01-11"))
    assert r.status_code == 302
    db.session.expire_all()
    v = db.session.get(Voucher, v.id)
    assert v.date == dt.date(2025, 1, 11) and v.total_debit == Decimal("600.00")


def test_posted_voucher_cannot_be_edited_or_deleted(client, ready, auth):
    v = ready.post("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    db.session.commit()
    auth.login("kuaiji")
    before = snapshot()
    assert client.get(url(ready, f"/vouchers/{v.id}/edit")).status_code == 409
    r = client.post(url(ready, f"/vouchers/{v.id}/edit"), data=form(("提现", "101", "9", ""), ("提现", "102", "", "9")))
    assert r.status_code == 409
    r = client.post(url(ready, f"/vouchers/{v.id}/delete"))
    assert r.status_code == 409 and "只有未审核的凭证可以删除" in r.text
    assert snapshot() == before
    page = client.get(url(ready, f"/vouchers/{v.id}")).text
    assert "编辑" not in page and "红字冲销" in page


def test_reviewer_cannot_review_own_voucher(client, ready, auth):
    from coop.services import users

    users.assign_role(ready.accountant, "reviewer", ready.org)
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(url(ready, f"/vouchers/{v.id}")).text
    assert "制单人不能审核自己编制的凭证" in page and 'id="btn-review"' not in page
    r = client.post(url(ready, f"/vouchers/{v.id}/review"))
    assert r.status_code == 403 and "制单人不能审核自己编制的凭证" in r.text
    db.session.expire_all()
    v = db.session.get(Voucher, v.id)
    assert (v.status, v.number, v.reviewer_id) == ("draft", None, None)


def test_review_post_reverse_flow(client, ready, auth):
    auth.login("kuaiji")
    r = client.post(url(ready, "/vouchers/new"), data=form(("提现", "101", "500", ""), GOOD_CREDIT))
    vid = int(r.headers["Location"].rsplit("/", 1)[1])
    # the accountant has no reviewer role: no review button, and the action is refused
    assert 'id="btn-review"' not in client.get(url(ready, f"/vouchers/{vid}")).text
    assert client.post(url(ready, f"/vouchers/{vid}/review")).status_code == 403

    client.post("/logout")
    auth.login("shenhe")
    page = client.get(url(ready, f"/vouchers/{vid}")).text
    assert 'id="btn-review"' in page and "编辑" not in page
    r = client.post(url(ready, f"/vouchers/{vid}/review"), follow_redirects=True)
    assert r.status_code == 200 and "凭证已审核" in r.text and "记-0001" in r.text
    r = client.post(url(ready, f"/vouchers/{vid}/unreview"), follow_redirects=True)
    assert "已取消审核" in r.text
    client.post(url(ready, f"/vouchers/{vid}/review"))

    client.post("/logout")
    auth.login("kuaiji")
    r = client.post(url(ready, f"/vouchers/{vid}/post"), follow_redirects=True)
    assert "凭证已记账" in r.text and "李主任" in r.text
    listing = client.get(url(ready, "/vouchers")).text
    assert "记-0001" in listing and "已记账" in listing and "共 1 张凭证" in listing

    # 红字冲销 needs a date; then a red draft linked both ways
    r = client.post(url(ready, f"/vouchers/{vid}/reverse"), data={"date": ""})
    assert r.status_code == 422 and errors_at(r.text, "date") == ["请填写冲销日期（YYYY-MM-DD）"]
    r = client.post(url(ready, f"/vouchers/{vid}/reverse"), data={"date": "2025-02-03"})
    assert r.status_code == 302
    red = db.session.scalar(sa.select(Voucher).where(Voucher.kind == "red"))
    assert red.corrects_id == vid and red.total_debit == Decimal("-500.00")
    page = client.get(r.headers["Location"]).text
    assert "红字" in page and "冲销 1月15日 记-0001 号凭证" in page
    assert "该凭证已被" in client.get(url(ready, f"/vouchers/{vid}")).text
    # a second reversal is refused
    assert client.post(url(ready, f"/vouchers/{vid}/reverse"), data={"date": "2025-02-03"}).status_code == 409


def test_adjusting_voucher_prefilled(client, ready, auth):
    v = ready.post("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(url(ready, f"/vouchers/{v.id}/adjust")).text
    assert "调整 1月10日 记-0001 号凭证" in page and 'value="101 库存现金"' in page and "原 500.00" in page
    assert 'inputmode="text"' in page  # negative amounts need a minus key on a phone
    summary = "调整 1月10日 记-0001 号凭证"
    r = client.post(url(ready, f"/vouchers/{v.id}/adjust"),
                    data=form((summary, "101", "-50.00", ""), (summary, "102", "", "-50.00"), date="2025-01-20"))
    assert r.status_code == 302
    adj = db.session.scalar(sa.select(Voucher).where(Voucher.kind == "adjust"))
    assert adj.corrects_id == v.id and adj.total_credit == Decimal("-50.00")
    # mixed red and blue is refused
    r = client.post(url(ready, f"/vouchers/{v.id}/adjust"),
                    data=form((summary, "101", "-50.00", ""), (summary, "102", "", "50.00"), date="2025-01-20"))
    assert r.status_code == 422


def test_delete_draft_and_list_filters(client, ready, auth):
    ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    keep = ready.post("2025-02-10", ("513", "80.00", ""), ("101", "", "80.00"), summary="买办公用品")
    gone = ready.draft("2025-02-11", ("513", "20.00", ""), ("101", "", "20.00"), summary="打印纸")
    db.session.commit()
    auth.login("kuaiji")
    r = client.post(url(ready, f"/vouchers/{gone.id}/delete"), follow_redirects=True)
    assert "凭证已删除" in r.text and db.session.get(Voucher, gone.id) is None
    page = client.get(url(ready, "/vouchers?year=2025&month=2")).text
    assert "买办公用品" in page and "提现" not in page
    page = client.get(url(ready, "/vouchers?year=&status=draft")).text
    assert "提现" in page and "买办公用品" not in page
    page = client.get(url(ready, "/vouchers?account=513")).text
    assert "买办公用品" in page and "提现" not in page and "¥80.00" in page
    page = client.get(url(ready, "/vouchers?q=提")).text
    assert "提现" in page and "买办公用品" not in page
    assert keep.display_number in client.get(url(ready, "/vouchers")).text


def test_list_rows_show_number_summary_badges_and_amount(client, ready, auth):
    """Each row: the number linking to the voucher, its date, the first line's summary with 等 n 行 past two
    lines, the status and kind badges, the 借方 total (red when negative), the preparer, the attachments."""
    import re

    v = ready.post("2025-03-10", ("101", "500.00", ""), ("102", "", "300.00"), ("501", "", "200.00"), summary="收款")
    db.session.commit()
    auth.login("kuaiji")
    r = client.post(url(ready, f"/vouchers/{v.id}/reverse"), data={"date": "2025-03-12"})
    assert r.status_code == 302
    rows = re.findall(r'<tr class="clickable">(.*?)</tr>', client.get(url(ready, "/vouchers?year=2025&month=3")).text,
                      re.S)

    def text(row):
        return " ".join(re.sub(r"<[^>]+>", " ", row).split())

    assert len(rows) == 2
    assert f'href="/o/{ready.org.id}/vouchers/{v.id}"' in rows[0]
    assert text(rows[0]) == "记-0001 2025-03-10 收款 等 3 行 已记账 500.00 王会计 0"
    assert text(rows[1]).startswith("未编号 2025-03-12 冲销 3月10日 记-0001 号凭证 等 3 行 制单 红字 -500.00 王会计 0")
    assert '<span class="neg">-500.00</span>' in rows[1] and '<span class="badge red">' in rows[1]
    from tests.test_i18n import _english

    _english(client)
    rows = re.findall(r'<tr class="clickable">(.*?)</tr>', client.get(url(ready, "/vouchers?year=2025&month=3")).text,
                      re.S)
    assert "3 lines" in text(rows[0]) and "Posted" in text(rows[0]) and "Red" in text(rows[1])


def test_list_pagination(client, ready, app, auth):
    for day in range(1, 6):
        ready.draft(f"2025-01-{day:02d}", ("101", "1.00", ""), ("102", "", "1.00"), summary=f"第{day}笔")
    db.session.commit()
    auth.login("kuaiji")
    app.config["PAGE_SIZE"] = 2
    try:
        page = client.get(url(ready, "/vouchers")).text
        assert "第1笔" in page and "第3笔" not in page and "1 / 3" in page and "共 5 张凭证" in page
        assert "¥5.00" in page  # totals are over every page
        page = client.get(url(ready, "/vouchers?page=3")).text
        assert "第5笔" in page and "第1笔" not in page
    finally:
        app.config["PAGE_SIZE"] = 50


# ---------------------------------------------------------------- isolation


@pytest.fixture
def other_village(ready):
    from coop.services import orgs, users, vouchers

    b = orgs.create_organization(ready.township, name="西村经济合作社", books_start_year=2025)
    acct_b = users.create_user("kuaiji_b", "钱会计", "password1")
    users.assign_role(acct_b, "accountant", b)
    v = vouchers.create_draft(
        b, {"date": dt.date(2025, 1, 5), "lines": [
            {"summary": "x", "account_code": "101", "debit": Decimal("1.00"), "credit": Decimal("0")},
            {"summary": "x", "account_code": "102", "debit": Decimal("0"), "credit": Decimal("1.00")}]},
        user=acct_b)
    db.session.commit()
    return b, v


def test_other_village_is_404_everywhere(client, other_village, ready, auth):
    b, v = other_village
    from coop.services import attachments

    att = attachments.add_attachment(v, "x.pdf", "application/pdf", PDF, user=db.session.merge(v.preparer))
    db.session.commit()
    auth.login("kuaiji")
    base = f"/o/{b.id}"
    gets = ["/vouchers", "/vouchers/new", f"/vouchers/{v.id}", f"/vouchers/{v.id}/edit", f"/vouchers/{v.id}/adjust",
            f"/vouchers/{v.id}/attachments/{att.id}", "/accounts", "/opening", "/periods", "/"]
    for path in gets:
        assert client.get(base + path).status_code == 404, path
    posts = ["/vouchers/new", f"/vouchers/{v.id}/edit", f"/vouchers/{v.id}/delete", f"/vouchers/{v.id}/review",
             f"/vouchers/{v.id}/unreview", f"/vouchers/{v.id}/post", f"/vouchers/{v.id}/reverse",
             f"/vouchers/{v.id}/attachments", f"/vouchers/{v.id}/attachments/{att.id}/delete", "/accounts",
             "/accounts/101/rename", "/accounts/101/active", "/opening", "/opening/lock", "/opening/import",
             "/periods/close", "/periods/reopen"]
    for path in posts:
        assert client.post(base + path, data={"year": "2025", "month": "1"}).status_code == 404, path
    # a voucher of B addressed through A's organization is not found either
    assert client.get(url(ready, f"/vouchers/{v.id}")).status_code == 404
    assert client.get(url(ready, f"/vouchers/{v.id}/attachments/{att.id}")).status_code == 404
    assert db.session.get(Voucher, v.id).status == "draft"


def test_login_required(client, ready):
    r = client.get(url(ready, "/vouchers"))
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# ---------------------------------------------------------------- attachments


def _upload(client, books, v, data: bytes, name="scan.pdf", ctype="application/pdf"):
    import io

    return client.post(url(books, f"/vouchers/{v.id}/attachments"),
                       data={"file": (io.BytesIO(data), name, ctype)}, content_type="multipart/form-data")


def _files(app) -> list[str]:
    root = app.config["ATTACHMENT_DIR"]
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_attachment_upload_download_remove(client, ready, app, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    r = _upload(client, ready, v, PDF, name="发票.pdf")
    assert r.status_code == 302, r.text
    att = db.session.scalar(sa.select(Attachment))
    sha = hashlib.sha256(PDF).hexdigest()
    assert (att.filename, att.content_type, att.size, att.sha256) == ("发票.pdf", "application/pdf", len(PDF), sha)
    assert f"{ready.org.id}/{sha}" in _files(app)
    page = client.get(url(ready, f"/vouchers/{v.id}")).text
    assert "发票.pdf" in page and "附件已上传" in page
    d = client.get(url(ready, f"/vouchers/{v.id}/attachments/{att.id}"))
    assert d.status_code == 200 and d.data == PDF and d.mimetype == "application/pdf"
    d.close()
    r = client.post(url(ready, f"/vouchers/{v.id}/attachments/{att.id}/delete"))
    assert r.status_code == 302
    assert count(Attachment) == 0 and f"{ready.org.id}/{sha}" not in _files(app)


@pytest.mark.parametrize("data, name, ctype, message", [
    (PNG, "scan.pdf", "application/pdf", "文件内容与类型不符：声明为 PDF，实际是 PNG 图片"),
    (b"hello", "scan.jpg", "image/jpeg", "文件内容与类型不符：声明为 JPEG 图片，内容不是有效的 PDF、JPG 或 PNG 文件"),
    (b"", "scan.pdf", "application/pdf", "文件是空的，请重新选择"),
    (b"MZ\x90\x00", "scan.exe", "application/x-msdownload", "不支持的文件类型（application/x-msdownload），只能上传 PDF、JPG 或 PNG"),
], ids=["wrong-magic", "not-an-image", "empty", "exe"])
def test_attachment_refused(client, ready, app, data, name, ctype, message, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    files = _files(app)
    r = _upload(client, ready, v, data, name=name, ctype=ctype)
    assert r.status_code == 422
    assert errors_at(r.text, "file") == [message]
    assert count(Attachment) == 0 and _files(app) == files


def test_attachment_too_large(client, ready, app, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    # a small limit keeps the upload in memory (a large test upload leaves werkzeug's temp file open)
    app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024
    files = _files(app)
    try:
        r = _upload(client, ready, v, PDF + b"0" * (20 * 1024 - len(PDF)))
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 10 * 1024 * 1024
    assert r.status_code == 422
    assert errors_at(r.text, "file") == ["文件太大：20 KB，最大 10 KB"]
    assert count(Attachment) == 0 and _files(app) == files


def test_attachment_not_on_posted_voucher(client, ready, app, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    assert _upload(client, ready, v, PDF).status_code == 302
    files = _files(app)
    att_id = db.session.scalar(sa.select(Attachment.id))
    from coop.services import vouchers

    v = db.session.get(Voucher, v.id)
    vouchers.review_voucher(v, user=ready.reviewer)
    vouchers.post_voucher(v, user=ready.accountant)
    db.session.commit()
    page = client.get(url(ready, f"/vouchers/{v.id}")).text
    assert 'name="file"' not in page
    r = _upload(client, ready, v, PNG, name="b.png", ctype="image/png")
    assert r.status_code == 409 and "已记账的凭证不能再增加附件" in r.text
    r = client.post(url(ready, f"/vouchers/{v.id}/attachments/{att_id}/delete"))
    assert r.status_code == 409
    assert count(Attachment) == 1 and _files(app) == files


# ---------------------------------------------------------------- chart of accounts


def test_accounts_page(client, ready, auth):
    auth.login("kuaiji")
    page = client.get(url(ready, "/accounts")).text
    assert "库存现金" in page and "32202" in page and "增设明细科目" in page
    r = client.post(url(ready, "/accounts"), data={"parent_code": "102", "code": "10301", "name": ""})
    assert r.status_code == 422
    assert errors_at(r.text, "code") == ["下级科目编码应为上级编码 102 加两位数字（如 10201）"]
    assert errors_at(r.text, "name") == ["请填写科目名称"]
    r = client.post(url(ready, "/accounts"), data={"parent_code": "321", "code": "32101", "name": "x"})
    assert r.status_code == 422 and "用于年末结转" in errors_at(r.text, "parent_code")[0]
    # 102 carries an opening balance, so it cannot get children; 112 can
    r = client.post(url(ready, "/accounts"), data={"parent_code": "102", "code": "10201", "name": "农行"})
    assert r.status_code == 422 and "已有期初余额" in errors_at(r.text, "parent_code")[0]
    r = client.post(url(ready, "/accounts"), data={"parent_code": "112", "code": "11201", "name": "东湖承包户"},
                    follow_redirects=True)
    assert r.status_code == 200 and "已增设明细科目 11201 东湖承包户" in r.text
    r = client.post(url(ready, "/accounts/11201/rename"), data={"name": "东湖承包户（张三）"}, follow_redirects=True)
    assert "科目已改名为 11201 东湖承包户（张三）" in r.text
    r = client.post(url(ready, "/accounts/101/rename"), data={"name": "现金"})
    assert r.status_code == 422 and "一级科目名称由国家统一规定" in r.text
    r = client.post(url(ready, "/accounts/11201/active"), data={"active": "0"}, follow_redirects=True)
    assert "已停用 11201" in r.text
    # a deactivated account is no longer offered in the voucher form
    assert 'value="11201 ' not in client.get(url(ready, "/vouchers/new")).text


def test_accounts_read_only_for_reviewer(client, ready, auth):
    auth.login("shenhe")
    page = client.get(url(ready, "/accounts")).text
    assert 'name="parent_code"' not in page and "改名" not in page
    assert client.post(url(ready, "/accounts"), data={"parent_code": "112", "code": "11201", "name": "x"}).status_code == 403


# ---------------------------------------------------------------- opening balances


def test_opening_grid_save_and_lock(client, books, auth):
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(url(books, "/opening")).text
    assert 'name="amt-101"' in page and 'name="amt-322"' not in page and 'name="amt-32202"' in page
    r = client.post(url(books, "/opening"), data={"amt-101": "1,000.00", "dir-101": "借", "amt-301": "abc",
                                                  "dir-301": "贷"})
    assert r.status_code == 422 and errors_at(r.text, "balances.301") == ["金额格式不正确"]
    assert count(OpeningBalance) == 0
    r = client.post(url(books, "/opening"), data={"amt-101": "1,000.00", "dir-101": "借", "amt-301": "900",
                                                  "dir-301": "贷"}, follow_redirects=True)
    assert "尚不平衡：借方比贷方多 100.00" in r.text
    r = client.post(url(books, "/opening/lock"))
    assert r.status_code == 422 and "不能锁定" in r.text
    # a signed amount also works: -1000 on the 借 side is a credit balance
    r = client.post(url(books, "/opening"), data={"amt-101": "1000", "dir-101": "借", "amt-301": "-1000",
                                                  "dir-301": "借"}, follow_redirects=True)
    assert "试算平衡" in r.text
    r = client.post(url(books, "/opening/lock"), follow_redirects=True)
    assert "期初余额已锁定" in r.text
    db.session.expire_all()
    assert books.org.opening_locked
    assert client.post(url(books, "/opening"), data={"amt-101": "1"}).status_code == 409


def test_opening_import_2004(client, books, auth):
    db.session.commit()
    auth.login("kuaiji")
    # 应付款 names its counterparty (4th column, RULES §2 辅助核算)
    csv_text = "科目编码,金额,方向,往来单位\n101,1200.00,借\n132,300.00,借\n202,500.00,贷,农资站\n301,1000.00,贷\n"
    r = client.post(url(books, "/opening/import"), data={"csv": csv_text, "choice-132": "134", "action": "preview"})
    assert r.status_code == 200
    assert "132 林木资产" in r.text and "134" in r.text and "¥1,500.00" in r.text
    assert count(OpeningBalance) == 0  # a preview writes nothing
    r = client.post(url(books, "/opening/import"), data={"csv": "999,5\n101,abc", "action": "preview"})
    assert r.status_code == 422 and "第 2 行：金额格式不正确" in r.text and "旧制度科目 999 不存在" in r.text
    r = client.post(url(books, "/opening/import"),
                    data={"csv": csv_text, "choice-132": "134", "action": "import", "lock": "1"}, follow_redirects=True)
    assert r.status_code == 200 and "已从 2004 年制度科目余额导入期初余额" in r.text
    from coop.services import opening

    db.session.expire_all()
    assert opening.opening_balances(books.org) == {"101": Decimal("1200.00"), "134": Decimal("300.00"),
                                                  "211": Decimal("-500.00"), "301": Decimal("-1000.00")}
    assert books.org.opening_locked


def test_opening_import_unbalanced_refuses_lock(client, books, auth):
    db.session.commit()
    auth.login("kuaiji")
    r = client.post(url(books, "/opening/import"), data={"csv": "101,100\n301,-90", "action": "import", "lock": "1"})
    assert r.status_code == 422 and "不能锁定" in r.text
    assert count(OpeningBalance) == 0


# ---------------------------------------------------------------- periods


def test_periods_close_and_reopen(client, ready, auth):
    auth.login("kuaiji")
    page = client.get(url(ready, "/periods")).text
    assert "下一个结账月份：2025年1月" in page and "结账 2025年1月" in page
    d = ready.draft("2025-01-10", ("101", "1.00", ""), ("102", "", "1.00"))
    db.session.commit()
    page = client.get(url(ready, "/periods")).text
    assert "本月还有 1 张凭证未记账" in page and "结账 2025年1月" not in page
    r = client.post(url(ready, "/periods/close"), data={"year": "2025", "month": "1"})
    assert r.status_code == 409 and count(Period) == 0
    client.post(url(ready, f"/vouchers/{d.id}/delete"))
    r = client.post(url(ready, "/periods/close"), data={"year": "2025", "month": "1"}, follow_redirects=True)
    assert "2025年1月已结账" in r.text and "下一个结账月份：2025年2月" in r.text
    assert "反结账原因" not in r.text  # accountants cannot reopen
    assert client.post(url(ready, "/periods/reopen"), data={"year": "2025", "month": "1", "reason": "x"}).status_code == 403

    client.post("/logout")
    auth.login("jingguan")
    page = client.get(url(ready, "/periods")).text
    assert "反结账原因" in page and "结账 2025年2月" not in page  # the auditor cannot close
    r = client.post(url(ready, "/periods/reopen"), data={"year": "2025", "month": "1", "reason": " "})
    assert r.status_code == 422 and errors_at(r.text, "reason") == ["请填写反结账原因"]
    r = client.post(url(ready, "/periods/reopen"), data={"year": "2025", "month": "1", "reason": "补记漏记凭证"},
                    follow_redirects=True)
    assert "2025年1月已反结账" in r.text
    assert ready.org.id and db.session.scalar(sa.select(Period.status)) == "open"


def test_overview_and_nav(client, ready, auth):
    auth.login("kuaiji")
    page = client.get(f"/o/{ready.org.id}/").text
    for href in ("/vouchers", "/accounts", "/opening", "/periods"):
        assert f'href="/o/{ready.org.id}{href}"' in page
    assert "新建凭证" in page
    page = client.get(url(ready, "/vouchers")).text
    assert f'href="/o/{ready.org.id}/vouchers" aria-current="page"' in page


# ---------------------------------------------------------------- the form parser on its own


def test_read_voucher_values_skips_empty_rows_and_orders_by_index():
    from werkzeug.datastructures import MultiDict

    from coop.web.forms import read_voucher_values

    values = read_voucher_values(MultiDict({
        "date": " 2025-01-02 ", "lines-10-summary": "b", "lines-10-account_code": "102 银行存款", "lines-10-credit": "5",
        "lines-2-summary": "a", "lines-2-account_code": "101", "lines-2-debit": "5",
        "lines-3-summary": "a", "lines-7-debit": "", "csrf_token": "x",
    }))
    assert values["date"] == "2025-01-02"
    assert [(l["summary"], l["account_code"]) for l in values["lines"]] == [("a", "101"), ("b", "102")]


def test_deleting_a_draft_removes_its_scans(client, ready, app, auth):
    v = ready.draft("2025-01-10", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    auth.login("kuaiji")
    _upload(client, ready, v, PNG, name="收据.png", ctype="image/png")
    stored = f"{ready.org.id}/{hashlib.sha256(PNG).hexdigest()}"
    assert stored in _files(app)
    assert client.post(url(ready, f"/vouchers/{v.id}/delete")).status_code == 302
    assert count(Attachment) == 0 and stored not in _files(app)


def test_forms_carry_a_working_csrf_token(client, ready, app, auth):
    """With CSRF protection on (as in production), the form's token is accepted and a missing one refused."""
    auth.login("kuaiji")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(url(ready, "/vouchers/new")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = form(("提现", "101", "500", ""), GOOD_CREDIT)
        assert client.post(url(ready, "/vouchers/new"), data=data).status_code == 400
        assert client.post(url(ready, "/vouchers/new"), data={**data, "csrf_token": token}).status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert count(Voucher) == 1


def test_renaming_an_account_that_is_not_there_says_so(client, books, auth):
    """A rename of a code the organization does not have: the accounts page again (422) with the refusal above
    the table, since there is no row to put it beside; nothing renamed."""
    auth.login("kuaiji")
    r = client.post(f"/o/{books.org.id}/accounts/99999/rename", data={"name": "不存在的科目"})
    assert r.status_code == 422
    assert "科目 99999 不存在" in r.get_data(as_text=True)
    assert "不存在的科目" not in r.get_data(as_text=True)
