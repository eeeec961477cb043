"""`coop backup` → `coop restore` into a fresh database gives the same books; bad archives and non-empty targets
are refused."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import tarfile
import tempfile

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Organization
from coop.services import attachments, disclosure, integrity, reports, shares, users, vouchers
from tests.test_members_web import _fast_password_hashing  # noqa: F401
from tests.test_shares import village  # noqa: F401  (fixture)

Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
PDF = b"%PDF-1.4 scanned receipt \x00\x01\x02"


@pytest.fixture
def full_books(village, app):
    """Issued share plan, posted vouchers (one with an attachment), Q1 closed, a published sheet."""
    books, people, plan, _ = village
    shares.issue_plan(plan, user=books.accountant)
    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    v = books.draft("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    attachments.add_attachment(v, "收据.pdf", "application/pdf", PDF, user=books.accountant)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    books.post("2025-02-10", ("513", "1409.50", ""), ("102", "", "1409.50"), summary="购买办公用品")
    books.close_through(2025, 3)
    books.post("2025-04-02", ("514", "600.00", ""), ("101", "", "600.00"), summary="道路维修")
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1], user=books.accountant)
    disclosure.finance_group_review(d, user=group, approve=True)
    disclosure.township_approve(d, user=books.auditor)
    disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏",
                       render_pdf=lambda d: b"%PDF-1.7 sheet")
    db.session.commit()
    return books


def snapshot() -> dict:
    """What must survive a round trip: every org's trial balances, register total, published digests."""
    out = {}
    for org in db.session.scalars(sa.select(Organization).order_by(Organization.id)):
        tbs = [(m, [(r.code, r.name, repr(r)) for r in reports.trial_balance(org, 2025, 1, m).rows],
                reports.trial_balance(org, 2025, 1, m).totals) for m in (1, 3, 4, 12)]
        out[org.id] = {"tb": tbs, "register": shares.register_total(org),
                       "leaf": reports.leaf_balances(org)}
    out["digests"] = [(d.id, d.digest, d.pdf_sha256) for d in db.session.scalars(disclosure.published_sheets())]
    return out


@pytest.fixture
def target(backend, request):
    """A second app on a new, empty database upgraded to the migrations' head, with its own attachment folder."""
    from flask_migrate import upgrade

    from coop import create_app
    tmp = tempfile.mkdtemp(prefix="coop-restore-")
    admin = None
    if backend == "sqlite":
        url = "sqlite:///" + os.path.join(tmp, "restored.sqlite3")
    else:
        base = request.getfixturevalue("pg_url")
        admin = sa.create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS coop_restore WITH (FORCE)")
            conn.exec_driver_sql("CREATE DATABASE coop_restore")
        url = base.rsplit("/", 1)[0] + "/coop_restore"
    app2 = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, ATTACHMENT_DIR=os.path.join(tmp, "att"),
                      SERVER_NAME="coop.test")
    with app2.app_context():
        upgrade()
    yield app2
    with app2.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS coop_restore WITH (FORCE)")
        admin.dispose()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["coop", *args])


def backup(app, tmp_path) -> str:
    path = str(tmp_path / "coop.tar.gz")
    r = run(app, "backup", "-o", path)
    assert r.exit_code == 0, r.output
    return path


def restore(app2, path):
    with app2.app_context():
        return run(app2, "restore", path)


def rewrite(path, out, change):
    """Copy an archive, letting change(name, data) -> data alter members."""
    with tarfile.open(path, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = change(info.name, src.extractfile(info).read())
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def test_round_trip_gives_identical_books(full_books, app, target, tmp_path):
    before = snapshot()
    assert before[full_books.org.id]["register"] > 0 and len(before["digests"]) == 1
    path = backup(app, tmp_path)
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["format_version"] == 1 and manifest["row_counts"]["vouchers"] == 3
    assert any(n.startswith("attachments/") for n in manifest["files"])

    r = restore(target, path)
    assert r.exit_code == 0, r.output + r.stderr
    assert "校验通过" in r.output
    with target.app_context():
        assert snapshot() == before
        assert integrity.check_books() == []
        v = run(target, "verify")
        assert v.exit_code == 0, v.output + v.stderr
        # attachments came back, byte for byte
        from coop.models import Attachment

        att = db.session.scalar(sa.select(Attachment))
        assert attachments.file_path(att).read_bytes() == PDF
        # the guards are back, and new ids do not collide with restored ones
        from coop.core.errors import VoucherPosted
        from coop.models import User, Voucher

        posted = db.session.scalar(sa.select(Voucher).where(Voucher.status == "posted"))
        with pytest.raises(sa.exc.DatabaseError, match="posted voucher is immutable"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE voucher_lines SET summary = 'x' WHERE voucher_id = :v"), {"v": posted.id})
        org = db.session.get(Organization, full_books.org.id)
        accountant = db.session.scalar(sa.select(User).where(User.username == "kuaiji"))
        reviewer = db.session.scalar(sa.select(User).where(User.username == "shenhe"))
        from tests.conftest import Books

        b = Books.__new__(Books)
        b.org, b.accountant, b.reviewer = org, accountant, reviewer
        new = b.post("2025-05-05", ("102", "10.00", ""), ("501", "", "10.00"))
        db.session.commit()
        assert new.number == 1 and new.id > posted.id
        assert run(target, "verify").exit_code == 0
        del VoucherPosted

    # a second restore into the now non-empty database is refused
    r = restore(target, path)
    assert r.exit_code != 0 and "只能恢复到空数据库" in r.output


def test_corrupted_member_is_refused(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)

    def flip(name, data):
        if name == "tables/voucher_lines.json":
            i = data.index(b"1234567")
            return data[:i] + b"1234568" + data[i + 7:]
        return data

    bad = rewrite(path, str(tmp_path / "bad.tar.gz"), flip)
    r = restore(target, bad)
    assert r.exit_code != 0
    assert "文件 tables/voucher_lines.json 的校验和（SHA-256）与清单不符" in r.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_flipped_byte_in_the_compressed_file_is_refused(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)
    data = bytearray((tmp_path / "coop.tar.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "flipped.tar.gz"
    bad.write_bytes(bytes(data))
    r = restore(target, str(bad))
    assert r.exit_code != 0 and "拒绝恢复" in r.output


def test_unknown_format_and_other_schema_revision_are_refused(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)

    def manifest(**changes):
        def change(name, data):
            if name != "manifest.json":
                return data
            m = json.loads(data)
            m.update(changes)
            return json.dumps(m).encode()
        return change

    r = restore(target, rewrite(path, str(tmp_path / "v9.tar.gz"), manifest(format_version=9)))
    assert r.exit_code != 0 and "不支持的备份格式版本 9" in r.output
    r = restore(target, rewrite(path, str(tmp_path / "old.tar.gz"), manifest(schema_revision="5f6ba3eb9434")))
    assert r.exit_code != 0 and "请先升级" in r.output


def test_restore_into_a_database_not_at_head_is_refused(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)
    from flask_migrate import downgrade

    with target.app_context():
        downgrade(revision="-1")
    r = restore(target, path)
    assert r.exit_code != 0 and "flask --app wsgi db upgrade" in r.output


def test_restore_into_the_source_database_is_refused(full_books, app, tmp_path):
    path = backup(app, tmp_path)
    r = run(app, "restore", path)
    assert r.exit_code != 0
