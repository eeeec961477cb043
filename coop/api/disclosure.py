"""财务公开 over the API (RULES §10): sheets and their workflow, questions on vouchers, 三色预警, and the public
verify by digest. Same services as the web pages; money is a string; bad input is a 4xx and nothing is written.

Rows of a sheet are addressed from 0 (`data.rows[i]`), as are the `row` of comments.
"""
from __future__ import annotations

import functools
import io
import json

import sqlalchemy as sa
from flask import send_file, url_for
from flask_smorest import Blueprint

from coop.api.common import api_org, current_api_user, requires
from coop.core import clock
from coop.core.errors import Forbidden, NotFound
from coop.core.extensions import db
from coop.documents import disclosure as disclosure_pdf
from coop.models import Disclosure, User, Voucher, VoucherQuestion
from coop.models.disclosure import SHEET_KINDS, SHEET_STATUSES, SheetStatus
from coop.schemas.disclosure import (DisclosureDetailSchema, DisclosureInSchema, DisclosureSchema, EarlyWarningsSchema,
                                     SheetApproveInSchema, SheetPublishInSchema, SheetReviewInSchema, SheetVerifySchema,
                                     VoucherAnswerInSchema, VoucherQuestionInSchema, VoucherQuestionQuerySchema,
                                     VoucherQuestionSchema)
from coop.services import access, disclosure, vouchers, warnings

URL = ""
blp = Blueprint("api_disclosure", __name__, description="财务公开 Disclosure: sheets, review, publication, "
                                                         "verification, questions on vouchers, 三色预警")
ORG = "/orgs/<int:org_id>"
PDF_MIME = "application/pdf"


