"""`flask --app wsgi coop …` commands: thin wrappers over services that commit once at the end."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.core import clock
coop_cli = AppGroup("coop", help="coop administration")


def _fail(exc: CoopError):
    db.session.rollback()
    detail = "; ".join(f"{k}: {v}" for k, v in _flat(exc.errors).items()) if exc.errors else ""
    raise click.ClickException(f"{exc.message} {detail}".strip())


def _flat(errors):
    from coop.core.errors import flatten_errors

    return flatten_errors(errors)


@coop_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", default=None, help="显示名称")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["county_admin", "township_auditor", "accountant", "reviewer",
                                           "finance_group", "member"]), default=None)
@click.option("--org", "org_id", type=int, default=None, help="organization id (for village roles)")
@click.option("--township", "township_id", type=int, default=None)
@click.option("--county", "county_id", type=int, default=None)
@click.option("--one-time", is_flag=True, help="the password must be changed at first login")
def create_user_cmd(username, display_name, password, role, org_id, township_id, county_id, one_time):
    """Create a user (the password policy applies) and optionally give them a role."""
    from coop.models import County, Organization, Township
    from coop.services import audit
    from coop.services.users import assign_role, check_password_policy, create_user

    try:
        check_password_policy(password, username=username, display_name=display_name or "")
        user = create_user(username, display_name or username, password, one_time=one_time)
        audit.log("user.create", target=user.username, role=role, via="cli")
        if role:
            scope = (db.session.get(Organization, org_id) if org_id else
                     db.session.get(Township, township_id) if township_id else
                     db.session.get(County, county_id) if county_id else None)
            if scope is None:
                raise click.ClickException("--role needs an existing --org, --township or --county")
            assign_role(user, role, scope)
        db.session.commit()
    except CoopError as exc:
        _fail(exc)
    click.echo(f"created user {user.username} (id {user.id})")


def _user(username: str):
    from coop.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


@coop_cli.group("user")
def user_cli():
    """Account lifecycle on the server (every act is in the audit log; sessions and tokens end as on the web)."""


@user_cli.command("reset")
@click.argument("username")
def user_reset_cmd(username):
    """Give USERNAME a one-time password (printed once), to be changed at first login."""
    from coop.services import admin, audit, users

    user = _user(username)
    password = admin.one_time_password()
    users.set_password(user, password)
    user.must_change_password = True
    users.end_sessions(user)
    revoked = users.revoke_all_tokens(user)
    audit.log("user.reset", target=user.username, tokens_revoked=revoked, via="cli")
    db.session.commit()
    click.echo(f"one-time password for {user.username}: {password}")


@user_cli.command("deactivate")
@click.argument("username")
def user_deactivate_cmd(username):
    from coop.services import audit, users

    user = _user(username)
    user.active = False
    users.end_sessions(user)
    revoked = users.revoke_all_tokens(user)
    audit.log("user.deactivate", target=user.username, tokens_revoked=revoked, via="cli")
    db.session.commit()
    click.echo(f"{user.username} deactivated ({revoked} API token(s) revoked)")


@user_cli.command("revoke-tokens")
@click.argument("username")
def user_revoke_tokens_cmd(username):
    """Revoke every API token of USERNAME."""
    from coop.services import audit, users

    user = _user(username)
    revoked = users.revoke_all_tokens(user)
    audit.log("user.revoke_tokens", target=user.username, tokens_revoked=revoked, via="cli")
    db.session.commit()
    click.echo(f"{user.username}: {revoked} API token(s) revoked")


@user_cli.command("reactivate")
@click.argument("username")
def user_reactivate_cmd(username):
    from coop.services import audit

    user = _user(username)
    user.active = True
    audit.log("user.reactivate", target=user.username, via="cli")
    db.session.commit()
    click.echo(f"{user.username} reactivated")


def _scope(org_id, township_id, county_id):
    from coop.models import County, Organization, Township

    scope = (db.session.get(Organization, org_id) if org_id else db.session.get(Township, township_id)
             if township_id else db.session.get(County, county_id) if county_id else None)
    if scope is None:
        raise click.ClickException("name an existing --org, --township or --county")
    return scope


@user_cli.command("grant")
@click.argument("username")
@click.argument("role", type=click.Choice(["county_admin", "township_auditor", "accountant", "reviewer",
                                           "finance_group", "member"]))
@click.option("--org", "org_id", type=int, default=None)
@click.option("--township", "township_id", type=int, default=None)
@click.option("--county", "county_id", type=int, default=None)
def user_grant_cmd(username, role, org_id, township_id, county_id):
    from coop.services import audit, users

    user = _user(username)
    try:
        scope = _scope(org_id, township_id, county_id)
        users.assign_role(user, role, scope)
    except CoopError as exc:
        _fail(exc)
    audit.log("user.grant", target=user.username, role=role, scope=scope.name, via="cli")
    db.session.commit()
    click.echo(f"{user.username}: {role} on {scope.name}")


@user_cli.command("remove-role")
@click.argument("username")
@click.argument("role")
@click.option("--org", "org_id", type=int, default=None)
@click.option("--township", "township_id", type=int, default=None)
@click.option("--county", "county_id", type=int, default=None)
def user_remove_role_cmd(username, role, org_id, township_id, county_id):
    """Take ROLE away from USERNAME (at the named scope); every session of the user ends."""
    from coop.services import audit, users

    user = _user(username)
    found = [r for r in user.roles if r.role == role and (org_id is None or r.organization_id == org_id)
             and (township_id is None or r.township_id == township_id)
             and (county_id is None or r.county_id == county_id)]
    if len(found) != 1:
        raise click.ClickException(f"{user.username} has {len(found)} matching {role} role(s); name the scope")
    users.revoke_role(user, found[0])
    users.end_sessions(user)
    audit.log("user.revoke_role", target=user.username, role=role, via="cli")
    db.session.commit()
    click.echo(f"{user.username}: {role} removed")


@coop_cli.command("demo")
@click.option("--quiet", is_flag=True)
def demo_cmd(quiet):
    """Build the demo county (idempotent) and print the demo logins."""
    from coop.demo import build_demo

    credentials = build_demo(progress=not quiet)
    db.session.commit()
    if credentials:
        click.echo("demo users (password for all: see below)")
        for username, role, where, password in credentials:
            click.echo(f"  {username:<14} {password:<12} {role:<18} {where}")


@coop_cli.command("verify-ledger")
def verify_ledger_cmd():
    """Re-check every posted voucher of every organization: balanced, leaf accounts, trial balance."""
    from coop.ledger.types import Line
    from coop.ledger.validate import validate_lines
    from coop.models import Organization, Voucher
    from coop.services.accounts import account_infos
    from coop.services.reports import trial_balance

    problems = 0
    orgs = list(db.session.scalars(sa.select(Organization).order_by(Organization.id)))
    with click.progressbar(orgs, label="verifying", show_pos=True) as bar:
        for org in bar:
            infos = account_infos(org)
            for v in db.session.scalars(sa.select(Voucher).where(Voucher.organization_id == org.id,
                                                                 Voucher.status == "posted")):
                lines = [Line(l.account.code, l.debit, l.credit, l.summary) for l in v.lines]
                red = v.kind == "red" or any(l.debit < 0 or l.credit < 0 for l in lines)
                issues = [i for i in validate_lines(lines, infos, red=red) if i.code not in ("not_leaf", "inactive", "counterparty_required")]
                for issue in issues:
                    problems += 1
                    click.echo(f"\n{org.name} {v.date} {v.display_number}: {issue.message}")
            for year in range(org.books_start_year, _this_year() + 1):
                if not trial_balance(org, year, 1, 12).balanced:
                    problems += 1
                    click.echo(f"\n{org.name} {year}: 试算不平衡")
    if problems:
        raise click.ClickException(f"{problems} problem(s) found")
    click.echo("ledger OK")


def _this_year() -> int:
    import datetime as dt

    return clock.today().year


def register_cli(app: Flask) -> None:
    from coop.cli import backup as cli_backup
    from coop.cli import interop as cli_interop
    from coop.cli import setup as cli_setup
    from coop.cli import verify as cli_verify
    for module in (cli_verify, cli_backup, cli_interop, cli_setup):
        module.register(coop_cli)
    app.cli.add_command(coop_cli)
