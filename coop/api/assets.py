"""三资台账 over the API (RULES §14): contracts with schedules, accruals and receipts; receivables ageing; asset
cards, monthly depreciation, disposal and the cards' reconciliation to the ledger; parcels and their summary.

/orgs/<org_id>/contracts…, /orgs/<org_id>/assets…, /orgs/<org_id>/parcels…, /orgs/<org_id>/depreciation.
Money is a string; every refusal is a 4xx naming the field, with nothing written.
"""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from coop.core import clock
from coop.schemas.assets import (AccrualInSchema, AgeingRowSchema, AssetInSchema, AssetSchema, ContractInSchema,
                              ContractSchema, DemocracyInSchema, DepreciationInSchema, DepreciationRunSchema,
                              DisposalInSchema, ParcelInSchema, ParcelSchema, RentReceiptInSchema, RentReceiptSchema,
                              CardReconciliationSchema, RegisterFileSchema, ImportResultSchema, ResourceSummarySchema,
                              TerminateInSchema, VoucherListSchema, CountInSchema, InventoryItemSchema,
                              InventorySchema, PublishInventoryInSchema, SurplusInSchema, DepreciationPreviewSchema,
                              DepreciationQuerySchema, WorkloadsInSchema)
from coop.services import access, sanzi as service
from coop.api.common import api_org, current_api_user, requires

URL = ""
blp = Blueprint("api_assets", __name__, description="三资台账 Contracts, assets and resources of the collective")


def asset_out(a) -> dict:
    acc = service.accumulated(a)
    computed = ("accumulated", "net_value", "used_workload")
    return {**{k: getattr(a, k) for k in AssetSchema().fields if k not in computed}, "accumulated": acc, "net_value": a.cost - acc, "used_workload": service.used_workload(a)}


def sheet_out(sheet) -> dict:
    return {"year": sheet.year, "month": sheet.month, "run": sheet.run is not None, "total": sheet.total,
            "lines": [{"asset_id": l.asset.id, "number": l.asset.number, "name": l.asset.name, "method": l.asset.method,
                       "workload": l.workload, "workload_unit": l.asset.workload_unit, "charge": l.charge}
                      for l in sheet.lines],
            "missing_workload": [a.id for a in sheet.missing]}


def _run_out(run, year: int, month: int) -> dict:
    if run is None:  # nothing to depreciate that month
        return {"year": year, "month": month, "total": "0", "voucher_id": None, "assets": 0}
    return {"year": run.year, "month": run.month, "total": run.total, "voucher_id": run.voucher_id,
            "assets": len(run.lines)}


# ---------------------------------------------------------------- contracts


@blp.route("/orgs/<int:org_id>/contracts")
@blp.response(200, ContractSchema(many=True))
def list_contracts(org_id: int):
    """合同台账 with each contract's schedule."""
    user = current_api_user()
    return [service.contract_shown(c, user) for c in service.list_contracts(api_org(org_id))]


@blp.route("/orgs/<int:org_id>/contracts", methods=["POST"])
@blp.arguments(ContractInSchema)
@blp.response(201, ContractSchema)
@requires(access.PREPARE)
def create_contract(data, org_id: int):
    """Register a contract (draft): 合同编号 unique in the county, the 民主程序 record optional here."""
    user = current_api_user()
    return service.contract_shown(service.create_contract(api_org(org_id, access.PREPARE), data, user=user), user)


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>")
@blp.response(200, ContractSchema)
def get_contract(org_id: int, contract_id: int):
    return service.contract_shown(service.get_contract(api_org(org_id), contract_id), current_api_user())


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>/activate", methods=["POST"])
@blp.response(200, ContractSchema)
@requires(access.PREPARE)
def activate_contract(org_id: int, contract_id: int):
    """draft → effective: the payment schedule (step-ups, to the fen) is fixed."""
    user = current_api_user()
    c = service.get_contract(api_org(org_id, access.PREPARE), contract_id)
    return service.contract_shown(service.activate_contract(c, user=user), user)


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>/terminate", methods=["POST"])
@blp.arguments(TerminateInSchema)
@blp.response(200, ContractSchema)
@requires(access.PREPARE)
def terminate_contract(data, org_id: int, contract_id: int):
    user = current_api_user()
    c = service.get_contract(api_org(org_id, access.PREPARE), contract_id)
    return service.contract_shown(service.terminate_contract(c, on=data["on"], user=user), user)


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>/democracy", methods=["POST"])
@blp.arguments(DemocracyInSchema)
@blp.response(200, ContractSchema)
@requires(access.PREPARE)
def record_democracy(data, org_id: int, contract_id: int):
    """民主程序: 成员(代表)大会 or 四议两公开, date, votes, 公示 days."""
    user = current_api_user()
    c = service.get_contract(api_org(org_id, access.PREPARE), contract_id)
    return service.contract_shown(service.record_democracy(
        c, kind=data["democratic_kind"], date=data["democratic_date"], votes_for=data["votes_for"],
        votes_total=data["votes_total"], publicity_days=data["publicity_days"], user=user), user)


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>/scan", methods=["POST"])
@blp.arguments(RegisterFileSchema, location="files")
@blp.response(200, ContractSchema)
@requires(access.PREPARE)
def attach_scan(files, org_id: int, contract_id: int):
    """The signed contract's scan (multipart `file`: PDF, JPG or PNG), kept by its SHA-256."""
    user = current_api_user()
    c = service.get_contract(api_org(org_id, access.PREPARE), contract_id)
    f = files["file"]
    return service.contract_shown(service.attach_scan(c, f.filename or "", f.read(), user=user), user)


