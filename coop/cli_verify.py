"""`flask --app wsgi coop verify`: the books (coop.services.integrity), the audit log's hash chain and every
published disclosure sheet's digest.

Exits 1 with the problems listed when anything was changed behind the application's back (e.g. a published
sheet edited in the database), 0 when everything checks out.
"""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa


def register(coop_cli) -> None:
    if "verify" in coop_cli.commands:  # registered once, however often the app is built
        return

    @coop_cli.command("verify")
    def verify_cmd():
        """Check the books (balanced, unchanged since posting, gapless numbers, closed months, share registers), the
        audit log's hash chain and every published 财务公开 sheet (data digest and PDF)."""
        from .extensions import db
        from .models import AuditLog
        from .services import audit, disclosure, integrity

        entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.seq.is_not(None)))
        click.echo(f"审计日志：校验哈希链（{entries} 条）…")
        problems = audit.verify_chain()
        click.echo("账簿：校验凭证平衡、记账后分录未改动、凭证号连续、已结账月份、股权登记合计…")
        problems += integrity.check_ledger()
        from .services import integrity_money  # no holding below zero, no household paid more than allocated

        problems += integrity_money.check()
        sheets = list(db.session.scalars(disclosure.published_sheets()))
        with click.progressbar(sheets, label=f"财务公开表：重算摘要（{len(sheets)} 张）", file=sys.stderr) as bar:
            for d in bar:
                problems += disclosure.verify_sheet(d)
        if problems:
            click.echo(f"发现 {len(problems)} 处问题：", err=True)
            for p in problems:
                click.echo(f"  ✗ {p}", err=True)
            raise SystemExit(1)
        click.echo(f"通过：账簿完整；审计日志 {entries} 条哈希链完整；已公开的财务公开表 {len(sheets)} 张，摘要全部一致。")
