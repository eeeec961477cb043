"""Members and households (RULES §6): 身份证 checks, membership events, roster import and export."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from coop.core import clock
from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.core.security import lookup_gate
from coop.models import Household, Member, MembershipEvent, Organization, User
from coop.models.members import MEMBERSHIP_EVENTS, RELATIONS, MemberStatus
from coop.services import access, audit
from coop.services.file_limits import cap
from coop.services.imports import already_imported, file_key, lock_for_import  # noqa: F401  (file_key: for the callers)
from coop.services.users import end_sessions, revoke_role

LOSS_EVENTS = {k for k in MEMBERSHIP_EVENTS if k.startswith("lost_")}
#: audit action of a roster import; its target is the file's SHA-256 (coop.services.imports)
ROSTER_ACTION = "roster.import"
#: when set (milliseconds), `import_roster` pauses after each person: only the crash test sets it
ROSTER_SLEEP_ENV = "COOP_ROSTER_IMPORT_SLEEP"
ROSTER_COLUMNS = ("户号", "户主", "户主身份证", "成员", "身份证", "与户主关系", "性别", "出生日期", "联系电话", "成员状态")


def get_household(org: Organization, household_id: int) -> Household:
    return access.of_org(Household, org, household_id, "找不到该户")


def get_member(org: Organization, member_id: int) -> Member:
    return access.of_org(Member, org, member_id, "找不到该成员")


def check_id_number(value: str) -> tuple[str, dt.date, str]:
    """Validate a 居民身份证号; returns (number, birth date, sex 'M'/'F'). Raises ValueError with the reason."""
    number = (value or "").strip().upper()
    try:
        number = ric.validate(number)
    except StdnumError as exc:
        reason = {
            "InvalidLength": "应为18位",
            "InvalidChecksum": "校验码不正确",
            "InvalidFormat": "包含不允许的字符",
            "InvalidComponent": "出生日期或地区码不正确",
        }.get(type(exc).__name__, "格式不正确")
        raise ValueError(f"身份证号 {number or '（空）'} 无效：{reason}") from None
    birth = ric.get_birth_date(number)
    sex = "M" if int(number[16]) % 2 else "F"
    return number, birth, sex


#: what anyone outside the member's own organization's accountants is told about a number registered elsewhere
#: (RULES §13): not who, not where — the township or county resolves it
REGISTERED_ELSEWHERE = "已在其他集体经济组织登记，请联系乡镇经管站"


def mask_id_number(number: str | None) -> str:
    """RULES §13: 520203199001010033 → 520203********0033 (region code and last 4 kept; the birth date hidden)."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _duplicate_message(number: str, other_org_id: int, org_id: int, name: str, *, row: bool = False) -> str:
    if other_org_id != org_id:
        return f"身份证号 {number} {REGISTERED_ELSEWHERE}"
    return f"身份证号 {number} 本村已登记（{name}）" if row else f"身份证号 {number} 已登记在本村（{name}）"


def _registered(org_id: int):
    """Where a number counts as registered for a new row in `org_id`: any row of this organization (a former
    member here is restored by an event, not entered twice); elsewhere only a current one — a person who lost
    membership there (取得其他集体经济组织成员身份) may join here."""
    return sa.or_(Member.organization_id == org_id, Member.status != MemberStatus.FORMER)


@dataclass
class Registration:
    """Where a person is on a roster, as a township or county sees it (the number masked, RULES §13)."""

    organization: Organization
    household_id: int
    household_number: str
    name: str
    id_number: str  # masked
    status: str


def find_registrations(user: User, id_number: str) -> tuple[list[Registration], bool]:
    """For a township auditor or county admin resolving a duplicate (RULES §13: "已在其他集体经济组织登记，请联系乡镇经管
    站"): the rosters among the organizations they supervise that hold a full, exact 身份证号, and whether one
    outside them has the person as current (said, never which). Audited: it is a look-up of a person."""
    supervised = {o.id: o for o in access.visible_orgs(user) if access.can(user, access.RESOLVE_REGISTRATIONS, o)}
    if not supervised:
        raise Forbidden("只有乡镇经管站或县级管理员可以查找成员登记")
    try:
        number, _birth, _sex = check_id_number(id_number)
    except ValueError as exc:
        raise ValidationFailed.field("id_number", str(exc)) from None
    lookup_gate(user)  # a look-up of a person: so many an hour, not a way to test numbers by the thousand
    rows = db.session.execute(
        sa.select(Member, Household.number).join(Household, Household.id == Member.household_id)
        .where(Member.id_number == number).order_by(Member.id)).all()
    found = [Registration(supervised[m.organization_id], m.household_id, household_number, m.name,
                          mask_id_number(m.id_number), m.status)
             for m, household_number in rows if m.organization_id in supervised]
    # what stands in the way of a registration: a current one out of reach (a former one elsewhere blocks nothing,
    # and that a person once was on another county's roster is that county's record)
    elsewhere = any(m.organization_id not in supervised and m.status != MemberStatus.FORMER for m, _n in rows)
    audit.log("member.lookup", user=user, target=mask_id_number(number), found=len(found))
    return found, elsewhere