@blp.route("/orgs/<int:org_id>/contracts/<int:contract_id>/receipts", methods=["POST"])
@blp.arguments(RentReceiptInSchema)
@blp.response(201, RentReceiptSchema)
@requires(access.PREPARE)
def record_receipt(data, org_id: int, contract_id: int):
    """A receipt against the accrued instalments, oldest first, with its draft voucher."""
    c = service.get_contract(api_org(org_id, access.PREPARE), contract_id)
    return service.record_receipt(c, user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/contracts/accruals", methods=["POST"])
@blp.arguments(AccrualInSchema)
@blp.response(200, VoucherListSchema)
@requires(access.PREPARE)
def accrue(data, org_id: int):
    """Accrue every instalment due by `on` (default today, Beijing) that has no accrual yet: one draft voucher each."""
    vs = service.accrue_due(api_org(org_id, access.PREPARE), on=data.get("on"), user=current_api_user())
    return {"voucher_ids": [v.id for v in vs]}


@blp.route("/orgs/<int:org_id>/contracts/ageing")
@blp.response(200, AgeingRowSchema(many=True))
def ageing(org_id: int):
    """应收承包费（租金）账龄 by counterparty, today."""
    return service.ageing(api_org(org_id))


# ---------------------------------------------------------------- assets


@blp.route("/orgs/<int:org_id>/assets")
@blp.response(200, AssetSchema(many=True))
def list_assets(org_id: int):
    return [asset_out(a) for a in service.list_assets(api_org(org_id))]


@blp.route("/orgs/<int:org_id>/assets", methods=["POST"])
@blp.arguments(AssetInSchema)
@blp.response(201, AssetSchema)
@requires(access.PREPARE)
def create_asset(data, org_id: int):
    """A card: from the voucher that acquired it, or an opening card (cost and opening depreciation)."""
    org = api_org(org_id, access.PREPARE)
    voucher_id = data.pop("voucher_id", None)
    voucher = None
    if voucher_id:
        from coop.services.vouchers import get_voucher

        voucher = get_voucher(org, voucher_id)
    return asset_out(service.register_asset(org, data, user=current_api_user(), voucher=voucher))


@blp.route("/orgs/<int:org_id>/assets/<int:asset_id>")
@blp.response(200, AssetSchema)
def get_asset(org_id: int, asset_id: int):
    return asset_out(service.get_asset(api_org(org_id), asset_id))


@blp.route("/orgs/<int:org_id>/assets/<int:asset_id>/disposal", methods=["POST"])
@blp.arguments(DisposalInSchema)
@blp.response(201, VoucherListSchema)
@requires(access.PREPARE)
def dispose(data, org_id: int, asset_id: int):
    """处置 through 154 固定资产清理: one draft voucher."""
    org = api_org(org_id, access.PREPARE)
    v = service.dispose_asset(service.get_asset(org, asset_id), user=current_api_user(), **data)
    return {"voucher_ids": [v.id]}


@blp.route("/orgs/<int:org_id>/depreciation", methods=["POST"])
@blp.arguments(DepreciationInSchema)
@blp.response(200, DepreciationRunSchema)
@requires(access.PREPARE)
def depreciate(data, org_id: int):
    """The month's depreciation as one draft voucher; a second run for the month returns the first."""
    run = service.depreciate_month(api_org(org_id, access.PREPARE), data["year"], data["month"], current_api_user())
    return _run_out(run, data["year"], data["month"])


@blp.route("/orgs/<int:org_id>/depreciation")
@blp.arguments(DepreciationQuerySchema, location="query")
@blp.response(200, DepreciationPreviewSchema)
def depreciation_preview(args, org_id: int):
    """The month's depreciation (default: the current month, Beijing time): before its run, what it would charge
    and which 工作量法 assets have no workload recorded (they charge nothing); after, the run's lines."""
    today = clock.today()
    return sheet_out(service.depreciation_sheet(api_org(org_id), args["year"] or today.year,
                                                args["month"] or today.month))


@blp.route("/orgs/<int:org_id>/depreciation/workloads", methods=["POST"])
@blp.arguments(WorkloadsInSchema)
@blp.response(200, DepreciationPreviewSchema)
@requires(access.PREPARE)
def record_workloads(data, org_id: int):
    """实际工作量 of 工作量法 assets for the month (zero allowed; a second record replaces the first), while the
    month is open and its depreciation not run; answers the month's preview."""
    org = api_org(org_id, access.PREPARE)
    service.record_workloads(org, data["year"], data["month"], data["workloads"], user=current_api_user())
    return sheet_out(service.depreciation_sheet(org, data["year"], data["month"]))


@blp.route("/orgs/<int:org_id>/assets/reconciliation")
@blp.response(200, CardReconciliationSchema(many=True))
def reconciliation(org_id: int):
    """Card values against the 固定资产/累计折旧 (and 生产性生物资产) balances, today."""
    return service.reconcile(api_org(org_id))


# ---------------------------------------------------------------- resources


@blp.route("/orgs/<int:org_id>/parcels")
@blp.response(200, ParcelSchema(many=True))
def list_parcels(org_id: int):
    out = []
    for p in service.list_parcels(api_org(org_id)):
        c = service.parcel_contract(p)
        out.append({**{k: getattr(p, k) for k in ParcelSchema().fields if k != "contract_id"},
                    "contract_id": c.id if c else None})
    return out


@blp.route("/orgs/<int:org_id>/parcels", methods=["POST"])
@blp.arguments(ParcelInSchema)
@blp.response(201, ParcelSchema)
@requires(access.PREPARE)
def create_parcel(data, org_id: int):
    p = service.register_parcel(api_org(org_id, access.PREPARE), data, user=current_api_user())
    return {**{k: getattr(p, k) for k in ParcelSchema().fields if k != "contract_id"}, "contract_id": None}


@blp.route("/orgs/<int:org_id>/parcels/summary")
@blp.response(200, ResourceSummarySchema(many=True))
def parcel_summary(org_id: int):
    """资源 by kind and status: parcels and 亩."""
    return [{"kind": k, "status": s, "parcels": n, "area": a}
            for (k, s), (n, a) in sorted(service.resource_summary(api_org(org_id)).items())]


# ---------------------------------------------------------------- imports


@blp.route("/orgs/<int:org_id>/sanzi-imports/<any(contracts, assets, parcels):kind>", methods=["POST"])
@blp.arguments(RegisterFileSchema, location="files")
@blp.response(200, ImportResultSchema)
@requires(access.PREPARE)
def import_register(files, org_id: int, kind: str):
    """Import contracts, asset cards or parcels (multipart `file`, xlsx; form field `dry_run`, default true: check
    only). All or nothing; a file with any problem is refused with errors.rows.<line>; a file imported once is
    refused the second time."""
    org = api_org(org_id, access.PREPARE)
    dry_run = (request.form.get("dry_run") or "true").strip().lower() not in ("false", "0", "no")
    result = service.import_register(org, kind, files["file"].read(), user=current_api_user(), dry_run=dry_run)
    return result


# ---------------------------------------------------------------- year-end inventory (清产核资)


@blp.route("/orgs/<int:org_id>/inventories/<int:year>")
@blp.response(200, InventorySchema)
def get_inventory(org_id: int, year: int):
    return service.get_inventory(api_org(org_id), year)


@blp.route("/orgs/<int:org_id>/inventories/<int:year>", methods=["POST"])
@blp.response(201, InventorySchema)
@requires(access.PREPARE)
def start_inventory(org_id: int, year: int):
    """The 清查 list at 31 December: every asset held and every parcel, uncounted."""
    return service.start_inventory(api_org(org_id, access.PREPARE), year, user=current_api_user())


@blp.route("/orgs/<int:org_id>/inventories/<int:year>/items/<int:item_id>", methods=["PUT"])
@blp.arguments(CountInSchema)
@blp.response(200, InventoryItemSchema)
@requires(access.PREPARE)
def count_item(data, org_id: int, year: int, item_id: int):
    inv = service.get_inventory(api_org(org_id, access.PREPARE), year)
    return service.count_item(service.get_inventory_item(inv, item_id), user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/inventories/<int:year>/surplus", methods=["POST"])
@blp.arguments(SurplusInSchema)
@blp.response(201, InventoryItemSchema)
@requires(access.PREPARE)
def add_surplus(data, org_id: int, year: int):
    """盘盈: an asset found without a card."""
    inv = service.get_inventory(api_org(org_id, access.PREPARE), year)
    return service.add_surplus(inv, user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/inventories/<int:year>/post", methods=["POST"])
@blp.response(200, InventorySchema)
@requires(access.PREPARE)
def post_inventory(org_id: int, year: int):
    """盘盈/盘亏 through 待处理财产损溢 in one draft voucher dated 31 December."""
    inv = service.get_inventory(api_org(org_id, access.PREPARE), year)
    service.post_inventory(inv, user=current_api_user())
    return inv


@blp.route("/orgs/<int:org_id>/inventories/<int:year>/publish", methods=["POST"])
@blp.arguments(PublishInventoryInSchema)
@blp.response(200, InventorySchema)
@requires(access.PREPARE)
def publish_inventory(data, org_id: int, year: int):
    """公示 the list (at least 7 days)."""
    inv = service.get_inventory(api_org(org_id, access.PREPARE), year)
    return service.publish_inventory(inv, user=current_api_user(), **data)