def only(*roles: str):
    """Only these roles on the organization may call the view (民主理财小组 reviews, 经管站 approves). Put it
    between @blp.route and @blp.arguments: like `requires`, it answers 403 before the body is parsed."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not access.roles_on(current_api_user(), api_org(kwargs["org_id"])) & set(roles):
                raise Forbidden("您没有执行此操作的权限")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def public(view):
    """A view anyone may call without a token (the verify-by-digest answer printed on every sheet); the OpenAPI
    document says so (`security: []`), else clients and schemathesis take the token as required."""
    view.coop_public = True
    return blp.doc(security=[])(view)


# ---------------------------------------------------------------- shapes


# ---------------------------------------------------------------- helpers


def _name(user_id: int | None) -> str | None:
    u = db.session.get(User, user_id) if user_id else None
    return u.display_name if u else None


def _out(d: Disclosure, detail: bool = False) -> dict:
    published = d.status in (SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED)
    out = {
        "id": d.id, "kind": d.kind, "kind_label": SHEET_KINDS.get(d.kind, d.kind), "period_start": d.period_start,
        "period_end": d.period_end, "period_label": disclosure_pdf.period_label(d.period_start, d.period_end),
        "version": d.version, "supersedes_id": d.supersedes_id, "status": d.status,
        "status_label": SHEET_STATUSES.get(d.status, d.status), "digest": d.digest,
        "created_by": _name(d.created_by_id) or "", "reviewed_by": _name(d.reviewed_by_id),
        "reviewed_at": d.reviewed_at, "approved_by": _name(d.approved_by_id), "approved_at": d.approved_at,
        "published_on": d.published_on, "channel": d.channel, "pdf_sha256": d.pdf_sha256,
        "pdf_url": url_for("api_disclosure.sheet_pdf", org_id=d.organization_id, disclosure_id=d.id, _external=True),
        "verify_url": disclosure_pdf.verify_url(d) if published else None,
    }
    if detail:
        data = json.loads(d.data)
        out.update(data=data, totals=data.get("totals", []), comments=[
            {"id": c.id, "row": c.row, "text": c.text, "veto": c.veto, "user": _name(c.user_id) or "",
             "created_at": c.created_at} for c in d.comments])
    return out


def _sheet_out(d: Disclosure) -> dict:
    return _out(d, detail=True)


# ---------------------------------------------------------------- sheets


@blp.route(f"{ORG}/disclosures")
@blp.response(200, DisclosureSchema(many=True))
def list_sheets(org_id: int):
    """All sheets of the organization, newest period first."""
    org = api_org(org_id)
    return [_out(d) for d in db.session.scalars(sa.select(Disclosure).where(Disclosure.organization_id == org.id)
                                                .order_by(Disclosure.period_start.desc(), Disclosure.kind,
                                                          Disclosure.version.desc()))]


@blp.route(f"{ORG}/disclosures", methods=["POST"])
@blp.arguments(DisclosureInSchema)
@blp.response(201, DisclosureDetailSchema)
@requires(access.PREPARE)
def create_sheet(data, org_id: int):
    """Generate a draft sheet from closed months (an open month is refused)."""
    org = api_org(org_id, access.PREPARE)
    return _sheet_out(disclosure.create_sheet(org, kind=data["kind"], start=data["period_start"], end=data["period_end"],
                                         user=current_api_user()))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>")
@blp.response(200, DisclosureDetailSchema)
def get_sheet(org_id: int, disclosure_id: int):
    return _out(disclosure.get_sheet(api_org(org_id), disclosure_id), detail=True)


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/pdf")
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=PDF_MIME, success=True)
def sheet_pdf(org_id: int, disclosure_id: int):
    """The frozen PDF of a published sheet; before publication a preview marked 样稿."""
    d = disclosure.get_sheet(api_org(org_id), disclosure_id)
    data = d.pdf if d.pdf is not None else disclosure_pdf.render_sheet_pdf(d)
    return send_file(io.BytesIO(data), mimetype=PDF_MIME, download_name=disclosure_pdf.sheet_filename(d))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/review", methods=["POST"])
@only("finance_group")
@blp.arguments(SheetReviewInSchema)
@blp.response(200, DisclosureDetailSchema)
def review_sheet(data, org_id: int, disclosure_id: int):
    """民主理财小组: approve, or veto with at least one comment (on the sheet or on rows)."""
    d = disclosure.get_sheet(api_org(org_id), disclosure_id)
    return _sheet_out(disclosure.finance_group_review(
        d, user=current_api_user(), approve=data["approve"], comment=data.get("comment"),
        row_comments={c["row"]: c["text"] for c in data["row_comments"]}))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/approve", methods=["POST"])
@only("township_auditor")
@blp.arguments(SheetApproveInSchema)
@blp.response(200, DisclosureDetailSchema)
def approve_sheet(data, org_id: int, disclosure_id: int):
    """乡镇经管站: approve for publication, or send back (approve=false) with a comment."""
    d = disclosure.get_sheet(api_org(org_id), disclosure_id)
    return _sheet_out(disclosure.township_approve(d, user=current_api_user(), approve=data["approve"],
                                             comment=data.get("comment")))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/publish", methods=["POST"])
@blp.arguments(SheetPublishInSchema)
@blp.response(200, DisclosureDetailSchema)
@requires(access.PREPARE)
def publish_sheet(data, org_id: int, disclosure_id: int):
    """公开: freeze the approved sheet with its PDF (QR code and digest)."""
    d = disclosure.get_sheet(api_org(org_id, access.PREPARE), disclosure_id)
    user = current_api_user()
    return _sheet_out(disclosure.publish(d, user=user, date=data["date"], channel=data["channel"],
                                    render_pdf=lambda s: disclosure_pdf.render_sheet_pdf(s, accountant=user)))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/rebuild", methods=["POST"])
@blp.response(200, DisclosureDetailSchema)
@requires(access.PREPARE)
def rebuild_sheet(org_id: int, disclosure_id: int):
    """Recompute a draft or vetoed sheet from the books; the review starts over."""
    d = disclosure.get_sheet(api_org(org_id, access.PREPARE), disclosure_id)
    return _sheet_out(disclosure.rebuild_sheet(d, user=current_api_user()))


@blp.route(f"{ORG}/disclosures/<int:disclosure_id>/correction", methods=["POST"])
@blp.response(201, DisclosureDetailSchema)
@requires(access.PREPARE)
def correct_sheet(org_id: int, disclosure_id: int):
    """更正: a new draft version of a published sheet; once published it supersedes this one."""
    org = api_org(org_id, access.PREPARE)
    d = disclosure.get_sheet(org, disclosure_id)
    return _sheet_out(disclosure.create_sheet(org, kind=d.kind, start=d.period_start, end=d.period_end,
                                         user=current_api_user(), supersedes=d))


@blp.route("/verify/sheets/<path:digest>")
@blp.response(200, SheetVerifySchema)
@public
def verify_sheet(digest: str):
    """Public (no token): does this digest belong to a published sheet, is its stored data intact, and has it been
    superseded? Garbage is a 422, an unknown digest a 404."""
    d = disclosure.verify_digest(digest)
    if d is None:
        raise NotFound("没有与该摘要相符的已公开财务公开表")
    data = json.loads(d.data)
    newest = d
    while (nxt := db.session.scalar(sa.select(Disclosure).where(
            Disclosure.supersedes_id == newest.id,
            Disclosure.status.in_((SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED))))) is not None:
        newest = nxt
    problems = disclosure.verify_sheet(d)
    return {"digest": d.digest, "intact": not problems, "problems": problems,
            "organization": data.get("organization", ""), "kind": d.kind, "title": data.get("title", ""),
            "period_start": d.period_start, "period_end": d.period_end,
            "period_label": disclosure_pdf.period_label(d.period_start, d.period_end), "version": d.version,
            "status": d.status, "published_on": d.published_on, "channel": d.channel,
            "superseded_by": newest.digest if newest is not d else None, "totals": data.get("totals", [])}


# ---------------------------------------------------------------- questions and warnings


def _question_out(q: VoucherQuestion) -> dict:
    v = db.session.get(Voucher, q.voucher_id)
    return {"id": q.id, "voucher_id": q.voucher_id, "voucher_number": v.display_number, "voucher_date": v.date,
            "status": q.status, "question": q.question, "asked_by": q.asked_by.display_name, "asked_at": q.created_at,
            "answer": q.answer, "answered_by": q.answered_by.display_name if q.answered_by else None,
            "answered_at": q.answered_at}


@blp.route(f"{ORG}/questions")
@blp.arguments(VoucherQuestionQuerySchema, location="query")
@blp.response(200, VoucherQuestionSchema(many=True))
def list_questions(args, org_id: int):
    org = api_org(org_id)
    q = sa.select(VoucherQuestion).where(VoucherQuestion.organization_id == org.id)
    if args.get("status"):
        q = q.where(VoucherQuestion.status == args["status"])
    return [_question_out(x) for x in db.session.scalars(q.order_by(VoucherQuestion.id.desc()))]


@blp.route(f"{ORG}/questions", methods=["POST"])
@only("township_auditor", "county_admin")
@blp.arguments(VoucherQuestionInSchema)
@blp.response(201, VoucherQuestionSchema)
def ask_question(data, org_id: int):
    """质询 on a voucher (township auditor or county admin); the accountant answers."""
    org = api_org(org_id)
    v = vouchers.get_voucher(org, data["voucher_id"])
    q = disclosure.ask_question(org, v, text=data["question"], user=current_api_user())
    return _question_out(q)


@blp.route(f"{ORG}/questions/<int:question_id>/answer", methods=["POST"])
@blp.arguments(VoucherAnswerInSchema)
@blp.response(200, VoucherQuestionSchema)
@requires(access.PREPARE)
def answer_question(data, org_id: int, question_id: int):
    org = api_org(org_id, access.PREPARE)
    q = disclosure.answer_question(disclosure.get_question(org, question_id), text=data["answer"], user=current_api_user())
    return _question_out(q)


@blp.route(f"{ORG}/questions/<int:question_id>/close", methods=["POST"])
@only("township_auditor", "county_admin")
@blp.response(200, VoucherQuestionSchema)
def close_question(org_id: int, question_id: int):
    org = api_org(org_id)
    q = disclosure.close_question(disclosure.get_question(org, question_id), user=current_api_user())
    return _question_out(q)


@blp.route(f"{ORG}/warnings")
@blp.response(200, EarlyWarningsSchema)
def org_warnings(org_id: int):
    """三色预警 of the organization today, each warning with the facts that triggered it."""
    found = warnings.warnings_for(api_org(org_id), clock.today())
    return {"level": warnings.level_of(found),
            "warnings": [{"code": w.code, "level": w.level, "title": w.title, "facts": w.facts} for w in found]}
