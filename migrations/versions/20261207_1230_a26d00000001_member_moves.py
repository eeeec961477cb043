"""a person who lost membership by joining another collective may be registered there

Revision ID: a26d00000001
Revises: a26c00000001
Create Date: 2026-12-07 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a26d00000001'
down_revision = 'a26c00000001'
branch_labels = None
depends_on = None


def upgrade():
    # every row meets the new rule already (the old one was stricter): no data to change
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_constraint("uq_members_id_number", type_="unique")
        batch_op.create_index("ix_members_id_number", ["id_number"], unique=False)
        batch_op.create_index("ux_members_current_id_number", ["id_number"], unique=True,
                              postgresql_where=sa.text("status <> 'former'"),
                              sqlite_where=sa.text("status <> 'former'"))


def downgrade():
    # refused by the database where one person has rows on two rosters (a move): such data cannot go back
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_index("ux_members_current_id_number")
        batch_op.drop_index("ix_members_id_number")
        batch_op.create_unique_constraint("uq_members_id_number", ["id_number"])
