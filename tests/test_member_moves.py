"""A person moves from one collective to another (RULES §6: membership is lost by acquiring another collective's;
§13: a duplicate across organizations says only "已在其他集体经济组织登记，请联系乡镇经管站", and the township or
county resolves it): the township finds where the number is registered, the old village records the loss, the new
one registers the person. One person is never current on two rosters at once — not even by two clerks at once."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import AuditLog, Member
from coop.services import members, orgs, users
from tests.test_members_web import IDS, _fast_password_hashing  # noqa: F401  (fixture)

BRIDE = IDS[4]  # born 2000-01-01


@pytest.fixture
def two_villages(books):
    """东村 (books.org) with 张家 and its daughter; 西村 in the same township with its own accountant; 南村 in
    another county's township, outside the township's and the county's reach."""
    east = books.org
    west = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    users.assign_role(users.create_user("xikuaiji", "西村会计", "password1"), "accountant", west)
    other_county = orgs.create_county("邻县")
    south = orgs.create_organization(orgs.create_township(other_county, "南镇"), name="南村股份经济合作社",
                                     books_start_year=2025)
    zhang = members.create_household(east, number="0001")
    members.add_member(zhang, name="张父", id_number=IDS[0], relation="户主", head=True)
    bride = members.add_member(zhang, name="张小花", id_number=BRIDE, relation="女")
    members.record_membership_event(bride, "confirmed", date=dt.date(2024, 3, 1), evidence="成员大会决议2024-01")
    db.session.commit()
    books.west, books.south, books.bride = west, south, bride
    return books


def test_a_bride_moves_to_her_husbands_village(two_villages, auth):
    b = two_villages
    li = members.create_household(b.west, number="0007")
    members.add_member(li, name="李丈夫", id_number=IDS[1], relation="户主", head=True)
    db.session.commit()
    # 西村 may not register her while she is 东村's member — and is told nothing about where
    with pytest.raises(ValidationFailed) as refused:
        members.add_member(li, name="张小花", id_number=BRIDE, relation="配偶")
    assert refused.value.errors == {"id_number": [f"身份证号 {BRIDE} 已在其他集体经济组织登记，请联系乡镇经管站"]}
    db.session.rollback()

    # the township looks it up: 东村, 0001, the number masked
    found, elsewhere = members.find_registrations(b.auditor, BRIDE)
    assert [(r.organization.name, r.household_number, r.name, r.id_number, r.status) for r in found] == [
        ("东村股份经济合作社", "0001", "张小花", BRIDE[:6] + "********" + BRIDE[-4:], "member")]
    assert elsewhere is False
    # 东村 records the loss; 西村 registers her, pending its own 成员大会
    members.record_membership_event(b.bride, "lost_other_collective", date=dt.date(2025, 10, 1),
                                    evidence="西村成员大会决议2025-05")
    wife = members.add_member(li, name="张小花", id_number=BRIDE, relation="配偶")
    db.session.commit()
    rows = db.session.execute(sa.select(Member.organization_id, Member.status).where(Member.id_number == BRIDE)
                              .order_by(Member.id)).all()
    assert rows == [(b.org.id, "former"), (b.west.id, "pending")]
    assert wife.household_id == li.id
    # 东村 cannot enter her again: she is 西村's now
    with pytest.raises(ValidationFailed, match="已在其他集体经济组织登记"):
        members.add_member(members.create_household(b.org, number="0002"), name="张小花", id_number=BRIDE)
    db.session.rollback()


def test_a_former_member_is_restored_not_entered_twice(two_villages):
    """Nobody else has her: 东村 may not enter its own former member a second time (a 恢复 event restores her)."""
    b = two_villages
    members.record_membership_event(b.bride, "lost_other_collective", date=dt.date(2025, 10, 1), evidence="迁出")
    with pytest.raises(ValidationFailed, match="已登记在本村（张小花）"):
        members.add_member(members.create_household(b.org, number="0002"), name="张小花", id_number=BRIDE)
    db.session.rollback()


