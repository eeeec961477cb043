"""County-level settings of the county's view (RULES §16): the 三年倍增 base year."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TimestampMixin

#: the 倍增 target is this many times the base year's 经营收益 (seed 001: 三年倍增)
DEFAULT_DOUBLING_FACTOR = 2
DEFAULT_DOUBLING_YEARS = 3


class CountyTarget(TimestampMixin, db.Model):
    """The county's 集体经济 doubling goal: target = factor × the base year's 经营收益, reached `years` later."""

    __tablename__ = "county_targets"
    __table_args__ = (sa.CheckConstraint("factor >= 1", name="factor"),
                      sa.CheckConstraint("years BETWEEN 1 AND 10", name="years"))
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False,
                                           unique=True)
    base_year: Mapped[int] = mapped_column(nullable=False)
    factor: Mapped[int] = mapped_column(nullable=False, default=DEFAULT_DOUBLING_FACTOR)
    years: Mapped[int] = mapped_column(nullable=False, default=DEFAULT_DOUBLING_YEARS)
