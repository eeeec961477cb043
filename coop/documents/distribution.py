"""分红清册 (dividend roll) of a distribution plan: one shape behind the page, the PDF and the xlsx.

A posted plan's roll is read from its HouseholdDividend rows (what was booked); a draft's from its preview and
marked 草案. The collective's part (集体股, booked to 311) is its own line, so the roll's total equals the member
pool exactly.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import selectinload

from coop.core.numerals import amount_in_words
from coop.core import clock
from coop.core.export_safety import workbook_bytes
from coop.core.extensions import db
from coop.models import DistributionPlan, Household, HouseholdDividend, Organization
from coop.models.distribution import PlanStatus
from coop.documents.pdf import html_to_pdf
from coop.documents.printing import font_family
from coop.reports.xlsx import BORDER, MONEY_FORMAT, UNITS_FORMAT, new_sheet, set_widths, style_head
from coop.services import distribution, shares

ZERO = Decimal("0.00")


def per_share_text(value: Decimal | None) -> str:
    """每股金额: to the fen when exact (180.00), else to 4 places (33.3333)."""
    if value is None:
        return ""
    q = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return f"{q:,.2f}" if q == q.quantize(Decimal("0.01")) else f"{q:,.4f}"


@dataclass
class RollRow:
    seq: int
    household_id: int
    number: str
    head: str
    units: Decimal
    amount: Decimal

    @property
    def words(self) -> str:
        return amount_in_words(self.amount)


@dataclass
class Roll:
    org: Organization
    plan: DistributionPlan
    draft: bool  # from the preview of a plan not yet posted
    per_share: Decimal | None
    rows: list[RollRow]
    collective_units: Decimal
    collective_amount: Decimal

    @property
    def household_total(self) -> Decimal:
        return sum((r.amount for r in self.rows), ZERO)

    @property
    def total(self) -> Decimal:
        return self.household_total + self.collective_amount

    @property
    def total_units(self) -> Decimal:
        return sum((r.units for r in self.rows), Decimal(0)) + self.collective_units

    @property
    def words(self) -> str:
        return amount_in_words(self.total)

    @property
    def per_share_text(self) -> str:
        return per_share_text(self.per_share)

    @property
    def title(self) -> str:
        return f"{self.plan.year}年度股份分红清册"


def _households(ids) -> dict[int, Household]:
    out: dict[int, Household] = {}
    ids = list(ids)
    for i in range(0, len(ids), 1000):  # stay under the bind-parameter limits
        q = sa.select(Household).where(Household.id.in_(ids[i:i + 1000])).options(selectinload(Household.head))
        out.update({h.id: h for h in db.session.scalars(q)})
    return out


def build_roll(plan: DistributionPlan, preview: distribution.PlanPreview | None = None) -> Roll:
    org = db.session.get(Organization, plan.organization_id)
    if plan.status == PlanStatus.POSTED:
        dividends = list(db.session.scalars(sa.select(HouseholdDividend).where(HouseholdDividend.plan_id == plan.id)))
        lines = [(d.household_id, d.units, d.amount) for d in dividends]
        collective_amount = plan.collective_part or ZERO
        # the 集体股 units are not stored with the plan: read them from the register as of the record date
        collective_units = shares.dividend_units(org, plan.record_date)[1] if collective_amount else Decimal(0)
        frozen = distribution.figures_of(plan).get("per_share") if plan.figures else None
    else:
        p = preview or distribution.preview(plan)
        split = p.member_split
        amounts = split.households if split else {}
        lines = [(hid, p.units.get(hid, Decimal(0)), amount) for hid, amount in amounts.items()]
        collective_amount = split.collective if split else ZERO
        collective_units = p.collective_units if split else Decimal(0)
        frozen = split.per_share if split else None
    homes = _households(hid for hid, _, _ in lines)
    lines.sort(key=lambda x: (homes[x[0]].number, x[0]))
    rows = [RollRow(i, hid, homes[hid].number, homes[hid].head.name if homes[hid].head else "", units, amount)
            for i, (hid, units, amount) in enumerate(lines, start=1)]
    total_units = sum((r.units for r in rows), Decimal(0)) + collective_units
    # the per-share amount as decided (to the fen by default); older posted plans: the pool over the shares
    per_share = frozen if frozen is not None else (plan.member_pool / total_units if rows and total_units else None)
    return Roll(org, plan, plan.status != PlanStatus.POSTED, per_share, rows, collective_units, collective_amount)


def filename(plan: DistributionPlan, ext: str) -> str:
    org = db.session.get(Organization, plan.organization_id)
    draft = "" if plan.status == PlanStatus.POSTED else "-草案"
    return f"分红清册-{org.name}-{plan.year}年度-{plan.name}{draft}.{ext}"


def roll_pdf(plan: DistributionPlan, today: dt.date | None = None) -> bytes:
    r = build_roll(plan)
    html = render_template("print/dividends.html", r=r, doc_title=f"{r.org.name}{r.title}", page_size="A4",
                           font=font_family(),
                           printed_on=(today or clock.today()).isoformat())
    return html_to_pdf(html)


def roll_xlsx(plan: DistributionPlan) -> bytes:
    """The roll as a workbook: units and amounts are numbers (Decimal, never float); 签领 left blank."""
    from openpyxl.styles import Alignment, Font

    r = build_roll(plan)
    wb, ws = new_sheet("分红清册")
    header = ["序号", "户号", "户主", "股数", "每股金额（元）", "金额（元）", "大写金额", "签领"]
    ws.append([f"{r.org.name} {r.title}" + ("（草案）" if r.draft else "")])
    ws.append([f"方案：{plan.name}　股权登记日：{plan.record_date.isoformat()}　每股金额：{r.per_share_text} 元"])
    ws.append(header)
    for row in r.rows:
        ws.append([row.seq, row.number, row.head, row.units, r.per_share_text, row.amount, row.words, None])
    if r.collective_amount:
        ws.append([None, "—", "集体股（转入公积公益金）", r.collective_units, r.per_share_text, r.collective_amount,
                   amount_in_words(r.collective_amount), None])
    ws.append(["合计", f"{len(r.rows)} 户", None, r.total_units, None, r.total, r.words, None])
    last = ws.max_row
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.cell(1, 1).font = Font(size=14, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for row in ws.iter_rows(min_row=3, max_row=last, max_col=len(header)):
        for cell in row:
            cell.border = BORDER
    style_head(ws[3])
    for cell in ws[last]:
        cell.font = Font(bold=True)
    for i in range(4, last + 1):
        ws.cell(i, 4).number_format = UNITS_FORMAT
        ws.cell(i, 6).number_format = MONEY_FORMAT
        ws.cell(i, 5).alignment = Alignment(horizontal="right")
    set_widths(ws, (6, 8, 12, 12, 14, 14, 30, 16))
    ws.freeze_panes = "A4"
    return workbook_bytes(wb)