def test_the_township_sees_only_its_own_and_is_told_of_the_rest(two_villages):
    b = two_villages
    # 南村, in another county: she is registered there too (a record the county must sort out)
    members.record_membership_event(b.bride, "lost_other_collective", date=dt.date(2025, 10, 1), evidence="迁出")
    members.add_member(members.create_household(b.south, number="0003"), name="张小花", id_number=BRIDE)
    db.session.commit()
    found, elsewhere = members.find_registrations(b.auditor, BRIDE)
    assert [(r.organization.name, r.status) for r in found] == [("东村股份经济合作社", "former")]
    assert elsewhere is True  # said, never where
    found, elsewhere = members.find_registrations(b.county_admin, BRIDE)
    assert [r.organization.name for r in found] == ["东村股份经济合作社"] and elsewhere is True
    # a village accountant may not look people up across villages; a bad number is named beside its field
    with pytest.raises(Forbidden):
        members.find_registrations(b.accountant, BRIDE)
    with pytest.raises(ValidationFailed) as bad:
        members.find_registrations(b.auditor, BRIDE[:-1] + ("0" if BRIDE[-1] != "0" else "1"))
    assert list(bad.value.errors) == ["id_number"]
    looked = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "member.lookup")).all()
    assert len(looked) == 2 and all(BRIDE not in (a.target or "") for a in looked)  # audited, masked


def test_the_lookup_page_and_api(two_villages, auth):
    b = two_villages
    page = auth.browser("jingguan")
    r = page.get("/auditor/registrations")
    assert r.status_code == 200 and "查找成员登记" in r.get_data(as_text=True)
    r = page.post("/auditor/registrations", data={"id_number": BRIDE})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "东村股份经济合作社" in html and "张小花" in html and BRIDE[-4:] in html
    assert BRIDE[6:14] not in html.replace(f'value="{BRIDE}"', "")  # the birth date only in what was typed
    r = page.post("/auditor/registrations", data={"id_number": "12345"})
    assert r.status_code == 422 and 'id="e-id_number"' in r.get_data(as_text=True)
    assert auth.browser("kuaiji").get("/auditor/registrations").status_code == 404

    r = auth.client.post("/api/v1/registrations/lookup", json={"id_number": BRIDE}, headers=auth.headers("xian"))
    assert r.status_code == 200, r.text
    assert r.json["elsewhere"] is False and [(x["organization"], x["household_number"], x["status"])
                                             for x in r.json["registrations"]] == [("东村股份经济合作社", "0001", "member")]
    assert r.json["registrations"][0]["id_number"] != BRIDE
    r = auth.client.post("/api/v1/registrations/lookup", json={"id_number": BRIDE}, headers=auth.headers("kuaiji"))
    assert r.status_code == 403
    r = auth.client.post("/api/v1/registrations/lookup", json={}, headers=auth.headers("xian"))
    assert r.status_code == 422 and "id_number" in r.json["errors"]


