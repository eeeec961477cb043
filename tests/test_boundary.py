"""The interfaces' write path: one transaction per request (the boundary commits below 400), one submit helper
for forms, the organization of the URL filled into links, one transaction per CLI command."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from coop.core.errors import Forbidden, ValidationFailed
from coop.core.extensions import db
from coop.models import Township, User


def _townships(name: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Township).where(Township.name == name))


def test_submit_undoes_a_refused_action_at_once(app, books):
    """What the action wrote before it was refused is gone before the page is shown again (and before a redirect,
    which the boundary would commit); the session stays usable for the page."""
    from coop.services import orgs
    from coop.web import forms

    def action():
        orgs.create_township(books.county, "半途镇")
        db.session.flush()
        raise ValidationFailed.field("name", "乡镇名称不对")

    with app.test_request_context("/", method="POST"):
        done = forms.submit(None, action)
        assert (done.ok, done.status, done.errors, done.message) == (False, 422, {"name": ["乡镇名称不对"]},
                                                                     "乡镇名称不对")
        assert done.result is None
        assert _townships("半途镇") == 0
        assert _townships("东镇") == 1  # the session still reads


def test_submit_loads_the_form_with_the_schema_and_reports_every_field(app, books):
    from coop.schemas.members import HouseholdInSchema
    from coop.web import forms

    with app.test_request_context("/", method="POST", data={"number": "  ", "csrf_token": "x"}):
        result, errors, status = forms.submit(HouseholdInSchema(), lambda data: pytest.fail("not reached"))
    assert result is None and status == 422
    assert "name" in errors and "csrf_token" not in errors


def test_submit_raises_forbidden_after_undoing_the_action(app, books):
    from coop.services import orgs
    from coop.web import forms

    def action():
        orgs.create_township(books.county, "越权镇")
        db.session.flush()
        raise Forbidden("您没有执行此操作的权限")

    with app.test_request_context("/", method="POST"):
        with pytest.raises(Forbidden):
            forms.submit(None, action)
        assert _townships("越权镇") == 0


def test_links_on_an_organization_page_carry_its_id(client, books):
    """url_for fills org_id from the URL (url_defaults): the page's own links stay in its organization."""
    client.post("/login", data={"username": "kuaiji", "password": "password1"})
    r = client.get(f"/o/{books.org.id}/vouchers")
    assert r.status_code == 200
    assert f'href="/o/{books.org.id}/vouchers/new"' in r.get_data(as_text=True)


def test_a_page_of_an_organization_not_assigned_is_404_and_without_a_permission_403(client, books):
    from coop.services import orgs, users

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    users.assign_role(users.create_user("chaxun", "钱查询", "password1"), "finance_group", books.org)
    db.session.commit()
    client.post("/login", data={"username": "kuaiji", "password": "password1"})
    assert client.get(f"/o/{other.id}/vouchers").status_code == 404
    client.post("/logout")
    client.post("/login", data={"username": "chaxun", "password": "password1"})
    assert client.get(f"/o/{books.org.id}/vouchers/new").status_code == 403


def test_a_cli_command_refused_half_way_writes_nothing(app, books):
    """transaction(): the user created before the refusal (--role without a scope) is rolled back."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coop", "create-user", "--username", "bantu", "--password", "Qingshan-Lu-2026",
                                 "--role", "accountant"])
    assert result.exit_code == 1
    assert "--role needs an existing --org, --township or --county" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.id).where(User.username == "bantu")) is None
    result = runner.invoke(args=["coop", "create-user", "--username", "bantu", "--password", "Qingshan-Lu-2026",
                                 "--role", "accountant", "--org", str(books.org.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.id).where(User.username == "bantu")) is not None
