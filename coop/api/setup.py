"""Set-up over the API: townships, a village's 建账进度, the chart and opening-balance imports (check first, then
import; all or nothing, once per file) and member portal accounts opened in bulk."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from coop.api.common import api_org, current_api_user, requires
from coop.schemas.setup import (CountySetupInSchema, SetupCheckSchema, SetupCountyCreatedSchema, SetupFileSchema,
                                SetupOpenedSchema, SetupPortalInSchema, SetupStepSchema, SetupTownshipInSchema,
                                SetupTownshipSchema)
from coop.services import access, chart_import, portal_accounts, setup

URL = "/setup"
blp = Blueprint("api_setup", __name__, description="建账 Set-up and imports")


@blp.route("/county", methods=["POST"])
@blp.arguments(CountySetupInSchema)
@blp.response(201, SetupCountyCreatedSchema)
def first_run(data):
    """First run: the first county and its first county admin, with the installation's setup token
    (COOP_SETUP_TOKEN) in the body; no Bearer token. 404 once a county exists or when no setup token is set."""
    county, admin, password = setup.first_run(data, configured_token=setup.configured_token())
    return {"county_id": county.id, "name": county.name, "code_scheme": county.code_scheme,
            "admin_username": admin.username, "one_time_password": password}


first_run.coop_public = True  # no Bearer token: read by authenticate_api_request


@blp.route("/townships", methods=["POST"])
@blp.arguments(SetupTownshipInSchema)
@blp.response(201, SetupTownshipSchema)
def create_township(data):
    """A township in your county (county admins)."""
    t = setup.add_township(current_api_user(), data["name"])
    return t


@blp.route("/orgs/<int:org_id>/progress")
@blp.response(200, SetupStepSchema(many=True))
@requires(access.READ_LEDGER)
def progress(org_id: int):
    """建账进度: each step done or what is missing."""
    return setup.progress(api_org(org_id))


def _sheet(files, kind: str, org):
    """The file, read with the form field `mapping` (JSON {field: column header}) if given."""
    import json

    mapping = None
    if request.form.get("mapping"):
        try:
            mapping = json.loads(request.form["mapping"])
        except ValueError:
            from coop.core.errors import ValidationFailed

            raise ValidationFailed.field("mapping", "列对应不是有效的 JSON") from None
    return chart_import.sheet_from(files["file"].read(), kind, org, mapping)


def _options() -> tuple[str, bool]:
    system = request.form.get("system", "2023")
    if system not in ("2023", "2004"):
        from coop.core.errors import ValidationFailed

        raise ValidationFailed.field("system", "会计制度应为 2023 或 2004")
    return system, request.form.get("lock", "true").lower() not in ("0", "false", "no")


def _check_out(check) -> dict:
    return {"ok": check.ok, "rows": len(check.items), "debit_total": str(check.totals[0]),
            "credit_total": str(check.totals[1]),
            "problems": [{"line": line, "message": msg} for line, msg in check.problems]}


def _dry_run() -> bool:
    return request.form.get("dry_run", "false").lower() in ("1", "true", "yes")


@blp.route("/orgs/<int:org_id>/chart/import", methods=["POST"])
@blp.arguments(SetupFileSchema, location="files")
@blp.response(201, SetupCheckSchema)
@blp.alt_response(200, schema=SetupCheckSchema, description="dry_run: the check, nothing written")
@requires(access.MANAGE_ACCOUNTS)
def import_chart(files, org_id: int):
    """明细科目 from xlsx (multipart `file`; form `mapping` JSON {field: column}). With form `dry_run=true`: every
    problem by row, nothing written (200). Otherwise the accounts are added, parents before children; a file with
    any problem is refused (errors.rows.<line>), and each file goes in once."""
    user = current_api_user()
    org = api_org(org_id, access.MANAGE_ACCOUNTS)
    sheet, key = _sheet(files, "chart", org)
    if _dry_run():
        return _check_out(chart_import.check_chart(org, sheet, key)), 200
    added = chart_import.import_chart(org, sheet, user=user, key=key)
    return {"ok": True, "rows": len(added), "problems": []}


@blp.route("/orgs/<int:org_id>/opening/import", methods=["POST"])
@blp.arguments(SetupFileSchema, location="files")
@blp.response(201, SetupCheckSchema)
@blp.alt_response(200, schema=SetupCheckSchema, description="dry_run: the check, nothing written")
@requires(access.MANAGE_ACCOUNTS)
def import_opening(files, org_id: int):
    """期初余额 by counterparty from xlsx (multipart `file`; form `system` 2023|2004, `lock` true|false, `mapping`).
    With `dry_run=true`: the check only (200). Otherwise the opening balances are replaced and (lock, the default)
    locked — refused unless the file balances; each file goes in once."""
    user = current_api_user()
    org = api_org(org_id, access.MANAGE_ACCOUNTS)
    system, lock = _options()
    sheet, key = _sheet(files, "opening", org)
    if _dry_run():
        return _check_out(chart_import.check_opening(org, sheet, system=system, key=key, lock=lock)), 200
    check = chart_import.import_opening(org, sheet, user=user, key=key, system=system, lock=lock)
    return _check_out(check)


@blp.route("/orgs/<int:org_id>/portal-accounts", methods=["POST"])
@blp.arguments(SetupPortalInSchema)
@blp.response(201, SetupOpenedSchema(many=True))
@requires(access.MANAGE_MEMBERS)
def open_portal_accounts(data, org_id: int):
    """Open member portal accounts (the given members, or every household head without one). The one-time
    passwords are in this answer only; the web page prints them as 开通通知书."""
    user = current_api_user()
    org = api_org(org_id, access.MANAGE_MEMBERS)
    opened = portal_accounts.open_accounts(org, user=user, member_ids=data.get("member_ids"))
    return [{"member_id": o.member.id, "household_number": o.household.number, "username": o.username,
             "one_time_password": o.password} for o in opened]
