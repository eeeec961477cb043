"""CLI commands for scripting and interoperability:

    flask --app wsgi coop orgs [--json]
    flask --app wsgi coop report trial-balance --org CODE --period YYYY|YYYY-MM [--format json|csv]
    flask --app wsgi coop export-ledger --org CODE [--year YYYY] --format beancount|hledger [-o FILE]
    flask --app wsgi coop export-vouchers --org CODE --year YYYY -o FILE.xlsx
    flask --app wsgi coop import-vouchers --org CODE FILE [--dry-run] [--user NAME] [--post --reviewer NAME]
    flask --app wsgi coop import-roster --org CODE FILE [--dry-run] [--user NAME] [--confirm-date D --evidence T]

CODE is the organization's id, its 统一社会信用代码 or its exact name. Amounts are printed as strings with two
decimals, never as floats.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from coop.cli.common import coop_cli, transaction


def _org(code: str):
    from coop.core.extensions import db
    from coop.models import Organization

    code = (code or "").strip()
    org = None
    if code.isdigit():
        org = db.session.get(Organization, int(code))
    if org is None:
        org = db.session.scalar(sa.select(Organization).where(Organization.uscc == code.upper()))
    if org is None:
        found = list(db.session.scalars(sa.select(Organization).where(Organization.name == code).limit(2)))
        if len(found) > 1:
            raise click.ClickException(f"有多个名为“{code}”的组织，请用 id 或统一社会信用代码")
        org = found[0] if found else None
    if org is None:
        raise click.ClickException(f"找不到组织“{code}”（可用 id、统一社会信用代码或完整名称）")
    return org


def _user(username: str | None, option: str):
    from coop.core.extensions import db
    from coop.models import User

    if not username:
        raise click.ClickException(f"请用 {option} 指定用户")
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"找不到用户“{username}”（{option}）")
    return user


def _money(x) -> str:
    return f"{x:.2f}"


def _side(x) -> str:
    return "借" if x > 0 else "贷" if x < 0 else "平"


def _period(text: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?", (text or "").strip())
    if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        raise click.BadParameter("应为 YYYY 或 YYYY-MM", param_hint="--period")
    year = int(m.group(1))
    if m.group(2):
        return year, int(m.group(2)), int(m.group(2))
    return year, 1, 12


def trial_balance_rows(org, year: int, month_from: int, month_to: int) -> dict:
    """The 科目余额表 as plain data: amounts as strings, balances as (absolute amount, side)."""
    from coop.services.reports import trial_balance

    tb = trial_balance(org, year, month_from, month_to)
    rows = []
    for r in tb.rows:
        rows.append({
            "code": r.code, "name": r.name, "level": r.level, "leaf": r.is_leaf,
            "opening_side": _side(r.opening), "opening": _money(abs(r.opening)),
            "debit": _money(r.debit), "credit": _money(r.credit),
            "ytd_debit": _money(r.ytd_debit), "ytd_credit": _money(r.ytd_credit),
            "closing_side": _side(r.closing), "closing": _money(abs(r.closing)),
        })
    period = f"{year}" if (month_from, month_to) == (1, 12) else f"{year}-{month_from:02d}"
    return {
        "organization": {"id": org.id, "uscc": org.uscc, "name": org.name},
        "period": period, "year": year, "month_from": month_from, "month_to": month_to,
        "balanced": tb.balanced, "totals": {k: _money(v) for k, v in tb.totals.items()}, "rows": rows,
    }


TB_COLUMNS = ("code", "name", "level", "opening_side", "opening", "debit", "credit", "ytd_debit", "ytd_credit",
              "closing_side", "closing")


@coop_cli.command("orgs")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
def orgs_cmd(as_json):
    """List organizations: id, USCC, name, kind, township."""
    from coop.core.extensions import db
    from coop.models import Organization
    from sqlalchemy.orm import selectinload

    orgs = list(db.session.scalars(sa.select(Organization).order_by(Organization.id)
                                   .options(selectinload(Organization.township))))
    items = [{"id": o.id, "uscc": o.uscc, "name": o.name, "kind": o.kind, "kind_label": o.kind_label,
              "township": o.township.name} for o in orgs]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for i in items:
        click.echo("\t".join([str(i["id"]), i["uscc"] or "-", i["name"], i["kind"], i["township"]]))

@coop_cli.group("report")
def report_grp():
    """Reports for scripts."""

@report_grp.command("trial-balance")
@click.option("--org", "org_code", required=True, help="id, 统一社会信用代码 or exact name")
@click.option("--period", required=True, help="YYYY (the year) or YYYY-MM (one month)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
def trial_balance_cmd(org_code, period, fmt):
    """科目余额表: code, name, opening, debit, credit, closing, with the balance side (借/贷/平)."""
    org = _org(org_code)
    data = trial_balance_rows(org, *_period(period))
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=TB_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    from coop.core.export_safety import csv_dict

    w.writerows(csv_dict(r) for r in data["rows"])  # account names like "=…" stay text
    click.echo(buf.getvalue(), nl=False)

@coop_cli.command("export-ledger")
@click.option("--org", "org_code", required=True, help="id, 统一社会信用代码 or exact name")
@click.option("--year", type=int, default=None, help="only this year, opening with the balances brought forward")
@click.option("--format", "fmt", type=click.Choice(["beancount", "hledger"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="file to write (default: standard output)")
def export_ledger_cmd(org_code, year, fmt, output):
    """Posted vouchers and opening balances as a beancount or hledger journal."""
    from coop.documents.export import to_beancount, to_hledger

    org = _org(org_code)
    text = (to_beancount if fmt == "beancount" else to_hledger)(org, year)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)

@coop_cli.command("export-vouchers")
@click.option("--org", "org_code", required=True)
@click.option("--year", type=int, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_vouchers_cmd(org_code, year, output):
    """Posted vouchers of a year as xlsx in the import template (docs/voucher-import-template.md)."""
    from coop.services.voucher_import import export_vouchers_xlsx

    Path(output).write_bytes(export_vouchers_xlsx(_org(org_code), year))
    click.echo(f"wrote {output}")

@coop_cli.command("import-vouchers")
@click.option("--org", "org_code", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="only check the file and list every problem; write nothing")
@click.option("--user", "username", default=None, help="the preparer (制单人), an accountant of the organization")
@click.option("--post", is_flag=True, help="also review and post every voucher")
@click.option("--reviewer", default=None, help="with --post: the reviewer (审核人)")
@click.option("--poster", default=None, help="with --post: the poster (记账人); default --user")
def import_vouchers_cmd(org_code, file, dry_run, username, post, reviewer, poster):
    """Import an xlsx of vouchers (docs/voucher-import-template.md): all of it in one transaction, or nothing."""
    from coop.core.errors import CoopError, flatten_errors
    from coop.core.extensions import db
    from coop.services import voucher_import as vi

    org = _org(org_code)
    content = Path(file).read_bytes()
    key = vi.file_key(content)
    try:
        rows = vi.read_xlsx(content)
    except CoopError as exc:
        raise click.ClickException(exc.message)
    n_vouchers, n_lines = vi.summary_of(rows)
    if dry_run:
        problems = vi.check_import(org, rows, key=key)
        db.session.rollback()  # a dry run: nothing the check touched is kept
        if problems:
            click.echo(f"发现 {len(problems)} 处问题（未写入任何数据）：", err=True)
            for p in problems:
                click.echo(f"  {p}" if p.row else f"  {p.message}", err=True)
            sys.exit(1)
        click.echo(f"检查通过：{n_vouchers} 张凭证，{n_lines} 行分录，可以导入（未写入任何数据）")
        return
    user = _user(username, "--user")
    rev = _user(reviewer, "--reviewer") if post else None
    pst = _user(poster or username, "--poster") if post else None
    click.echo(f"正在导入 {n_vouchers} 张凭证（{n_lines} 行）…")

    def report(exc: CoopError) -> None:
        click.echo(exc.message, err=True)
        for path, messages in flatten_errors(exc.errors or {}).items():
            for m in messages:
                click.echo(f"  {m}" if path.startswith("rows") else f"  {path}: {m}", err=True)

    with transaction(report):
        created = vi.import_vouchers(org, rows, user, key, post=post, reviewer=rev, poster=pst)
    state = "已记账" if post else "未审核草稿"
    click.echo(f"已导入 {len(created)} 张凭证（{state}），文件 SHA-256 {key}")

@coop_cli.command("import-roster")
@click.option("--org", "org_code", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="only check the file and list every problem; write nothing")
@click.option("--user", "username", default=None, help="who imports (recorded in the audit log)")
@click.option("--confirm-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="also confirm everyone as a member on this date (成员大会)")
@click.option("--evidence", default=None, help="with --confirm-date: the 成员大会 resolution")
def import_roster_cmd(org_code, file, dry_run, username, confirm_date, evidence):
    """Import a member roster (xlsx or CSV, the layout of the roster export): all of it in one transaction, or
    nothing; the same file a second time is refused."""
    from coop.core.errors import CoopError, flatten_errors
    from coop.core.extensions import db
    from coop.services import members

    org = _org(org_code)
    content = Path(file).read_bytes()
    key = members.file_key(content)
    try:
        records = members.read_roster(content, file)
    except CoopError as exc:
        raise click.ClickException(exc.message)
    check = members.check_roster(org, records, key=key)
    db.session.rollback()  # the check keeps nothing; the import below is its own transaction
    households = len({r.head_id for r in check.rows})
    if dry_run or not check.ok:
        if not check.ok:
            click.echo(f"发现 {len(check.problems)} 处问题（未写入任何数据）：", err=True)
            for line, msg in check.problems:
                click.echo(f"  第 {line} 行：{msg}" if line else f"  {msg}", err=True)
            sys.exit(1)
        click.echo(f"检查通过：{households} 户，{len(check.rows)} 人，可以导入（未写入任何数据）")
        return
    if confirm_date and not (evidence or "").strip():
        raise click.ClickException("--confirm-date 须同时用 --evidence 写明成员大会决议编号")
    user = _user(username, "--user") if username else None
    click.echo(f"正在导入 {households} 户、{len(check.rows)} 人…")

    def report(exc: CoopError) -> None:
        click.echo(exc.message, err=True)
        for path, messages in flatten_errors(exc.errors or {}).items():
            line = path.split(".")[1] if path.startswith("rows.") else None
            for m in messages:
                click.echo(f"  第 {line} 行：{m}" if line else f"  {m}", err=True)

    with transaction(report):
        created = members.import_roster(org, records, user=user, key=key,
                                        confirm_date=confirm_date.date() if confirm_date else None,
                                        evidence=evidence)
    click.echo(f"已导入 {len(created)} 户、{len(check.rows)} 人，文件 SHA-256 {key}")
