"""`flask --app wsgi coop setup-county …` and friends: a county from an empty database (README "新县建账").

The first county and its first county admin are created here, on the server (or on the web/API first-run page,
which exists only while the database is empty and only with the installer's COOP_SETUP_TOKEN). After that, county admins add townships and organizations on the web (县级管理 → 乡镇与建账进度) or over the API; the
commands below do the same on the server, acting as a named county admin (--as) for the audit log.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click
import sqlalchemy as sa
from coop.cli.common import coop_cli, transaction, user_named
from coop.core.extensions import db


def _decimal(ctx, param, value):
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"not a number: {value}") from None


@coop_cli.command("setup-county")
@click.option("--name", required=True, help="县名")
@click.option("--code-scheme", default="2-2-2", show_default=True, help="明细科目编码方案: 2-2-2, 2-2-2-2, 3-3, 3-3-3")
@click.option("--admin", "admin_username", required=True, help="username of the first county admin")
@click.option("--admin-name", default="", help="显示名称")
@click.option("--reserve-rate", callback=_decimal, help="公积公益金提取比例, e.g. 0.30")
@click.option("--cadre-reward-cap", callback=_decimal, help="干部奖励上限, e.g. 0.20")
@click.option("--cash-limit", callback=_decimal, help="库存现金限额（元）")
@click.option("--buyback-limit", callback=_decimal, help="有偿退出年度上限, e.g. 0.05")
@click.option("--disclosure-due-days", type=int, help="季度结束后几天内公开")
def setup_county_cmd(name, code_scheme, admin_username, admin_name, **policy):
    """Create a county (code scheme, policy defaults) and its first county admin; prints the admin's one-time
    password (changed at first login)."""
    from coop.services import setup

    with transaction():
        county, admin, password = setup.setup_county(name, code_scheme=code_scheme, admin_username=admin_username,
                                                     admin_display_name=admin_name, **policy)
    click.echo(f"created county {county.name} (id {county.id}, code scheme {county.code_scheme})")
    click.echo(f"one-time password for {admin.username}: {password}")

@coop_cli.command("setup-township")
@click.option("--as", "as_user", required=True, help="a county admin of the county")
@click.option("--name", required=True, help="乡镇名称")
def setup_township_cmd(as_user, name):
    """Add a township to the county of the admin --as."""
    from coop.services import setup

    with transaction():
        t = setup.add_township(user_named(as_user), name)
    click.echo(f"created township {t.name} (id {t.id})")

@coop_cli.command("setup-org")
@click.option("--as", "as_user", required=True, help="a county admin of the county")
@click.option("--township", required=True, help="乡镇名称")
@click.option("--name", required=True, help="组织名称")
@click.option("--kind", default="village_shareholding", show_default=True)
@click.option("--uscc", default=None, help="统一社会信用代码 (checked)")
@click.option("--legal-representative", default=None)
@click.option("--start", required=True, help="first month kept here, YYYY-MM (opening balances as of its 1st)")
def setup_org_cmd(as_user, township, name, kind, uscc, legal_representative, start):
    """Create an organization with the national chart in a township of the admin's county."""
    from coop.models import Township
    from coop.services import admin as admin_service, setup

    user = user_named(as_user)
    with transaction():
        county = setup.county_of(user)
        t = db.session.scalar(sa.select(Township).where(Township.county_id == county.id,
                                                        Township.name == township))
        if t is None:
            raise click.ClickException(f"no township {township} in {county.name}")
        try:
            year, month = (int(p) for p in start.split("-"))
        except ValueError:
            raise click.BadParameter("YYYY-MM", param_hint="--start") from None
        org = admin_service.create_organization(user, dict(
            township_id=t.id, name=name, kind=kind, uscc=uscc, legal_representative=legal_representative,
            books_start_year=year, books_start_month=month))
    click.echo(f"created organization {org.name} (id {org.id})")

@coop_cli.command("portal-accounts")
@click.option("--as", "as_user", required=True, help="the village's accountant")
@click.option("--org", "org_id", type=int, required=True)
@click.option("--member", "member_ids", type=int, multiple=True, help="member id (repeat); default: every head")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="开通通知书 PDF")
def portal_accounts_cmd(as_user, org_id, member_ids, output):
    """Open member portal accounts and write the 开通通知书 (one page per account; the one-time passwords are
    printed only there). The QR code points at COOP_PUBLIC_URL/login."""
    from flask import current_app

    from coop.documents import portal_letters
    from coop.models import Organization
    from coop.services import portal_accounts

    org = db.session.get(Organization, org_id)
    if org is None:
        raise click.ClickException(f"no organization {org_id}")
    # committed at the end of the block, only once the letters are written: a password nobody holds is no use
    with transaction():
        opened = portal_accounts.open_accounts(org, user=user_named(as_user), member_ids=list(member_ids) or None)
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            pdf = portal_letters.letters_pdf(org, opened)
        with open(output, "wb") as fh:
            fh.write(pdf)
    click.echo(f"{len(opened)} account(s) opened; letters in {output}")

@coop_cli.command("setup-progress")
@click.option("--org", "org_id", type=int, required=True)
def setup_progress_cmd(org_id):
    """Print a village's 建账进度."""
    from coop.models import Organization
    from coop.services import setup

    org = db.session.get(Organization, org_id)
    if org is None:
        raise click.ClickException(f"no organization {org_id}")
    for s in setup.progress(org):
        click.echo(f"[{'x' if s.done else ' '}] {s.label}" + "".join(f"\n      {m}" for m in s.missing))
