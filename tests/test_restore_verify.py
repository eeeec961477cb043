"""Restore verifies inside its transaction (issue 17): a tampered archive whose manifest was rewritten to match is
restored, found wrong by the verification, and rolled back — the database stays empty and no attachment file is
left behind; a NUL byte in the archive's text is named and refused before anything is written."""
from __future__ import annotations

import hashlib
import json
import os

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Organization, Voucher
from tests.test_backup import backup, full_books, restore, rewrite, target  # noqa: F401
from tests.test_members_web import _fast_password_hashing  # noqa: F401
from tests.test_shares import village  # noqa: F401


def with_matching_manifest(path, out, change):
    """Alter members with change(name, data), then rewrite the manifest's checksums to match."""
    changed = {}

    def first(name, data):
        new = change(name, data)
        changed[name] = hashlib.sha256(new).hexdigest()
        return new

    tmp = rewrite(path, out + ".tmp", first)

    def manifest(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        m["files"].update({k: v for k, v in changed.items() if k in m["files"]})
        return json.dumps(m).encode()

    return rewrite(tmp, out, manifest)


def empty(app2) -> bool:
    with app2.app_context():
        return not db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) and \
            not db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))


def att_files(app2) -> list[str]:
    root = app2.config["ATTACHMENT_DIR"]
    return [f for _, _, fs in os.walk(root) for f in fs] if os.path.isdir(root) else []


def test_tampered_archive_with_matching_manifest_is_rolled_back(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)

    def raise_amount(name, data):
        if name == "tables/voucher_lines.json":
            return data.replace(b"1234567", b"1234568")  # 12,345.67 → 12,345.68 on both sides of a posted voucher
        return data

    bad = with_matching_manifest(path, str(tmp_path / "bad.tar.gz"), raise_amount)
    r = restore(target, bad)
    assert r.exit_code == 1, r.output
    assert "恢复后的校验发现" in r.stderr and "已全部回滚，数据库保持为空" in r.stderr
    assert "分录与记账时不符（记账后被修改）" in r.stderr
    assert empty(target)
    assert att_files(target) == []


def test_nul_in_archive_text_is_refused_before_writing(full_books, app, target, tmp_path):
    path = backup(app, tmp_path)

    def nul_summary(name, data):
        if name == "tables/voucher_lines.json":
            return data.replace("购买办公用品".encode(), "购买\\u0000办公用品".encode(), 1)
        return data

    bad = with_matching_manifest(path, str(tmp_path / "nul.tar.gz"), nul_summary)
    r = restore(target, bad)
    assert r.exit_code != 0
    assert "备份档案中表 voucher_lines" in r.output and "summary 含有空字符（NUL），不能保存；拒绝恢复" in r.output
    assert empty(target) and att_files(target) == []
