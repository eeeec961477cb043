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
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("entitled", sa.Integer(), nullable=True),
        sa.Column("present", sa.Integer(), nullable=True),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("abstained", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('draft','approved')", name=op.f("ck_budgets_status")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"], name=op.f("fk_budgets_approved_by_id_users"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_budgets_organization_id_organizations"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("organization_id", "year", name=op.f("uq_budgets_organization_id_year")),
    )
    op.create_table(
        "budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_budget_lines_budget_id_budgets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_lines")),
        sa.UniqueConstraint("budget_id", "account_code", name=op.f("uq_budget_lines_budget_id_account_code")),
    )
    op.create_table(
        "audit_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('regular','special','departure')", name=op.f("ck_audit_cases_kind")),
        sa.CheckConstraint("status IN ('open','closed','published')", name=op.f("ck_audit_cases_status")),
        sa.CheckConstraint("period_from <= period_to", name=op.f("ck_audit_cases_period")),
        sa.ForeignKeyConstraint(["opened_by_id"], ["users.id"], name=op.f("fk_audit_cases_opened_by_id_users"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_audit_cases_organization_id_organizations"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_cases")),
    )
    op.create_index(op.f("ix_audit_cases_organization_id"), "audit_cases", ["organization_id"], unique=False)
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["audit_cases.id"], name=op.f("fk_audit_findings_case_id_audit_cases"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
    )
    op.create_index(op.f("ix_audit_findings_case_id"), "audit_findings", ["case_id"], unique=False)
    op.create_table(
        "audit_finding_vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["audit_findings.id"],
                                name=op.f("fk_audit_finding_vouchers_finding_id_audit_findings"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"],
                                name=op.f("fk_audit_finding_vouchers_voucher_id_vouchers"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_finding_vouchers")),
        sa.UniqueConstraint("finding_id", "voucher_id", name=op.f("uq_audit_finding_vouchers_finding_id_voucher_id")),
    )
    op.create_index(op.f("ix_audit_finding_vouchers_voucher_id"), "audit_finding_vouchers", ["voucher_id"],
                    unique=False)
    op.create_table(
        "rectification_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["audit_findings.id"],
                                name=op.f("fk_rectification_items_finding_id_audit_findings"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_items")),
    )
    op.create_index(op.f("ix_rectification_items_finding_id"), "rectification_items", ["finding_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_rectification_items_finding_id"), table_name="rectification_items")
    op.drop_table("rectification_items")
    op.drop_index(op.f("ix_audit_finding_vouchers_voucher_id"), table_name="audit_finding_vouchers")
    op.drop_table("audit_finding_vouchers")
    op.drop_index(op.f("ix_audit_findings_case_id"), table_name="audit_findings")
    op.drop_table("audit_findings")
    op.drop_index(op.f("ix_audit_cases_organization_id"), table_name="audit_cases")
    op.drop_table("audit_cases")
    op.drop_table("budget_lines")
    op.drop_table("budgets")
    op.drop_table("county_targets")
