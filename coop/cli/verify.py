"""`flask --app wsgi coop verify`: the books (coop.services.integrity), the audit log's hash chain and every
published disclosure sheet's digest.

Exits 1 with the problems listed when anything was changed behind the application's back (e.g. a published
sheet edited in the database), 0 when everything checks out.
"""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from coop.cli.common import coop_cli, transaction


@coop_cli.command("verify")
@click.option("--anchor", "show_anchor", is_flag=True,
              help="print the chain's head (seq and MAC) to keep outside the database")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="with --anchor: also write it to this file")
@click.option("--against-anchor", "against", type=click.Path(exists=True, dir_okay=False),
              help="a head recorded earlier (--anchor): prove the chain still contains it")
def verify_cmd(show_anchor, output, against):
    """Check the books (balanced, unchanged since posting, gapless numbers, closed months, share registers), the
    audit log's keyed chain, every published 财务公开 sheet (data digest and PDF), and the data against the
    chain (coop.services.checks: postings, closed months, published sheets, dividends, role grants)."""
    import json

    from coop.core.extensions import db
    from coop.models import AuditLog
    from coop.services import audit, checks, disclosure, integrity

    entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.seq.is_not(None)))
    click.echo(f"审计日志：校验哈希链（{entries} 条）…")
    problems = audit.verify_chain()
    click.echo("账簿：" + "、".join(label for label, _ in integrity.LEDGER_CHECKS) + "…")
    problems += integrity.check_ledger()
    from coop.services import integrity_money  # no holding below zero, no household paid more than allocated

    problems += integrity_money.check()
    sheets = list(db.session.scalars(disclosure.published_sheets()))
    with click.progressbar(sheets, label=f"财务公开表：重算摘要（{len(sheets)} 张）", file=sys.stderr) as bar:
        for d in bar:
            problems += disclosure.verify_sheet(d)
    click.echo("对照审计日志：" + "、".join(label for label, _ in checks.CHECKS) + "…")
    problems += checks.run_all()
    if against:
        try:
            with open(against, encoding="utf-8") as f:
                recorded = json.load(f)
        except (OSError, ValueError) as exc:
            raise click.UsageError(f"无法读取链头记录 {against}：{exc}") from None
        click.echo(f"对照外部记录的链头：第 {recorded.get('seq')} 条…")
        problems += audit.check_anchor(recorded)
    if show_anchor:
        head = audit.anchor()
        click.echo(head.as_json())
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(head.as_json() + "\n")
    if problems:
        click.echo(f"发现 {len(problems)} 处问题：", err=True)
        for p in problems:
            click.echo(f"  ✗ {p}", err=True)
        raise SystemExit(1)
    click.echo(f"通过：账簿完整；审计日志 {entries} 条哈希链完整；已公开的财务公开表 {len(sheets)} 张，摘要全部一致。")


@coop_cli.group("audit-key")
def audit_key():
    """The audit chain's MAC key (kept outside the database; see the README)."""

@audit_key.command("rotate")
def rotate_cmd():
    """Append a new key to COOP_AUDIT_KEY_FILE; new entries are signed with it, old ones keep verifying with
    theirs. Keep every old key."""
    from coop.services import audit

    try:
        kid = audit.rotate_key()
    except audit.AuditKeyMissing as exc:
        raise click.ClickException(str(exc)) from None
    with transaction():
        audit.log("audit.key_rotate", target=kid)
    click.echo(f"新的审计密钥 {kid} 已启用（{audit.key_file()}）；旧密钥请保留，用于校验旧记录。")

@audit_key.command("seal")
def seal_cmd():
    """Seal pending entries now (after an upgrade: anchors the old plain chain with the first keyed entry)."""
    from coop.core.extensions import db
    from coop.services import audit

    with db.engine.begin() as conn:
        n = audit.seal(conn)
    click.echo(f"已签名 {n} 条；链头：{audit.anchor().line()}")


@coop_cli.command("verify-ledger")
def verify_ledger_cmd():
    """The ledger checks of `coop verify` alone (coop.services.integrity.LEDGER_CHECKS): posted vouchers balanced,
    unchanged since posting and by the rules of entry, gapless numbers, closed months, each year's trial balance,
    share registers, no 举债分配."""
    from coop.services import integrity

    books = integrity.Books()
    problems = []
    with click.progressbar(integrity.LEDGER_CHECKS, label="verifying", show_pos=True,
                           item_show_func=lambda c: c[0] if c else None) as bar:
        for _label, check in bar:
            problems += check(books)
    for p in problems:
        click.echo(f"\n{p}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo("ledger OK")
