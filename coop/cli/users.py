"""`flask coop create-user` and `flask coop user …`: accounts from the server's shell, audit-logged."""
from __future__ import annotations

import click

from coop.cli.common import coop_cli, transaction, user_named
from coop.core.extensions import db


@coop_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", default=None, help="显示名称")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["county_admin", "township_auditor", "accountant", "reviewer",
                                           "finance_group", "cashier", "member"]), default=None)
@click.option("--org", "org_id", type=int, default=None, help="organization id (for village roles)")
@click.option("--township", "township_id", type=int, default=None)
@click.option("--county", "county_id", type=int, default=None)
@click.option("--one-time", is_flag=True, help="the password must be changed at first login")
def create_user_cmd(username, display_name, password, role, org_id, township_id, county_id, one_time):
    """Create a user (the password policy applies) and optionally give them a role."""
    from coop.models import County, Organization, Township
    from coop.services import audit
    from coop.services.users import assign_role, check_password_policy, create_user

    with transaction():
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
    click.echo(f"created user {user.username} (id {user.id})")


@coop_cli.group("user")
def user_cli():
    """Account lifecycle on the server (every act is in the audit log; sessions and tokens end as on the web)."""


@user_cli.command("reset")
@click.argument("username")
def user_reset_cmd(username):
    """Give USERNAME a one-time password (printed once), to be changed at first login."""
    from coop.services import admin, audit, users

    user = user_named(username)
    password = admin.one_time_password()
    with transaction():
        users.set_password(user, password)
        user.must_change_password = True
        users.end_sessions(user)
        revoked = users.revoke_all_tokens(user)
        audit.log("user.reset", target=user.username, tokens_revoked=revoked, via="cli")
    click.echo(f"one-time password for {user.username}: {password}")


@user_cli.command("deactivate")
@click.argument("username")
def user_deactivate_cmd(username):
    from coop.services import audit, users

    user = user_named(username)
    with transaction():
        user.active = False
        users.end_sessions(user)
        revoked = users.revoke_all_tokens(user)
        audit.log("user.deactivate", target=user.username, tokens_revoked=revoked, via="cli")
    click.echo(f"{user.username} deactivated ({revoked} API token(s) revoked)")


@user_cli.command("revoke-tokens")
@click.argument("username")
def user_revoke_tokens_cmd(username):
    """Revoke every API token of USERNAME."""
    from coop.services import audit, users

    user = user_named(username)
    with transaction():
        revoked = users.revoke_all_tokens(user)
        audit.log("user.revoke_tokens", target=user.username, tokens_revoked=revoked, via="cli")
    click.echo(f"{user.username}: {revoked} API token(s) revoked")


@user_cli.command("reactivate")
@click.argument("username")
def user_reactivate_cmd(username):
    from coop.services import audit

    user = user_named(username)
    with transaction():
        user.active = True
        audit.log("user.reactivate", target=user.username, via="cli")
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
                                           "finance_group", "cashier", "member"]))
@click.option("--org", "org_id", type=int, default=None)
@click.option("--township", "township_id", type=int, default=None)
@click.option("--county", "county_id", type=int, default=None)
def user_grant_cmd(username, role, org_id, township_id, county_id):
    from coop.services import audit, users

    user = user_named(username)
    with transaction():
        scope = _scope(org_id, township_id, county_id)
        users.assign_role(user, role, scope)
        audit.log("user.grant", target=user.username, role=role, scope=scope.name, via="cli")
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

    user = user_named(username)
    found = [r for r in user.roles if r.role == role and (org_id is None or r.organization_id == org_id)
             and (township_id is None or r.township_id == township_id)
             and (county_id is None or r.county_id == county_id)]
    if len(found) != 1:
        raise click.ClickException(f"{user.username} has {len(found)} matching {role} role(s); name the scope")
    with transaction():
        users.revoke_role(user, found[0])
        users.end_sessions(user)
        audit.log("user.revoke_role", target=user.username, role=role, via="cli")
    click.echo(f"{user.username}: {role} removed")
