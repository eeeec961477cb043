"""The share register as a table (page, PDF, xlsx) and the household 股权证 PDF with its verify QR code.

`build_register` is the one shape behind the register page, its PDF and its xlsx, so the three always agree.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import render_template, url_for

from coop.core.extensions import db
from coop.documents.pdf import html_to_pdf
from coop.documents.printing import font_family, qr_svg
from coop.core.text import N_
from coop.ledger.shares import CLASS_LABELS, CLASS_ORDER
from coop.models import Household, Member, Organization, QuantificationPlan, ShareCertificate
from coop.models.shares import QuantificationStatus
from coop.services import shares
from coop.core import clock
from coop.core.export_safety import workbook_bytes
from coop.reports.xlsx import UNITS_FORMAT, new_sheet, set_widths, style_head
ZERO = Decimal("0.0000")


@dataclass
class RegisterRow:
    """One holder's units in one household (or the collective's when `member` is None)."""

    member: Member | None
    beneficiary: Member | None
    income_only: bool
    classes: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.classes.values(), ZERO)

    @property
    def holder_name(self) -> str:
        return self.member.name if self.member else N_("集体")

    @property
    def note(self) -> str:
        notes = []
        if self.beneficiary:
            notes.append(f"代{self.beneficiary.name}持有")
        if self.income_only:
            notes.append("仅收益权")
        return "；".join(notes)


@dataclass
class RegisterHousehold:
    household: Household | None  # None: the collective's own units
    rows: list[RegisterRow]

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), ZERO)

    def class_total(self, cls: str) -> Decimal:
        return sum((r.classes.get(cls, ZERO) for r in self.rows), ZERO)


@dataclass
class Register:
    org: Organization
    as_of: dt.date
    plan: QuantificationPlan | None
    groups: list[RegisterHousehold]
    classes: list[str]  # the classes that appear, in the usual order

    @property
    def total(self) -> Decimal:
        return sum((g.total for g in self.groups), ZERO)

    def class_total(self, cls: str) -> Decimal:
        return sum((g.class_total(cls) for g in self.groups), ZERO)

    @property
    def class_labels(self) -> list[tuple[str, str]]:
        return [(c, CLASS_LABELS[c]) for c in self.classes]


def issued_plan(org: Organization) -> QuantificationPlan | None:
    return db.session.scalar(sa.select(QuantificationPlan).where(
        QuantificationPlan.organization_id == org.id, QuantificationPlan.status == QuantificationStatus.ISSUED))


def group_holdings(holdings: list) -> list[RegisterHousehold]:
    """Holdings → one group per household (by 户号) with one row per holder; the collective last."""
    member_ids = {h.member_id for h in holdings} | {h.beneficiary_id for h in holdings}
    people = {m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(member_ids - {None})))}
    household_ids = {h.household_id for h in holdings} - {None}
    homes = {h.id: h for h in db.session.scalars(sa.select(Household).where(Household.id.in_(household_ids)))}
    rows: dict = {}
    for h in holdings:
        key = (h.household_id, h.member_id, h.beneficiary_id, h.income_only)
        row = rows.get(key)
        if row is None:
            row = rows[key] = RegisterRow(people.get(h.member_id), people.get(h.beneficiary_id), h.income_only)
        row.classes[h.share_class] = row.classes.get(h.share_class, ZERO) + h.units
    groups: dict = {}
    for (hid, mid, bid, _), row in rows.items():
        groups.setdefault(hid, []).append(row)

    def row_order(r: RegisterRow):
        head_first = 0 if (r.member and r.member.relation == "户主") else 1
        return (head_first, r.member.id if r.member else 0, r.beneficiary.id if r.beneficiary else 0, r.income_only)

    out = [RegisterHousehold(homes[hid], sorted(groups[hid], key=row_order))
           for hid in sorted((k for k in groups if k is not None), key=lambda k: homes[k].number)]
    if None in groups:
        out.append(RegisterHousehold(None, sorted(groups[None], key=row_order)))
    return out


def build_register(org: Organization, as_of: dt.date) -> Register:
    holdings = shares.holdings(org, as_of)
    present = {h.share_class for h in holdings}
    return Register(org=org, as_of=as_of, plan=issued_plan(org), groups=group_holdings(holdings),
                    classes=[c for c in CLASS_ORDER if c in present])


# ---------------------------------------------------------------- PDFs


def verify_url(cert: ShareCertificate) -> str:
    """The absolute address printed as the QR code (needs a request or SERVER_NAME)."""
    return url_for("portal.verify", token=cert.verify_token, _external=True)


def certificate_context(cert: ShareCertificate) -> dict:
    """What a 股权证 shows: the household's holders as the certificate states them (as of its issue date, or
    now while it is the current one), the per-class totals recorded on it, face value and the verify link."""
    org = db.session.get(Organization, cert.organization_id)
    household = cert.household
    as_of = cert.issued_on if cert.revoked_on else None
    group = next((g for g in group_holdings(shares.holdings(org, as_of)) if g.household
                  and g.household.id == household.id), RegisterHousehold(household, []))
    snapshot = {k: Decimal(v) for k, v in json.loads(cert.snapshot or "{}").items()}
    classes = [c for c in CLASS_ORDER if c in snapshot or group.class_total(c)]
    plan = issued_plan(org)
    total = sum(snapshot.values(), ZERO)
    face = plan.face_value if plan else None
    url = verify_url(cert)
    return dict(org=org, cert=cert, household=household, head=household.head, rows=group.rows, classes=classes,
                labels=CLASS_LABELS, snapshot=snapshot, total=total, face_value=face,
                amount=(total * face).quantize(Decimal("0.01")) if face else None, plan=plan,
                verify_url=url, qr=qr_svg(url))


def certificate_html(cert: ShareCertificate) -> str:
    return render_template("print/certificate.html", font=font_family(), doc_title=f"股权证 {cert.number}",
                           **certificate_context(cert))


def certificate_pdf(cert: ShareCertificate) -> bytes:
    return html_to_pdf(certificate_html(cert))


def certificate_filename(cert: ShareCertificate) -> str:
    return f"股权证-{cert.number}.pdf"


def register_pdf(org: Organization, as_of: dt.date, today: dt.date | None = None) -> bytes:
    html = render_template("print/register.html", font=font_family(), r=build_register(org, as_of),
                           doc_title=f"{org.name}股东名册", printed_on=(today or clock.today()).isoformat())
    return html_to_pdf(html)


def register_filename(org: Organization, as_of: dt.date, ext: str) -> str:
    return f"股东名册-{org.name}-{as_of.isoformat()}.{ext}"


# ---------------------------------------------------------------- xlsx


def register_xlsx(org: Organization, as_of: dt.date) -> bytes:
    """The register as a workbook: one row per holder, units as numbers (Decimal, never float)."""
    from openpyxl.styles import Font

    r = build_register(org, as_of)
    wb, ws = new_sheet("股东名册")
    header = ["户号", "户主", "股东姓名", "与户主关系", "备注"] + [label for _, label in r.class_labels] + ["合计"]
    ws.append([f"{org.name} 股东名册"])
    ws.append([f"截至 {as_of.isoformat()}" + (f"　每股面值 {r.plan.face_value} 元" if r.plan else "")])
    ws.append(header)
    ws.cell(1, 1).font = Font(size=14, bold=True)
    style_head(ws[3][:len(header)])
    for g in r.groups:
        head = g.household.head if g.household else None
        for row in g.rows:
            ws.append([g.household.number if g.household else "", head.name if head else "", row.holder_name,
                       row.member.relation if row.member else "", row.note]
                      + [row.classes.get(c) for c in r.classes] + [row.total])
    ws.append(["合计", "", "", "", ""] + [r.class_total(c) for c in r.classes] + [r.total])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=4, min_col=6, max_col=len(header)):
        for cell in row:
            cell.number_format = UNITS_FORMAT
    set_widths(ws, [8, 10, 10, 10, 18] + [12] * (len(r.classes) + 1))
    ws.freeze_panes = "A4"
    return workbook_bytes(wb)


def roster_xlsx(rows: list[list[str]]) -> bytes:
    """The roster export (members.export_roster rows) as a workbook in the import layout."""
    from openpyxl.styles import Font

    wb, ws = new_sheet("成员名册")
    for row in rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    set_widths(ws, (8, 10, 22, 10, 22, 10, 6, 12, 14, 16))
    # 身份证号 as text, or Excel turns 18 digits into 1.10105E+17
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    return workbook_bytes(wb)
