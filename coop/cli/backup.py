"""CLI commands: `flask --app wsgi coop backup -o FILE` and `coop restore FILE` (see coop.services.backup)."""
from __future__ import annotations

import datetime as dt

import click
from coop.cli.common import coop_cli


@coop_cli.command("backup")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="archive to write (default coop-backup-<UTC time>.tar.gz)")
def backup_cmd(output):
    """Write a consistent archive: every table as JSON, the attachment files, a manifest with checksums."""
    from coop.services.backup import create_backup

    output = output or f"coop-backup-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.tar.gz"
    manifest = create_backup(output)
    rows = sum(manifest["row_counts"].values())
    atts = sum(1 for n in manifest["files"] if n.startswith("attachments/"))
    click.echo(f"备份完成：{output}（数据库版本 {manifest['schema_revision']}，{len(manifest['row_counts'])} 张表 "
               f"{rows} 行，附件 {atts} 个）")

@coop_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def restore_cmd(archive):
    """Restore an archive into an empty database upgraded to the current version, then verify the books."""
    from coop.core.extensions import db
    from coop.services.backup import BackupError, RestoreRefused, restore_backup

    try:
        manifest = restore_backup(archive)
    except RestoreRefused as exc:
        click.echo(f"拒绝恢复：{exc.message}", err=True)
        for p in exc.problems:
            click.echo(f"  ✗ {p}", err=True)
        raise SystemExit(1)
    except BackupError as exc:
        db.session.rollback()
        raise click.ClickException(f"拒绝恢复：{exc.message}")
    rows = sum(manifest["row_counts"].values())
    click.echo(f"已恢复 {archive}（{manifest['created_at']} 的备份，{rows} 行），校验后提交。")
    click.echo("校验通过：账簿、审计日志哈希链和已公开的财务公开表全部一致。")
