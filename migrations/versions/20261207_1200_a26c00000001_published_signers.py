"""published sheets keep their signature block (RULES §10: published sheets never change)

Revision ID: a26c00000001
Revises: a26b00000001
Create Date: 2026-12-07 12:00:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a26c00000001'
down_revision = 'a26b00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("disclosures") as batch_op:
        batch_op.add_column(sa.Column("signers", sa.Text(), nullable=True))
    # sheets already published: the block as the page showed it until now (their PDFs keep the day's own)
    conn = op.get_bind()

    def name(user_id):
        if user_id is None:
            return ""
        return conn.execute(sa.text("SELECT display_name FROM users WHERE id = :i"), {"i": user_id}).scalar() or ""

    def holders(org_id, role):
        return "、".join(conn.execute(sa.text(
            "SELECT u.display_name FROM users u JOIN role_assignments r ON r.user_id = u.id"
            " WHERE r.organization_id = :o AND r.role = :r ORDER BY u.id"), {"o": org_id, "r": role}).scalars())

    rows = conn.execute(sa.text(
        "SELECT d.id, d.organization_id, d.created_by_id, d.reviewed_by_id, d.approved_by_id,"
        " o.legal_representative, t.name FROM disclosures d JOIN organizations o ON o.id = d.organization_id"
        " JOIN townships t ON t.id = o.township_id WHERE d.status IN ('published', 'superseded')")).all()
    for sheet_id, org_id, created_by, reviewed_by, approved_by, legal, township in rows:
        auditor = name(approved_by)
        block = [["制表", name(created_by)], ["会计", holders(org_id, "accountant")],
                 ["民主理财小组", name(reviewed_by)], ["村负责人", legal or holders(org_id, "reviewer")],
                 ["审核单位", f"{township}经管站" + (f"（{auditor}）" if auditor else "")]]
        conn.execute(sa.text("UPDATE disclosures SET signers = :s WHERE id = :i"),
                     {"s": json.dumps(block, ensure_ascii=False), "i": sheet_id})


def downgrade():
    with op.batch_alter_table("disclosures") as batch_op:
        batch_op.drop_column("signers")
