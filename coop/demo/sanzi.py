"""The demo's 三资台账 (issue #21), built after the demo's books: every village gets its contracts (a 10-year 发包
with a 5% step-up every 3 years, a lease per tenant, and one lease whose rent is overdue), asset cards that
reconcile to its 固定资产/累计折旧 and parcels. Called once from coop.demo.build_demo.

The demo's books post their depreciation by hand every month (计提折旧 Dr 51303 / Cr 152, since 2024/2025), so
the cards are taken over at the end with that accumulated depreciation as their opening figure; the cards'
own runs start with the first month the demo has not depreciated by hand.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from coop.ledger import roles as R
from coop.models.assets import ParcelStatus
from coop.services import accounts, reports, roles, sanzi

#: posting roles of the 三资 block in the demo's chart (detail accounts added where the role needs its own leaf)
EXTRA_DETAILS = (("504", "50402", "资产处置及盘盈"), ("515", "51503", "资产处置及盘亏"))
ROLE_LEAVES = {R.LEASE_INCOME: "50102", R.ADMIN_EXPENSE: "51303", R.OTHER_INCOME: "50402",
               R.OTHER_EXPENSE: "51503"}
#: the cards a village's 固定资产 is split into: (name, share of cost, life in years, use, source)
CARDS = (("村集体办公楼", Decimal("0.55"), 30, "admin", "built"),
         ("村集体仓库（出租）", Decimal("0.30"), 20, "operating", "fiscal"),
         ("灌溉泵站", Decimal("0.15"), 15, "production", "poverty"))


def _split(total: Decimal, shares) -> list[Decimal]:
    """Split to the fen; the last part takes the remainder."""
    parts = [(total * s).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for s in shares[:-1]]
    return parts + [total - sum(parts, Decimal(0))]


def build_sanzi(keepers, today: dt.date) -> None:
    for n, k in enumerate(keepers):
        org, user, spec = k.org, k.accountant, k.spec
        chart = accounts.chart(org).infos
        for parent, code, name in EXTRA_DETAILS:
            if code not in chart:
                accounts.add_detail_account(org, parent, code, name)
        leaves = dict(ROLE_LEAVES)
        if "51101" in accounts.chart(org).infos:
            leaves[R.OPERATING_EXPENSE] = "51101"
        for key, code in leaves.items():
            roles.set_mapping(org, key, code, user=user)

        # asset cards: the village's 固定资产 and 累计折旧 as the ledger shows them now (posted)
        bal = reports.leaf_balances(org, until=today)
        cost = sum((v for c, v in bal.items() if c.startswith("151")), Decimal(0))
        dep = -sum((v for c, v in bal.items() if c.startswith("152")), Decimal(0))
        for i, ((name, _, years, use, source), c, d) in enumerate(zip(
                CARDS, _split(cost, [s for _, s, *_ in CARDS]), _split(dep, [s for _, s, *_ in CARDS])), start=1):
            # the pump station is depreciated by its running hours (工作量法), the buildings by the years
            by_hours = dict(method="workload", total_workload=Decimal("60000"), workload_unit="小时",
                            life_months=None) if use == "production" else dict(life_months=years * 12)
            sanzi.register_asset(org, dict(
                number=f"GD-{i:03d}", name=name, category="fixed", use=use, source=source,
                source_ref={"fiscal": "青财农〔2019〕21号", "poverty": "衔接资金项目 QS-2021-07"}.get(source),
                acquired_date=dt.date(2018, 6, 30), cost=c, **by_hours, residual_rate=Decimal("0.05"),
                opening_depreciation=min(d, sanzi.calc.depreciable(c, Decimal("0.05"))), location=spec.name[:2] + "村部",
                custodian=spec.legal_representative), user=user)

        # parcels and contracts
        contracted = sanzi.register_parcel(org, dict(
            code=f"TD-{n + 1:02d}-001", name="村东连片耕地", kind="arable", area=Decimal("86.4500"),
            status=ParcelStatus.CONTRACTED,
            location="村东", east="东干渠", south="县道", west="村民小组耕地", north="林地"), user=user)
        sanzi.register_parcel(org, dict(code=f"TD-{n + 1:02d}-002", name="承包地", kind="arable",
                                        area=Decimal("412.3800"), status=ParcelStatus.HOUSEHOLD, location="全村"),
                                        user=user)
        pond = sanzi.register_parcel(org, dict(code=f"TD-{n + 1:02d}-003", name="村南鱼塘", kind="water",
                                               area=Decimal("12.6000"), status=ParcelStatus.LEASED, location="村南"),
                                               user=user)
        sanzi.register_parcel(org, dict(code=f"TD-{n + 1:02d}-004", name="后山荒坡", kind="wasteland",
                                        area=Decimal("35.0000"), status=ParcelStatus.IDLE, location="后山"), user=user)
        democracy = dict(democratic_kind="assembly", democratic_date=dt.date(2026, 10, 15), votes_for=38,
                         votes_total=42, publicity_days=7)
        contracts = [sanzi.create_contract(org, dict(
            number=f"QS-{n + 1:02d}-FB-2026-01", kind="contracting", title="村东连片耕地发包",
            counterparty="青山种植专业合作社", object_desc="村东连片耕地 86.45 亩", parcel_id=contracted.id,
            start_date=dt.date(2026, 11, 1), end_date=dt.date(2036, 10, 31), annual_amount=Decimal("69160.00"),
            frequency="annual", step_rate=Decimal("0.05"), step_years=3, appraisal=Decimal("69160.00"),
            income_account="50101", **democracy), user=user)]
        for t, (tenant, rent) in enumerate(spec.tenants, start=1):
            contracts.append(sanzi.create_contract(org, dict(
                number=f"QS-{n + 1:02d}-ZL-2026-{t:02d}", kind="lease", title=f"{tenant}租赁", counterparty=tenant,
                object_desc="村集体经营性用房", start_date=dt.date(2026, 11, 1), end_date=dt.date(2029, 10, 31),
                annual_amount=Decimal(rent * 12), frequency="quarterly", **democracy), user=user))
        # the overdue one: the pond, let from August, its first quarter's rent still unpaid
        contracts.append(sanzi.create_contract(org, dict(
            number=f"QS-{n + 1:02d}-ZL-2026-09", kind="lease", title="村南鱼塘租赁", counterparty="东山水产养殖户",
            object_desc="村南鱼塘 12.6 亩", parcel_id=pond.id, start_date=dt.date(2026, 8, 1),
            end_date=dt.date(2031, 7, 31), annual_amount=Decimal("9600.00"), frequency="quarterly", **democracy),
            user=user))
        for c in contracts:
            sanzi.activate_contract(c, user=user)
        sanzi.accrue_due(org, on=today, user=user)  # drafts in the month in progress, for the reviewer
        for c in contracts[:-1]:  # paid on time, all but the pond
            due = sum((i.amount for i in c.instalments if i.due_date <= today), Decimal(0))
            if due:
                sanzi.record_receipt(c, date=dt.date(2026, 11, 5), amount=due, user=user)
