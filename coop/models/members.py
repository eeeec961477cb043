"""Members (成员), households (户), membership events, and the share register (RULES §6).

The register is an append-only list of ShareEvent rows; holdings on any date are the sum of the events up to it.
"""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import TimestampMixin, status_check


class MemberStatus(StrEnum):
    """Kept by the membership services from the events: pending until confirmed."""
    PENDING = "pending"
    MEMBER = "member"
    BENEFIT = "benefit"
    FORMER = "former"


MEMBERSHIP_EVENTS = {
    "confirmed": N_("成员大会确认成员身份"),
    "benefit_granted": N_("经全体成员四分之三以上同意享有权益（非成员）"),
    "lost_death": N_("死亡"),
    "lost_other_collective": N_("取得其他集体经济组织成员身份"),
    "lost_civil_servant": N_("成为公务员"),
    "lost_nationality": N_("丧失中华人民共和国国籍"),
    "lost_voluntary": N_("自愿书面退出"),
    "restored": N_("撤销错误登记（恢复）"),
}
RELATIONS = (N_("户主"), N_("配偶"), N_("子"), N_("女"), N_("儿媳"), N_("女婿"), N_("孙子"), N_("孙女"), N_("父亲"),
             N_("母亲"), N_("兄弟姐妹"), N_("其他"))

class Household(TimestampMixin, db.Model):
    """户: the unit a 股权证 is issued to."""

    __tablename__ = "households"
    __table_args__ = (sa.UniqueConstraint("organization_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    #: 户号 within the organization, e.g. "0012"
    number: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    head_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="RESTRICT", use_alter=True, name="fk_households_head_id_members"))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    #: the household this one was split from (分户), for history
    split_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)

    head: Mapped["Member | None"] = relationship(foreign_keys=[head_id], post_update=True)
    members: Mapped[list["Member"]] = relationship(back_populates="household", foreign_keys="Member.household_id",
                                                   order_by="Member.id")


class Member(TimestampMixin, db.Model):
    """A person on the roster: a member (成员), a former member, or a non-member holding benefit rights."""

    __tablename__ = "members"
    __table_args__ = (
        status_check(MemberStatus),
        sa.CheckConstraint("sex IN ('M','F')", name="sex"),
        # one person is on one roster at a time; a former member elsewhere (lost_other_collective) may join here
        sa.Index("ux_members_current_id_number", "id_number", unique=True,
                 postgresql_where=sa.text("status <> 'former'"), sqlite_where=sa.text("status <> 'former'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    #: 居民身份证号, validated with stdnum.cn.ric; on one roster at a time (a former member's row stays where it was)
    id_number: Mapped[str] = mapped_column(sa.String(18), nullable=False, index=True)
    sex: Mapped[str] = mapped_column(sa.String(1), nullable=False)
    birth_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    relation: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="其他")
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    #: current status, kept by the membership services from the events (pending until confirmed)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=MemberStatus.PENDING)
    #: the user account of a member who logs in to the member portal
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True)

    household: Mapped[Household] = relationship(back_populates="members", foreign_keys=[household_id])
    events: Mapped[list["MembershipEvent"]] = relationship(back_populates="member", order_by="MembershipEvent.date")


class MembershipEvent(TimestampMixin, db.Model):
    """成员身份 changes with date and evidence (农村集体经济组织法 arts. 11–18)."""

    __tablename__ = "membership_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: 成员大会决议 number, death certificate, …
    evidence: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    votes_for: Mapped[int | None] = mapped_column()
    votes_total: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    member: Mapped[Member] = relationship(back_populates="events")
