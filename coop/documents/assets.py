"""三资 documents (RULES §14): the 合同 (发包租赁), 资产 and 资源 tables as ReportTables — rendered to xlsx and PDF by
coop.reports, and the rows of the disclosure sheets for 资产, 资源 and 合同."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext

from coop.core.i18n import translate
from coop.models import Organization
from coop.models.assets import (ASSET_CATEGORIES, ASSET_STATUSES, CONTRACT_KINDS, CONTRACT_STATUSES,
                             DEPRECIATION_METHODS, FREQUENCY_LABELS, INCOME_KINDS, PARCEL_KINDS, PARCEL_STATUSES,
                             ContractStatus)
from coop.core.money import ZERO
from coop.reports.table import Column, ReportTable, Row
from coop.services import sanzi


def _sub(org: Organization, on: dt.date) -> list[str]:
    return [gettext("编制单位：%(org)s", org=org.name), gettext("截至 %(d)s", d=on.isoformat()), gettext("单位：元")]


def contracts_table(org: Organization, on: dt.date, *, income_only: bool = False) -> ReportTable:
    """合同台账 (or, for the disclosure, the 发包租赁 contracts): term, amount, received and unpaid to date."""
    cols = [Column("number", gettext("合同编号"), width=16), Column("kind", gettext("类型"), width=10),
            Column("counterparty", gettext("对方"), width=20), Column("object", gettext("标的"), width=20),
            Column("term", gettext("期限"), width=24), Column("amount", gettext("年租金"), "money", width=14),
            Column("frequency", gettext("收款方式"), width=8), Column("democracy", gettext("民主程序"), width=14),
            Column("due", gettext("累计应收"), "money", width=14), Column("received", gettext("累计已收"), "money", width=14),
            Column("unpaid", gettext("欠款"), "money", width=14), Column("status", gettext("状态"), width=8)]
    t = ReportTable(gettext("发包租赁合同公开表") if income_only else gettext("合同台账"), cols, subtitle=_sub(org, on))
    totals = [ZERO, ZERO, ZERO]
    for c in sanzi.list_contracts(org):
        if income_only and (c.kind not in INCOME_KINDS or c.status == ContractStatus.DRAFT):
            continue
        due = sum((i.amount for i in c.instalments if i.due_date <= on), ZERO)
        received = sum((i.received for i in c.instalments), ZERO)
        for k, v in enumerate((due, received, due - received)):
            totals[k] += v
        democracy = f"{c.democratic_date}" + (f" {c.votes_for}/{c.votes_total}" if c.votes_total else "") \
            if c.democratic_date else gettext("无")
        t.rows.append(Row([c.number, translate(CONTRACT_KINDS[c.kind]), c.counterparty, c.object_desc or "",
                           f"{c.start_date} — {c.end_date}", c.annual_amount, translate(FREQUENCY_LABELS[c.frequency]),
                           democracy, due, received, due - received, translate(CONTRACT_STATUSES[c.status])]))
    t.rows.append(Row([gettext("合计"), "", "", "", "", None, "", "", *totals, ""], style="total"))
    return t


def assets_table(org: Organization, on: dt.date) -> ReportTable:
    cols = [Column("number", gettext("资产编号"), width=14), Column("name", gettext("名称"), width=20),
            Column("category", gettext("类别"), width=14), Column("acquired", gettext("取得日期"), width=12),
            Column("method", gettext("折旧方法"), width=22),
            Column("cost", gettext("原值"), "money", width=14), Column("dep", gettext("累计折旧"), "money", width=14),
            Column("net", gettext("净值"), "money", width=14), Column("location", gettext("存放地点"), width=16),
            Column("status", gettext("状态"), width=8)]
    t = ReportTable(gettext("资产台账"), cols, subtitle=_sub(org, on))
    totals = [ZERO, ZERO, ZERO]
    for a in sanzi.list_assets(org):
        if a.disposed_date and a.disposed_date <= on:
            continue
        acc = sanzi.accumulated(a)
        for k, v in enumerate((a.cost, acc, a.cost - acc)):
            totals[k] += v
        method = translate(DEPRECIATION_METHODS[a.method])
        if a.method == "workload":  # 工作量法: used / estimated total, in its unit
            used = sanzi.used_workload(a)
            method += f" {used.normalize():,f}/{a.total_workload.normalize():,f} {a.workload_unit or ''}".rstrip()
        t.rows.append(Row([a.number, a.name, translate(ASSET_CATEGORIES[a.category]), a.acquired_date.isoformat(),
                           method, a.cost, acc, a.cost - acc, a.location or "", translate(ASSET_STATUSES[a.status])]))
    t.rows.append(Row([gettext("合计"), "", "", "", "", *totals, "", ""], style="total"))
    return t


def parcels_table(org: Organization, on: dt.date) -> ReportTable:
    cols = [Column("code", gettext("地块编码"), width=12), Column("name", gettext("名称"), width=14),
            Column("kind", gettext("类型"), width=14), Column("area", gettext("面积（亩）"), width=12),
            Column("location", gettext("坐落"), width=16), Column("bounds", gettext("四至"), width=30),
            Column("status", gettext("经营状态"), width=12), Column("contract", gettext("合同"), width=14)]
    t = ReportTable(gettext("资源台账"), cols, subtitle=_sub(org, on)[:2])
    for p in sanzi.list_parcels(org):
        c = sanzi.parcel_contract(p)
        bounds = gettext("东至%(e)s 南至%(s)s 西至%(w)s 北至%(n)s", e=p.east or "—", s=p.south or "—", w=p.west or "—",
                         n=p.north or "—")
        t.rows.append(Row([p.code, p.name or "", translate(PARCEL_KINDS[p.kind]), f"{p.area:.4f}", p.location or "",
                           bounds, translate(PARCEL_STATUSES[p.status]), c.number if c else ""]))
    return t
