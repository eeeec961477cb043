"""211 应付款—应付收益 per household: each 分红清册 line keeps the counterparty its 211 line was posted with

Revision ID: a26e00000001
Revises: a26d00000001
Create Date: 2026-12-07 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a26e00000001'
down_revision = 'a26d00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household_dividends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payee', sa.String(length=100), nullable=True))
    # plans posted before: all their households share the one 211 line "应付收益", so payments net against it
    op.execute(sa.text("UPDATE household_dividends SET payee = '应付收益'"))
    with op.batch_alter_table('household_dividends', schema=None) as batch_op:
        batch_op.alter_column('payee', existing_type=sa.String(length=100), nullable=False)


def downgrade():
    with op.batch_alter_table('household_dividends', schema=None) as batch_op:
        batch_op.drop_column('payee')
