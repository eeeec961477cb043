"""飞地抱团 / 多村联营 projects over the API (RULES §8): projects, participants, contributions, yearly returns
(preview, then declare), receipts, exit and the reconciliation of every side's books.

County admins manage their county's projects; township auditors and participating villages read the projects
they touch. Every booking writes all sides in one transaction: a refusal leaves every book as it was.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from coop.core.errors import Forbidden, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.models import County, JointProject, Organization, ProjectParticipant, ProjectReturnLine
from coop.schemas.joint import (ContributionInSchema, ContributionSchema, ExitInSchema, ParticipantInSchema,
                             ParticipantSchema, ProjectDetailSchema, ProjectInSchema, ProjectSchema, ReceiptInSchema,
                             ReconQuerySchema, ReconRowSchema, ReturnInSchema, ReturnPreviewInSchema, ReturnSchema,
                             preview_out, project_out)
from coop.services import access, joint as service
from coop.api.common import current_api_user, idempotent_api

URL = ""
blp = Blueprint("api_joint", __name__, description="飞地抱团 Cross-village joint investment projects")


def _project(project_id: int) -> JointProject:
    return service.get_project(current_api_user(), project_id)


def _participant(project: JointProject, participant_id: int, field: str | None = None) -> ProjectParticipant:
    part = next((p for p in project.participants if p.id == participant_id), None)
    if part is None:
        if field:
            raise ValidationFailed.field(field, "该项目没有这个参与方")
        raise NotFound("找不到该参与方")
    return part


def _detail(project: JointProject) -> dict:
    return project_out(project, detail=True)


@blp.route("/joint/projects")
@blp.response(200, ProjectSchema(many=True))
def list_projects():
    """Projects the caller may see: all of a county admin's county; otherwise those touching their organizations."""
    return [project_out(p) for p in service.visible_projects(current_api_user())]


@blp.route("/joint/projects", methods=["POST"])
@blp.arguments(ProjectInSchema)
@blp.response(201, ProjectDetailSchema)
def create_project(data):
    """Create a project (county admins). The operator is a 联营公司 of the county or an outside entity by name."""
    user = current_api_user()
    county_id = data.pop("county_id") or next(iter(access.administered_counties(user)), None)
    if county_id is None:
        raise Forbidden("只有县级管理员可以管理联营项目")
    county = db.session.get(County, county_id)
    if county is None:
        raise ValidationFailed.field("county_id", "找不到该县")
    return _detail(service.create_project(county, user=user, **data))


@blp.route("/joint/projects/<int:project_id>")
@blp.response(200, ProjectDetailSchema)
def get_project(project_id: int):
    """The project with participants, contributions and returns by year."""
    return project_out(_project(project_id), detail=True)


@blp.route("/joint/projects/<int:project_id>/participants", methods=["POST"])
@blp.arguments(ParticipantInSchema)
@blp.response(201, ParticipantSchema)
def add_participant(data, project_id: int):
    """A village of the project's county joins (with its contract weight when weights are fixed by contract)."""
    project = _project(project_id)
    org = db.session.get(Organization, data["organization_id"])
    if org is None:
        raise ValidationFailed.field("organization_id", "找不到该组织")
    part = service.add_participant(project, org, user=current_api_user(), weight=data["weight"])
    return next(p for p in _detail(project)["participants"] if p["id"] == part.id)


@blp.route("/joint/projects/<int:project_id>/contributions", methods=["POST"])
@blp.arguments(ContributionInSchema)
@blp.response(201, ContributionSchema)
def contribute(data, project_id: int):
    """出资 (cash, land quota valued in money, fiscal funds): booked in the village and, when kept here, the
    operator, together."""
    project = _project(project_id)
    part = _participant(project, data.pop("participant_id"), field="participant_id")
    c = service.contribute(project, part, user=current_api_user(), **data)
    return next(x for x in _detail(project)["contributions"] if x["id"] == c.id)


@blp.route("/joint/projects/<int:project_id>/returns/preview", methods=["POST"])
@blp.arguments(ReturnPreviewInSchema)
@blp.response(200, ReturnSchema)
def preview_return(data, project_id: int):
    """A year's fixed part by days held, profit split and the guarantor's shortfall, after every check a
    declaration makes except the date. Nothing is written."""
    project = _project(project_id)
    result, guaranteed = service.preview_return(project, year=data["year"], profit=data["profit"])
    return preview_out(project, data["year"], data["profit"], result, guaranteed)


@blp.route("/joint/projects/<int:project_id>/returns", methods=["POST"])
@blp.arguments(ReturnInSchema)
@blp.response(201, ReturnSchema)
def declare_return(data, project_id: int):
    """Declare a year's return: every participant's and the operator's vouchers, all or none."""
    project = _project(project_id)
    ret = service.declare_return(project, user=current_api_user(), **data)
    return next(r for r in _detail(project)["returns"] if r["id"] == ret.id)


@blp.route("/joint/projects/<int:project_id>/return-lines/<int:line_id>/receipts", methods=["POST"])
@idempotent_api
@blp.arguments(ReceiptInSchema)
@blp.response(200, ReturnSchema)
def receive(data, project_id: int, line_id: int):
    """A village receives its return from the operator, or the guarantor's part of an uncovered fixed return."""
    project = _project(project_id)
    line = db.session.get(ProjectReturnLine, line_id)
    if line is None or line.ret.project_id != project.id:
        raise NotFound("找不到该收益记录")
    service.receive_return(line, user=current_api_user(), **data)
    return next(r for r in _detail(project)["returns"] if r["id"] == line.return_id)


@blp.route("/joint/projects/<int:project_id>/participants/<int:participant_id>/exit", methods=["POST"])
@idempotent_api
@blp.arguments(ExitInSchema)
@blp.response(200, ParticipantSchema)
def exit_participant(data, project_id: int, participant_id: int):
    """退出/轮换: the capital goes back to the village, booked on both sides."""
    project = _project(project_id)
    part = _participant(project, participant_id)
    service.exit_participant(project, part, user=current_api_user(), **data)
    return next(p for p in _detail(project)["participants"] if p["id"] == part.id)


@blp.route("/joint/projects/<int:project_id>/reconciliation")
@blp.arguments(ReconQuerySchema, location="query")
@blp.response(200, ReconRowSchema(many=True))
def reconciliation(args, project_id: int):
    """Each village's posted 141 / 112 for the project against the operator's 301 / 211 for the village, with
    the difference (null when the operator is outside the system)."""
    project = _project(project_id)
    return [{"participant": r.participant, "item": r.item, "village": r.village, "operator": r.operator,
             "difference": r.difference} for r in service.reconciliation(project, args["until"])]