def test_two_villages_registering_the_same_person_at_once(two_villages, app, backend):
    """Real threads, two clerks: after 东村 records her loss, 西村 and 南镇's village both enter her at the same
    moment — the database lets one roster have her as current, the other gets the duplicate refusal (or 409)."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    b = two_villages
    members.record_membership_event(b.bride, "lost_other_collective", date=dt.date(2025, 10, 1), evidence="迁出")
    west_h = members.create_household(b.west, number="0008")
    south_h = members.create_household(b.south, number="0009")
    db.session.commit()
    barrier, results = threading.Barrier(2), []

    def register(household_id):
        with app.app_context():
            h = db.session.get(members.Household, household_id)
            barrier.wait()
            try:
                members.add_member(h, name="张小花", id_number=BRIDE)
                db.session.commit()
                results.append("ok")
            except ValidationFailed:
                db.session.rollback()
                results.append("refused")
            except sa.exc.IntegrityError:
                db.session.rollback()
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(h.id,)) for h in (west_h, south_h)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in (["conflict", "ok"], ["ok", "refused"])
    current = db.session.scalars(sa.select(Member.organization_id).where(Member.id_number == BRIDE,
                                                                         Member.status != "former")).all()
    assert len(current) == 1


@pytest.mark.parametrize("kind", ["restored", "confirmed", "benefit_granted"])
def test_the_old_village_cannot_bring_her_back_once_the_new_one_has_her(two_villages, kind):
    """After 西村 registered her, 东村 undoing its loss (恢复, or confirming / granting benefit rights again) would
    make her current on two rosters: refused by the service with the RULES §13 words (nothing about where), not
    left to the unique index (a 409 saying "entered at the same time"); the roster unchanged."""
    b = two_villages
    members.record_membership_event(b.bride, "lost_other_collective", date=dt.date(2025, 10, 1), evidence="迁出")
    members.add_member(members.create_household(b.west, number="0007"), name="张小花", id_number=BRIDE)
    db.session.commit()
    votes = {"votes_for": 9, "votes_total": 10} if kind == "benefit_granted" else {}
    with pytest.raises((ValidationFailed, InvalidState), match="已在其他集体经济组织登记，请联系乡镇经管站") as refused:
        members.record_membership_event(b.bride, kind, date=dt.date(2025, 11, 1), evidence="撤销", **votes)
    assert "西村" not in str(refused.value)
    db.session.rollback()
    assert db.session.scalars(sa.select(Member.status).where(Member.id_number == BRIDE).order_by(Member.id)
                              ).all() == ["former", "pending"]


def test_look_ups_are_rate_limited_like_roster_checks(two_villages, auth, app):
    """Each look-up says whether a full number is registered anywhere — in other counties too ('elsewhere'): a
    township auditor's account, or its API token, must not test numbers by the thousand (roster checks are limited
    for the same reason). Per user across web and API: within REGISTRATION_LOOKUPS_PER_HOUR, then 429."""
    app.extensions["coop_rate_limit"].clear()
    app.config["REGISTRATION_LOOKUPS_PER_HOUR"] = 3
    try:
        page = auth.browser("jingguan")
        api = auth.headers("jingguan")
        assert page.post("/auditor/registrations", data={"id_number": BRIDE}).status_code == 200
        for n in (1, 2):
            r = auth.client.post("/api/v1/registrations/lookup", json={"id_number": IDS[n]}, headers=api)
            assert r.status_code == 200, r.text
        r = auth.client.post("/api/v1/registrations/lookup", json={"id_number": IDS[3]}, headers=api)
        assert r.status_code == 429 and "查找过于频繁" in r.json["errors"]["_schema"][0]
        r = page.post("/auditor/registrations", data={"id_number": IDS[3]})
        assert r.status_code == 429 and "查找过于频繁" in r.get_data(as_text=True)
        # refused look-ups are not audited as look-ups (nothing was looked up)
        assert len(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "member.lookup")).all()) == 3
        # the county's own allowance is its own
        r = auth.client.post("/api/v1/registrations/lookup", json={"id_number": IDS[3]}, headers=auth.headers("xian"))
        assert r.status_code == 200
    finally:
        app.config.pop("REGISTRATION_LOOKUPS_PER_HOUR")
        app.extensions["coop_rate_limit"].clear()


def test_a_past_registration_in_another_county_is_not_told(two_villages):
    """'Elsewhere' is what stands in the way of a registration: a current one outside the auditor's reach. That a
    person once was on a roster in another county (moved away, lost it there) is that county's record, not the
    township's to learn — the duplicate check itself ignores former registrations elsewhere."""
    b = two_villages
    moved = members.add_member(members.create_household(b.south, number="0003"), name="赵南", id_number=IDS[5])
    members.record_membership_event(moved, "confirmed", date=dt.date(2020, 3, 1), evidence="南村成员大会")
    members.record_membership_event(moved, "lost_other_collective", date=dt.date(2025, 10, 1), evidence="迁出")
    members.add_member(members.create_household(b.org, number="0004"), name="赵南", id_number=IDS[5])
    db.session.commit()
    found, elsewhere = members.find_registrations(b.auditor, IDS[5])
    assert [(r.organization.name, r.status) for r in found] == [("东村股份经济合作社", "pending")]
    assert elsewhere is False
