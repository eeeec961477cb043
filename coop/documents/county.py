"""County documents (RULES §16) as ReportTables, so the page, the xlsx and the PDF share one layout: the consolidated
statements (rows = statement lines; columns = organizations, 合计, 抵销, 合并数), the 农经统计年报 returns
(columns = organizations + 合计, header block with the county, year and 单位：元) and the band table."""
from __future__ import annotations

from decimal import Decimal

from coop.core.text import N_
from coop.ledger import consolidation as core
from coop.ledger.statements import BALANCE_SHEET_LAYOUT, INCOME_LAYOUT
from coop.reports.builders import STATEMENT_STYLES
from coop.reports.table import Column, ReportTable
from coop.services.consolidation import BandReport, Consolidation
from coop.services.reports import month_end
from coop.services.returns import AnnualReturn


def _money(key: str, label: str, width: int = 14) -> Column:
    return Column(key, label, "money", currency=True, width=width)


def _rows(t: ReportTable, layout, columns: list[dict[str, Decimal]]) -> None:
    n = 0
    for key, label, kind, indent in layout:
        if kind == "header":
            t.add([label, None] + [None] * len(columns), style="header")
            continue
        n += 1
        t.add([label, n] + [c[key] for c in columns], style=STATEMENT_STYLES[kind], indent=indent)


def consolidated_table(c: Consolidation, which: str, by: str = "org") -> ReportTable:
    """which: 'balance' (期末) or 'income' (本年累计 to the month); by: a column per organization, or per township
    (its organizations summed: what a county reader of 100 villages can take in on one page)."""
    orgs = c.scope.orgs
    if which == "balance":
        total, elim, net = c.balance_sheet()
        values, layout, title = c.end, BALANCE_SHEET_LAYOUT, N_("汇总资产负债表")
        end = month_end(c.year, c.month)
        when = N_("%(y)s年%(m)s月%(d)s日", y=end.year, m=end.month, d=end.day)
    else:
        total, elim, net = c.income_statement()
        values, layout, title = c.income, INCOME_LAYOUT, N_("汇总收益及收益分配表")
        when = N_("%(y)s年1-%(m)s月", y=c.year, m=c.month) if c.month > 1 else N_("%(y)s年1月", y=c.year)
    cols = [Column("label", N_("项目"), width=30, indent=True), Column("line_no", N_("行次"), width=6, align="center")]
    if by == "township":
        groups: dict[int, list] = {}
        for o in orgs:
            groups.setdefault(o.township_id, []).append(o)
        heads = [(f"t{tid}", members[0].township.name, core.sum_values(values[o.id] for o in members))
                 for tid, members in groups.items()]
    else:
        heads = [(f"o{o.id}", o.name, values[o.id]) for o in orgs]
    cols += [_money(key, label) for key, label, _ in heads]
    cols += [_money("total", N_("合计")), _money("elim", N_("抵销")), _money("net", N_("合并数"))]
    t = ReportTable(title, cols, subtitle=[N_("编制单位：%(org)s", org=c.scope.name), when, N_("单位：元")],
                    landscape=True, filename=f"{title}-{c.scope.name}-{c.year}年{c.month}月")
    _rows(t, layout, [v for _, _, v in heads] + [total, elim, net])
    if c.items:
        t.notes.append(N_("抵销：飞地抱团项目中村的长期投资、应收收益与联营公司的资本、应付收益；村的投资收益与联营公司的向成员分配。"))
        for it in c.items:
            if it.difference:
                t.notes.append(N_("%(v)s 与 %(o)s 的往来不一致，差额 %(d)s，请核对（飞地抱团 → 对账）。",
                                  v=c.names[it.village_id], o=c.names[it.operator_id], d=it.difference))
    open_ = [o.name for o in orgs if o.id not in c.closed]
    if open_:
        t.notes.append(N_("未结账（数字可能变动）：%(names)s", names="、".join(open_)))
    return t


def return_table(r: AnnualReturn) -> ReportTable:
    cols = [Column("label", N_("项目"), width=30, indent=True), Column("line_no", N_("行次"), width=6, align="center")]
    cols += [_money(f"o{o.id}", o.name) for o in r.orgs] + [_money("total", N_("合计"))]
    t = ReportTable(r.title, cols,
                    subtitle=[N_("填报单位：%(org)s", org=r.scope.name), N_("%(y)s年度", y=r.year), N_("单位：元")],
                    landscape=True, filename=f"{r.title}-{r.scope.name}-{r.year}年")
    _rows(t, r.layout, [r.values[o.id] for o in r.orgs] + [r.total])
    t.notes.append(N_("数据来自已结账的账簿（%(y)s年12月已结账），每列与该组织自己的报表一致。", y=r.year))
    if r.missing:
        t.notes.append(N_("未结账、未填入：%(names)s", names="、".join(o.name for o in r.missing)))
    return t


def bands_table(r: BandReport) -> ReportTable:
    cols = [Column("township", N_("乡镇"), width=10), Column("name", N_("村"), width=24)]
    cols += [_money(f"y{y}", N_("%(y)s年经营收益", y=y), 16) for y in r.years]
    cols += [Column("band", N_("%(y)s年档次", y=r.years[-1]), width=14),
             _money("target", N_("倍增目标"), 16), Column("progress", N_("完成进度"), width=10, align="center")]
    t = ReportTable(N_("村集体经济经营收益分档及倍增进度"), cols,
                    subtitle=[N_("编制单位：%(org)s", org=r.scope.name),
                              N_("基期%(b)s年，目标%(t)s年达到基期的%(f)s倍", b=r.target.base_year,
                                 t=r.target.target_year, f=r.target.factor), N_("单位：元")],
                    landscape=True, filename=f"经营收益分档-{r.scope.name}")
    last = r.years[-1]
    for row in r.rows:
        p = row.progress(last)
        t.add({"township": row.org.township.name, "name": row.org.name,
               **{f"y{y}": row.profits.get(y) for y in r.years},
               "band": core.BAND_LABELS[row.band(last)], "target": row.target,
               "progress": "" if p is None else f"{(p * 100).quantize(Decimal(1))}%"})
    t.add({"name": N_("合计"), **{f"y{y}": r.total(y) for y in r.years}}, style="total")
    return t


def budget_table(org, year: int, rows) -> ReportTable:
    """财务计划执行表: each budget line, the actual month by month, the year's actual, variance and 执行率."""
    cols = [Column("code", N_("科目编码"), width=10), Column("name", N_("科目名称"), width=18),
            _money("budget", N_("预算数"))]
    cols += [Column(f"m{m}", N_("%(m)s月", m=m), "money", width=12) for m in range(1, 13)]
    cols += [_money("actual", N_("实际数")), _money("variance", N_("差额")),
             Column("rate", N_("执行率"), width=8, align="center")]
    t = ReportTable(N_("财务计划执行表"), cols,
                    subtitle=[N_("编制单位：%(org)s", org=org.name), N_("%(y)s年度", y=year), N_("单位：元")],
                    landscape=True, filename=f"财务计划执行表-{org.name}-{year}年")
    for r in rows:
        t.add({"code": r.code, "name": r.name, "budget": r.budget, **{f"m{m}": r.months[m - 1] for m in range(1, 13)},
               "actual": r.actual, "variance": r.variance,
               "rate": "" if r.rate is None else f"{(r.rate * 100).quantize(Decimal('0.1'))}%"})
    return t
