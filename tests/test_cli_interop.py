"""`flask coop orgs | report trial-balance | export-ledger | export-vouchers | import-vouchers`, and an import
killed with SIGKILL halfway that leaves nothing behind and is completed by a re-run."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog, Organization, Voucher
from coop.services import reports
from coop.services import voucher_import as vi
from tests.sigkill import kill_mid_run
from tests.test_export import check_beancount, check_hledger  # noqa: F401  (the tools' own checks)
from tests.test_voucher_import import OPENING, fill_source, twin, xlsx

ROOT = Path(__file__).resolve().parent.parent
USCC = "91110108MA01ABCDEN"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args, ok=True):
        result = runner.invoke(args=["coop", *map(str, args)])
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return run


@pytest.fixture
def filled(books):
    books.org.uscc = USCC
    fill_source(books)
    return books


def test_orgs(filled, cli):
    items = json.loads(cli("orgs", "--json").output)
    assert items == [{"id": filled.org.id, "uscc": USCC, "name": "东村股份经济合作社", "kind": "village_shareholding",
                      "kind_label": filled.org.kind_label, "township": "东镇"}]
    assert cli("orgs").output.split("\t")[:3] == [str(filled.org.id), USCC, "东村股份经济合作社"]


def test_trial_balance_json_and_csv(filled, cli):
    org = filled.org
    data = json.loads(cli("report", "trial-balance", "--org", org.id, "--period", "2025").output)
    assert data["balanced"] is True and data["period"] == "2025"
    rows = {r["code"]: r for r in data["rows"]}
    tb = {r.code: r for r in reports.trial_balance(org, 2025, 1, 12).rows}
    assert set(rows) == set(tb)
    for code, r in tb.items():
        got = rows[code]
        assert Decimal(got["debit"]) == r.debit and Decimal(got["credit"]) == r.credit
        sign = {"借": 1, "贷": -1, "平": 0}
        assert sign[got["closing_side"]] * Decimal(got["closing"]) == r.closing
        assert sign[got["opening_side"]] * Decimal(got["opening"]) == r.opening
    assert rows["102"]["closing"] == "1284479.89" and rows["102"]["closing_side"] == "借"
    assert rows["301"]["closing_side"] == "贷" and rows["301"]["opening"] == "52000.00"
    assert isinstance(rows["101"]["debit"], str)

    # by USCC and by name, one month, as CSV
    by_uscc = cli("report", "trial-balance", "--org", USCC.lower(), "--period", "2025-02", "--format", "csv").output
    by_name = cli("report", "trial-balance", "--org", org.name, "--period", "2025-02", "--format", "csv").output
    assert by_uscc == by_name
    table = {r["code"]: r for r in csv.DictReader(io.StringIO(by_uscc))}
    assert table["513"]["debit"] == "0.00" and table["513"]["closing_side"] == "平"  # 300 then red -300
    assert table["112"]["debit"] == "88.00" and table["112"]["opening"] == "0.30"

    bad = cli("report", "trial-balance", "--org", "nowhere", "--period", "2025", ok=False)
    assert bad.exit_code != 0 and "找不到组织" in bad.output
    bad = cli("report", "trial-balance", "--org", org.id, "--period", "2025-13", ok=False)
    assert bad.exit_code != 0 and "YYYY" in bad.output


def test_export_ledger(filled, cli, tmp_path):
    org = filled.org
    out = tmp_path / "books.beancount"
    cli("export-ledger", "--org", org.id, "--format", "beancount", "-o", out)
    assert out.read_text(encoding="utf-8").startswith('option "title" "东村股份经济合作社"')
    text = cli("export-ledger", "--org", USCC, "--format", "hledger", "--year", "2025").output
    assert "收租金" in text and "2025-01-01 期初余额" in text
    check_beancount(org, tmp_path)
    check_hledger(org)
    # a later year opens with the balances brought forward and has no vouchers of its own
    later = cli("export-ledger", "--org", org.id, "--format", "hledger", "--year", "2026").output
    assert "2026-01-01 期初余额" in later and "收租金" not in later


def test_export_ledger_year_checked_by_hledger(filled, cli):
    import shutil

    hledger = shutil.which("hledger")
    if hledger is None:
        pytest.skip("hledger not found")
    from coop.documents.export import code_of

    text = cli("export-ledger", "--org", filled.org.id, "--format", "hledger", "--year", "2025").output
    r = subprocess.run([hledger, "-f", "-", "bal", "--flat", "-O", "csv", "-e", "2025-02-01"], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = {code_of(row["account"]): Decimal(row["balance"].replace("CNY", "").strip())
           for row in csv.DictReader(io.StringIO(r.stdout)) if row["account"] != "total"}
    import datetime as dt

    assert got == reports.leaf_balances(filled.org, until=dt.date(2025, 1, 31))


def test_import_vouchers_cli(filled, cli, tmp_path):
    path = tmp_path / "v.xlsx"
    cli("export-vouchers", "--org", filled.org.id, "--year", 2025, "-o", path)
    target = twin(filled)
    dry = cli("import-vouchers", "--org", target.id, path, "--dry-run")
    assert "检查通过：5 张凭证，11 行分录" in dry.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)
                             .where(Voucher.organization_id == target.id)) == 0

    no_user = cli("import-vouchers", "--org", target.id, path, ok=False)
    assert no_user.exit_code != 0 and "--user" in no_user.output
    done = cli("import-vouchers", "--org", target.name, path, "--user", "kuaiji", "--post", "--reviewer", "shenhe")
    assert "已导入 5 张凭证（已记账）" in done.output
    db.session.expire_all()
    assert reports.leaf_balances(target) == reports.leaf_balances(filled.org)

    again = cli("import-vouchers", "--org", target.id, path, "--user", "kuaiji", ok=False)
    assert again.exit_code == 1 and "该文件已导入" in again.output
    again_dry = cli("import-vouchers", "--org", target.id, path, "--dry-run", ok=False)
    assert again_dry.exit_code == 1 and "该文件已导入" in again_dry.output

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([("1", "2025-03-01", "错", "999", "1.00", "", None),
                          ("1", "2025-03-01", "错", "101", "", "2.00", None)]))
    res = cli("import-vouchers", "--org", target.id, bad, "--dry-run", ok=False)
    assert res.exit_code == 1 and "第 2 行：凭证 1：科目 999 不存在" in res.output
    res = cli("import-vouchers", "--org", target.id, bad, "--user", "kuaiji", ok=False)
    assert res.exit_code == 1 and "未导入任何凭证" in res.output and "借贷不平衡" in res.output


def _big_file(n: int) -> bytes:
    rows = []
    for i in range(n):
        day = f"2025-03-{1 + i % 28:02d}"
        amount = f"{(i + 1) * 1.01:.2f}"
        rows.append((f"K{i}", day, f"第{i}张", "101", amount, "", None))
        rows.append((f"K{i}", day, f"第{i}张", "102", "", amount, "某单位"))
    return xlsx(rows)


def _count(org_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.organization_id == org_id))


def test_sigkill_mid_import_leaves_nothing_and_rerun_completes(app, books, tmp_path):
    books.lock_opening(OPENING)
    db.session.commit()
    org_id = books.org.id
    n = 60
    path = tmp_path / "big.xlsx"
    path.write_bytes(_big_file(n))
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}
    env.update(COOP_DATABASE_URL=url, COOP_CONFIG="config.DevelopmentConfig", PYTHONUNBUFFERED="1",
               COOP_AUDIT_KEY=app.config["AUDIT_KEY"])  # the same audit key as this process
    cmd = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "coop", "import-vouchers",
           "--org", str(org_id), str(path), "--user", "kuaiji", "--post", "--reviewer", "shenhe"]

    kill_mid_run(cmd, cwd=ROOT, env={**env, vi.SLEEP_ENV: "50"}, first_line="正在导入 60 张凭证")

    assert _count(org_id) == 0  # all or nothing: nothing
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == vi.ACTION))

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "已导入 60 张凭证" in done.stdout
    assert _count(org_id) == n
    numbers = db.session.scalars(sa.select(Voucher.number).where(Voucher.organization_id == org_id)
                                 .order_by(Voucher.number)).all()
    assert numbers == list(range(1, n + 1))  # gapless: the killed run's numbers were rolled back too
    org = db.session.get(Organization, org_id)
    assert reports.leaf_balances(org)["101"] == Decimal("2000.00") + sum(
        (Decimal(f"{(i + 1) * 1.01:.2f}") for i in range(n)), Decimal(0))

    # and a third run would be refused (the CLI's refusal itself is tested in-process above)
    problems = vi.check_import(org, vi.read_xlsx(path.read_bytes()), key=vi.file_key(path.read_bytes()))
    assert "该文件已导入" in problems[0].message
