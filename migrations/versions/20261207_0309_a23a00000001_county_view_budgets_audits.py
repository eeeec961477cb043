"""#23 county view: consolidation, returns, budgets, audit cases

Revision ID: a23a00000001
Revises: a22a00000001
Create Date: 2026-12-07 03:09:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a23a00000001'
down_revision = 'a22a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "county_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("base_year", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("factor >= 1", name=op.f("ck_county_targets_factor")),
        sa.CheckConstraint("years BETWEEN 1 AND 10", name=op.f("ck_county_targets_years")),
        sa.ForeignKeyConstraint(["county_id"], ["counties.id"], name=op.f("fk_county_targets_county_id_counties"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_county_targets")),
        sa.UniqueConstraint("county_id", name=op.f("uq_county_targets_county_id")),
    )


def downgrade():
    op.drop_table("county_targets")
