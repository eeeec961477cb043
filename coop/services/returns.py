"""农经统计年报 (RULES §16): the annual 收益分配 and 资产负债 returns of a township or the county, from closed books.

A return has the statement's lines as rows and one column per organization whose year is closed (December closed),
then the total; organizations not yet closed are listed as missing rather than filed with provisional figures.
The figures are each organization's own statement lines (services.consolidation computes both at once).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from coop.core.text import N_
from coop.ledger import consolidation as core
from coop.ledger.statements import BALANCE_SHEET_LAYOUT, INCOME_LAYOUT
from coop.models import Organization
from coop.services import consolidation

KINDS = {"income": N_("收益分配统计表"), "balance": N_("资产负债统计表")}


@dataclass
class AnnualReturn:
    kind: str
    scope: consolidation.Scope
    year: int
    orgs: list[Organization]  # filed: year closed
    missing: list[Organization]  # not closed yet
    values: dict[int, dict[str, Decimal]]
    total: dict[str, Decimal]

    @property
    def title(self) -> str:
        return KINDS[self.kind]

    @property
    def layout(self):
        return INCOME_LAYOUT if self.kind == "income" else BALANCE_SHEET_LAYOUT


def annual_return(sc: consolidation.Scope, year: int, kind: str) -> AnnualReturn:
    if kind not in KINDS:
        raise ValueError(kind)
    c = consolidation.consolidate(sc, year, 12)
    filed = [o for o in sc.orgs if o.id in c.closed]
    missing = [o for o in sc.orgs if o.id not in c.closed]
    source = c.income if kind == "income" else c.end
    values = {o.id: source[o.id] for o in filed}
    total = core.sum_values(values.values()) if values else {k: Decimal("0.00") for k in next(iter(source.values()), {})}
    return AnnualReturn(kind, sc, year, filed, missing, values, total)