def _household_by_number(org: Organization, number: str) -> Household | None:
    return db.session.scalar(sa.select(Household).where(Household.organization_id == org.id, Household.number == number))


def next_household_number(org: Organization) -> str:
    numbers = db.session.scalars(sa.select(Household.number).where(Household.organization_id == org.id))
    top = max((int(n) for n in numbers if n.isdecimal()), default=0)
    return f"{top + 1:04d}"


def create_household(org: Organization, *, number: str | None = None, address: str | None = None,
                     split_from: Household | None = None) -> Household:
    number = (number or "").strip() or next_household_number(org)
    if _household_by_number(org, number):
        raise ValidationFailed.field("number", f"户号 {number} 已存在")
    h = Household(organization_id=org.id, number=number, address=address,
                  split_from_id=split_from.id if split_from else None)
    db.session.add(h)
    db.session.flush()
    return h


def add_member(household: Household, *, name: str, id_number: str, relation: str = "其他",
               phone: str | None = None, head: bool = False) -> Member:
    errors: dict = {}
    if not (name or "").strip():
        errors["name"] = ["请填写姓名"]
    try:
        number, birth, sex = check_id_number(id_number)
    except ValueError as exc:
        errors["id_number"] = [str(exc)]
    else:
        # a current registration first (she is another village's now), then a former member of this one
        other = db.session.scalar(sa.select(Member).where(Member.id_number == number,
                                                          _registered(household.organization_id))
                                  .order_by(Member.status == MemberStatus.FORMER, Member.id).limit(1))
        if other is not None:
            errors["id_number"] = [_duplicate_message(number, other.organization_id, household.organization_id,
                                                      other.name)]
    if relation not in RELATIONS:
        errors["relation"] = [f"与户主关系应为：{'、'.join(RELATIONS)}"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    m = Member(organization_id=household.organization_id, household_id=household.id, name=name.strip(),
               id_number=number, birth_date=birth, sex=sex, relation=relation, phone=phone)
    db.session.add(m)
    db.session.flush()
    if head or relation == "户主":
        household.head_id = m.id
        m.relation = "户主"
    db.session.flush()
    return m


def status_on(member: Member, date: dt.date) -> str:
    """Membership status as of a date, derived from the events."""
    return _status_from(member.events, date)


def _status_from(events, date: dt.date) -> str:
    status = MemberStatus.PENDING
    for e in sorted(events, key=lambda e: (e.date, e.id or 0)):
        if e.date > date:
            break
        if e.kind == "confirmed" or e.kind == "restored":
            status = MemberStatus.MEMBER
        elif e.kind == "benefit_granted":
            status = MemberStatus.BENEFIT
        elif e.kind in LOSS_EVENTS:
            status = MemberStatus.FORMER
    return status


def record_membership_event(member: Member, kind: str, *, date: dt.date, evidence: str, user: User | None = None,
                            votes_for: int | None = None, votes_total: int | None = None,
                            today: dt.date | None = None) -> MembershipEvent:
    if kind not in MEMBERSHIP_EVENTS:
        raise ValidationFailed.field("kind", "成员身份变动类型不正确")
    if not (evidence or "").strip():
        raise ValidationFailed.field("evidence", "请填写依据（如成员大会决议编号、死亡证明）")
    if date > (today or clock.today()):
        raise ValidationFailed.field("date", "日期不能晚于今天")
    current = status_on(member, date)
    if kind == "confirmed" and current == MemberStatus.MEMBER:
        raise InvalidState(f"{member.name} 已是成员")
    if kind in LOSS_EVENTS and current not in (MemberStatus.MEMBER, MemberStatus.BENEFIT):
        raise InvalidState(f"{member.name} 当前不是成员，不能登记丧失成员身份")
    if kind == "benefit_granted":
        if current == "member":
            raise InvalidState(f"{member.name} 已是成员，无需授予非成员权益")
        if not votes_total or votes_for is None or votes_for < 0 or votes_for > votes_total:
            raise ValidationFailed.field("votes_for", "请填写同意票数和全体成员数")
        if votes_for * 4 < votes_total * 3:
            need = -(-votes_total * 3 // 4)
            raise ValidationFailed.field(
                "votes_for", f"非成员享有权益须经全体成员四分之三以上同意：需要 {need} 票，实际 {votes_for} 票")
    e = MembershipEvent(member_id=member.id, kind=kind, date=date, evidence=evidence.strip(),
                        votes_for=votes_for, votes_total=votes_total, created_by_id=getattr(user, "id", None))
    if (member.status == MemberStatus.FORMER
            and _status_from([*member.events, e], dt.date.max) != MemberStatus.FORMER
            and db.session.scalar(sa.select(Member.id).where(Member.id_number == member.id_number,
                                                             Member.id != member.id,
                                                             Member.status != MemberStatus.FORMER).limit(1))):
        # back on this roster while another holds her (she joined there after leaving): one roster at a time
        # (RULES §13: never where — the township resolves it)
        raise InvalidState(f"{member.name}（身份证号 {member.id_number}）{REGISTERED_ELSEWHERE}")
    db.session.add(e)
    db.session.flush()
    db.session.refresh(member, ["events"])
    member.status = status_on(member, dt.date.max)
    db.session.flush()
    audit.log("member.event", user=user, target=str(member.id), kind=kind, date=str(date))
    if member.status == MemberStatus.FORMER and member.user_id:
        _end_portal_access(member, user)
    return e


def _end_portal_access(member: Member, by: User | None) -> None:
    """RULES §13: a member's portal access ends with their membership: the member role on this organization goes
    and every session of the linked account ends (other roles the person holds stay)."""
    account = db.session.get(User, member.user_id)
    gone = [r for r in account.roles if r.role == "member" and r.organization_id == member.organization_id]
    for r in gone:
        revoke_role(account, r, by=by)
    end_sessions(account)
    audit.log("user.revoke_role", user=by, target=account.username, role="member", reason="membership_ended")


# ---------------------------------------------------------------- roster import / export


@dataclass
class RosterRow:
    line: int
    household_number: str
    head_name: str
    head_id: str
    name: str
    id_number: str
    relation: str
    phone: str = ""


@dataclass
class RosterCheck:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def read_roster(data: bytes, filename: str) -> list[dict]:
    """Rows of a roster file (xlsx or CSV in UTF-8/GBK) as dicts keyed by the header names."""
    from coop.services.file_limits import check_csv, check_xlsx, decode_csv

    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        check_xlsx(data)  # size and rows before openpyxl sees it
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [["" if c is None else str(c).strip() for c in row]
                    for row in wb.active.iter_rows(values_only=True)]
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException…: not a 500
            raise ValidationFailed.field("file", f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None
    else:
        text = decode_csv(data, "无法识别文件编码，请保存为 UTF-8 或 GBK 的 CSV，或 xlsx")
        check_csv(text)
        try:
            rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
        except csv.Error as exc:  # e.g. a NUL byte: a binary file that is not a CSV
            raise ValidationFailed.field("file", f"无法读取 CSV 文件：{exc}") from None
    rows = [r for r in rows if any(r)]
    if not rows:
        raise ValidationFailed.field("file", "文件是空的")
    header = rows[0]
    missing = [c for c in ("户主", "户主身份证", "成员", "身份证", "与户主关系") if c not in header]
    if missing:
        raise ValidationFailed.field("file", f"缺少列：{'、'.join(missing)}（第一行应为表头）")
    return [dict(zip(header, r + [""] * (len(header) - len(r)))) | {"_line": i} for i, r in enumerate(rows[1:], start=2)]


def _roster_row(rec: dict) -> RosterRow:
    return RosterRow(rec["_line"], rec.get("户号", ""), rec.get("户主", ""), rec.get("户主身份证", "").upper(),
                     rec.get("成员", ""), rec.get("身份证", "").upper(), rec.get("与户主关系", "") or "其他",
                     rec.get("联系电话", ""))


def check_roster(org: Organization, records: list[dict], key: str | None = None) -> RosterCheck:
    """Dry run: every problem, row by row; nothing is written. With the file's `key` (`file_key`), a file that
    was imported already has that one problem (line 0) instead of every row being "already registered"."""
    result = RosterCheck()
    if key and (msg := already_imported(org, ROSTER_ACTION, key)):
        result.rows = [_roster_row(rec) for rec in records]
        result.problems = [(0, msg)]
        return result
    seen: dict[str, int] = {}
    heads: dict[str, str] = {}  # head id number -> household key
    ids = {_roster_row(rec).id_number for rec in records}
    existing = {}
    for chunk in _chunks(sorted(ids), 500):  # only the numbers of the file: other villages' rows never leave the db
        existing.update({n: (o, name) for n, o, name in db.session.execute(
            sa.select(Member.id_number, Member.organization_id, Member.name)
            .where(Member.id_number.in_(chunk), _registered(org.id)))})
    for rec in records:
        line = rec["_line"]
        row = _roster_row(rec)
        if not row.name:
            result.problems.append((line, "成员姓名为空"))
        for label, value in (("身份证", row.id_number), ("户主身份证", row.head_id)):
            try:
                check_id_number(value)
            except ValueError as exc:
                result.problems.append((line, f"{label}：{exc}"))
        if row.id_number in seen:
            result.problems.append((line, f"身份证号 {row.id_number} 与第 {seen[row.id_number]} 行重复"))
        seen.setdefault(row.id_number, line)
        if row.id_number in existing:
            o, name = existing[row.id_number]
            result.problems.append((line, _duplicate_message(row.id_number, o, org.id, name, row=True)))
        if row.relation not in RELATIONS:
            result.problems.append((line, f"与户主关系“{row.relation}”不正确，应为：{'、'.join(RELATIONS)}"))
        result.rows.append(row)
    member_ids = {r.id_number for r in result.rows}
    for row in result.rows:
        if row.head_id not in member_ids:
            result.problems.append((row.line, f"户主 {row.head_name}（{row.head_id}）不在名册中"))
        elif row.relation == "户主" and row.id_number != row.head_id:
            result.problems.append((row.line, "与户主关系为“户主”，但身份证号与户主身份证不同"))
        heads.setdefault(row.head_id, row.household_number)
    for row in result.rows:
        if row.id_number == row.head_id and row.relation != "户主":
            result.problems.append((row.line, "户主本人的“与户主关系”应填“户主”"))
    # 户号 must be new to the village and name one household of the file (import would fail on it otherwise)
    used = set(db.session.scalars(sa.select(Household.number).where(Household.organization_id == org.id)))
    numbers: dict[str, str] = {}
    for row in result.rows:
        n = row.household_number
        if not n:
            continue
        if n in used:
            result.problems.append((row.line, f"户号 {n} 本村已存在"))
        elif numbers.setdefault(n, row.head_id) != row.head_id:
            result.problems.append((row.line, f"户号 {n} 已用于另一户主的户"))
    result.problems.sort()

    result.problems = cap(result.problems, lambda n: (10**9, f"另有 {n} 处问题未列出，请先改正以上问题"))
    return result


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def import_roster(org: Organization, records: list[dict], *, user: User | None, key: str,
                  confirm_date: dt.date | None = None, evidence: str | None = None,
                  today: dt.date | None = None) -> list[Household]:
    """Import a clean roster file whose SHA-256 is `key`. Flushes only: the caller commits once, so the file goes
    in whole or not at all; the key goes into the audit log, so the same file is refused the second time. With
    `confirm_date`, every person is confirmed as a member."""
    if confirm_date and confirm_date > (today or clock.today()):
        raise ValidationFailed.field("confirm_date", "确认日期不能晚于今天")
    lock_for_import(org)  # two imports into one village: the second waits, then sees the first
    if msg := already_imported(org, ROSTER_ACTION, key):
        raise InvalidState(msg)
    check = check_roster(org, records)
    if not check.ok:
        raise ValidationFailed("名册有错误，未导入", {"rows": {str(line): [msg] for line, msg in check.problems}})
    delay = int(os.environ.get(ROSTER_SLEEP_ENV) or 0) / 1000  # milliseconds
    households: dict[str, Household] = {}
    for row in sorted(check.rows, key=lambda r: (r.head_id, r.id_number != r.head_id)):
        h = households.get(row.head_id)
        if h is None:
            h = create_household(org, number=row.household_number or None)
            households[row.head_id] = h
        m = add_member(h, name=row.name, id_number=row.id_number, relation=row.relation, phone=row.phone or None,
                       head=row.id_number == row.head_id)
        if confirm_date:
            record_membership_event(m, "confirmed", date=confirm_date, evidence=evidence or "成员大会确认",
                                    user=user, today=today)
        if delay:
            time.sleep(delay)
    audit.log(ROSTER_ACTION, user=user, org=org, target=key, key=key, rows=len(check.rows),
              households=len(households))
    db.session.flush()
    return list(households.values())


def export_roster(org: Organization) -> list[list[str]]:
    """The roster in the import layout (header first)."""
    out = [list(ROSTER_COLUMNS)]
    q = (sa.select(Member).join(Household, Household.id == Member.household_id)
         .where(Member.organization_id == org.id).order_by(Household.number, Member.relation != "户主", Member.id))
    for m in db.session.scalars(q):
        head = m.household.head
        out.append([m.household.number, head.name if head else "", head.id_number if head else "", m.name,
                    m.id_number, m.relation, "男" if m.sex == "M" else "女", m.birth_date.isoformat(), m.phone or "",
                    {MemberStatus.MEMBER: "成员", MemberStatus.BENEFIT: "非成员（享有权益）", MemberStatus.FORMER: "已丧失",
                     MemberStatus.PENDING: "待确认"}[m.status]])
    return out
