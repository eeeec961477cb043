"""Roster import (成员名册): all or nothing per file, and once per file — the file's SHA-256 is recorded in the
audit log, as for voucher imports (coop.services.imports). The same file a second time gets a clear message and
writes nothing, through the service, the web page, the API and `flask coop import-roster`; an import killed with
SIGKILL halfway leaves nothing behind and a re-run completes it; two imports of one file at once: one wins."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from coop.core.errors import CoopError, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import AuditLog, Household, Member, MembershipEvent, Organization, User
from coop.services import integrity, members, users
from tests.test_members_web import (IDS, _fast_password_hashing, make_id, people,  # noqa: F401
                                    roster_csv, snapshot_counts)
from tests.sigkill import kill_mid_run

ROOT = Path(__file__).resolve().parent.parent


def _good() -> bytes:
    return roster_csv([("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", "13800000000"),
                       ("0101", "钱七", IDS[5], "钱小七", IDS[6], "子", ""),
                       ("", "孙八", IDS[7], "孙八", IDS[7], "户主", "")])


def _imports(org_id: int) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == members.ROSTER_ACTION,
                                                             AuditLog.organization_id == org_id)))


def _big_roster(households: int, size: int = 3) -> bytes:
    """`households` families of `size` people, valid 身份证 numbers not used elsewhere in these tests."""
    rows = []
    for h in range(households):
        head = make_id(f"1960{1 + h % 12:02d}{1 + h % 28:02d}", 100 + h)
        rows.append((f"{h + 1001:04d}", f"户主{h}", head, f"户主{h}", head, "户主", ""))
        for k in range(1, size):
            rows.append((f"{h + 1001:04d}", f"户主{h}", head, f"成员{h}-{k}",
                         make_id(f"1990{1 + k:02d}{1 + h % 28:02d}", 100 + h), "子", ""))
    return roster_csv(rows)


# ---------------------------------------------------------------- service


def test_same_file_twice_is_refused_and_writes_nothing(people):
    org, content = people.org, _good()
    key = members.file_key(content)
    records = members.read_roster(content, "名册.csv")
    assert members.check_roster(org, records, key=key).ok
    created = members.import_roster(org, records, user=people.books.accountant, key=key)
    db.session.commit()
    assert len(created) == 2 and db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 8
    [log] = _imports(org.id)
    assert log.target == key and log.seq is not None and log.user_id == people.books.accountant.id

    before = snapshot_counts()
    check = members.check_roster(org, members.read_roster(content, "名册.csv"), key=key)
    # one clear problem, not "already registered" on every row
    assert not check.ok and len(check.problems) == 1 and len(check.rows) == 3
    line, msg = check.problems[0]
    assert line == 0 and msg.startswith("该文件已导入（") and msg.endswith("UTC），不能重复导入")
    with pytest.raises(InvalidState, match="该文件已导入"):
        members.import_roster(org, records, user=people.books.accountant, key=key)
    db.session.rollback()
    assert snapshot_counts() == before and len(_imports(org.id)) == 1

    # the same people in a different file (other bytes): refused row by row, as before
    other = content.replace(b"13800000000", b"13900000000")
    with pytest.raises(ValidationFailed, match="名册有错误"):
        members.import_roster(org, members.read_roster(other, "x.csv"), user=None, key=members.file_key(other))
    db.session.rollback()
    # and the same file into another village is not "already imported" there (its people are, though)
    assert members.check_roster(_other_village(people), records, key=key).problems[0][0] != 0


def _other_village(people) -> Organization:
    from coop.services import orgs

    v = orgs.create_organization(people.books.township, name="西村股份经济合作社", books_start_year=2025)
    db.session.flush()
    return v


def test_a_failure_halfway_leaves_nothing(people, monkeypatch):
    """All or nothing: an error after some households were written (flushed) rolls every one of them back."""
    content = _big_roster(6)
    records = members.read_roster(content, "big.csv")
    before = snapshot_counts()
    real, calls = members.add_member, []

    def failing(*args, **kw):
        calls.append(1)
        if len(calls) == 10:
            raise CoopError("模拟故障")
        return real(*args, **kw)

    monkeypatch.setattr(members, "add_member", failing)
    with pytest.raises(CoopError, match="模拟故障"):
        members.import_roster(people.org, records, user=None, key=members.file_key(content))
    db.session.rollback()
    assert snapshot_counts() == before and _imports(people.org.id) == []
    monkeypatch.setattr(members, "add_member", real)
    assert len(members.import_roster(people.org, records, user=None, key=members.file_key(content))) == 6
    db.session.commit()
    assert snapshot_counts()["Member"] == before["Member"] + 18


def test_unreadable_files_are_a_4xx_not_a_500(people, client, auth):
    auth.login("kuaiji")
    url = f"/o/{people.org.id}/members/import"
    for data, name, says in ((b"PK\x03\x04 not really a zip", "名册.xlsx", "无法读取 Excel 文件"),
                             (b"\x00\x01\x02garbage\x00", "名册.csv", "缺少列")):
        r = client.post(url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
        assert r.status_code == 422, r.get_data(as_text=True)[:500]
        assert says in r.get_data(as_text=True)


# ---------------------------------------------------------------- web and API


def test_web_second_upload_of_the_same_file_says_so(people, client, auth):
    import re

    auth.login("kuaiji")
    url, content = f"/o/{people.org.id}/members/import", _good()
    r = client.post(url, data={"file": (io.BytesIO(content), "名册.csv")}, content_type="multipart/form-data")
    carried = re.search(r'name="data" value="([^"]+)"', r.get_data(as_text=True)).group(1)
    r = client.post(url, data={"step": "import", "data": carried, "filename": "名册.csv"})
    assert r.status_code == 302
    before = snapshot_counts()
    # uploading it again: the dry run says it was imported, and nothing else
    r = client.post(url, data={"file": (io.BytesIO(content), "名册.csv")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "该文件已导入" in html and "本村已登记" not in html
    # a stale import form (the check page kept open in another tab) posted again: refused too
    r = client.post(url, data={"step": "import", "data": carried, "filename": "名册.csv"})
    assert r.status_code == 422 and "该文件已导入" in r.get_data(as_text=True)
    assert snapshot_counts() == before and len(_imports(people.org.id)) == 1


def test_api_second_import_of_the_same_file_is_409(people, client):
    token = users.issue_api_token(people.books.accountant, "t")
    db.session.commit()
    base, content = f"/api/v1/orgs/{people.org.id}/roster", _good()

    def upload(path):
        return client.post(base + path, data={"file": (io.BytesIO(content), "名册.csv")},
                           headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")

    assert upload("/import").status_code == 201
    before = snapshot_counts()
    r = upload("/import")
    assert r.status_code == 409 and r.json["message"].startswith("该文件已导入")
    r = upload("/check")
    assert r.status_code == 200 and r.json["ok"] is False
    assert [p["line"] for p in r.json["problems"]] == [0] and "该文件已导入" in r.json["problems"][0]["message"]
    assert snapshot_counts() == before


# ---------------------------------------------------------------- CLI


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=["coop", *map(str, args)])

    return run


def test_cli_dry_run_import_and_refused_rerun(people, cli, tmp_path):
    path = tmp_path / "名册.csv"
    path.write_bytes(_good())
    org = people.org.id
    before = snapshot_counts()
    r = cli("import-roster", "--org", org, path, "--dry-run")
    assert r.exit_code == 0 and "检查通过：2 户，3 人" in r.output and "未写入任何数据" in r.output
    assert snapshot_counts() == before
    r = cli("import-roster", "--org", org, path, "--user", "kuaiji", "--confirm-date", "2025-02-01")
    assert r.exit_code == 1 and "--evidence" in r.output
    r = cli("import-roster", "--org", org, path, "--user", "kuaiji", "--confirm-date", "2025-02-01",
            "--evidence", "2025年第1号成员大会决议")
    assert r.exit_code == 0, r.output
    assert "已导入 2 户、3 人" in r.output and members.file_key(_good()) in r.output
    db.session.expire_all()
    qian = db.session.scalar(sa.select(Member).where(Member.id_number == IDS[5]))
    assert qian.status == "member" and qian.household.number == "0101"
    assert _imports(org)[0].user_id == people.books.accountant.id

    after = snapshot_counts()
    for extra in ((), ("--dry-run",)):
        r = cli("import-roster", "--org", org, path, "--user", "kuaiji", *extra)
        assert r.exit_code == 1 and "该文件已导入" in r.output and "本村已登记" not in r.output
    assert snapshot_counts() == after

    bad = tmp_path / "bad.csv"
    bad.write_bytes(roster_csv([("0201", "王五", IDS[9], "王小五", IDS[8], "子", "")]))
    r = cli("import-roster", "--org", org, bad)
    assert r.exit_code == 1 and f"第 2 行：户主 王五（{IDS[9]}）不在名册中" in r.output
    assert snapshot_counts() == after


def test_sigkill_mid_import_leaves_nothing_and_rerun_completes(app, books, tmp_path):
    org_id, n = books.org.id, 40
    path = tmp_path / "big.csv"
    path.write_bytes(_big_roster(n))
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.commit()
    db.session.remove()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}
    env.update(COOP_DATABASE_URL=url, COOP_CONFIG="config.DevelopmentConfig", PYTHONUNBUFFERED="1",
               COOP_AUDIT_KEY=app.config["AUDIT_KEY"])  # the same audit key as this process
    cmd = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "coop", "import-roster",
           "--org", str(org_id), str(path), "--user", "kuaiji", "--confirm-date", "2025-02-01",
           "--evidence", "2025年第1号成员大会决议"]

    kill_mid_run(cmd, cwd=ROOT, env={**env, members.ROSTER_SLEEP_ENV: "25"}, first_line=f"正在导入 {n} 户、{3 * n} 人")

    def counts():
        db.session.rollback()
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (Household, Member, MembershipEvent)) + (len(_imports(org_id)),)

    assert counts() == (0, 0, 0, 0)  # all or nothing: nothing

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"已导入 {n} 户、{3 * n} 人" in done.stdout
    assert counts() == (n, 3 * n, 3 * n, 1)
    heads = db.session.scalars(sa.select(Household.number).where(Household.organization_id == org_id)
                               .order_by(Household.number)).all()
    assert heads == [f"{h + 1001:04d}" for h in range(n)]

    # a third run is refused with the clear message, and writes nothing
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "该文件已导入" in again.stderr, again.stdout + again.stderr
    assert counts() == (n, 3 * n, 3 * n, 1)
    assert integrity.check_books() == []


# ---------------------------------------------------------------- two imports of one file at once


def test_two_imports_of_the_same_file_at_once_one_wins(app, books):
    """Both pass the dry run, then import at the same moment: the second waits for the first (row lock on
    PostgreSQL, the write lock on SQLite), then is refused as already imported — not an IntegrityError."""
    content = _big_roster(15)
    key = members.file_key(content)
    org_id, user_id = books.org.id, books.accountant.id
    db.session.commit()
    app = current_app._get_current_object()
    barrier, results = threading.Barrier(2), {}

    def run(name):
        with app.app_context():
            try:
                org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
                records = members.read_roster(content, "big.csv")
                assert members.check_roster(org, records, key=key).ok
                db.session.rollback()
                barrier.wait(timeout=30)
                members.import_roster(org, records, user=user, key=key)
                db.session.commit()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                results[name] = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results.values())[1] == "ok", results
    assert sorted(results.values())[0].startswith("InvalidState: 该文件已导入"), results
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 45
    assert len(_imports(org_id)) == 1
