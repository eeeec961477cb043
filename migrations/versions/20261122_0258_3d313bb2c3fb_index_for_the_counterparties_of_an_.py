"""index for the counterparties of an organization

Revision ID: 3d313bb2c3fb
Revises: c0f8872a67c1
Create Date: 2026-11-22 02:58:14.494642

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d313bb2c3fb'
down_revision = 'c0f8872a67c1'
branch_labels = None
depends_on = None


def upgrade():
    # partial: only lines that carry a counterparty (bench/RESULTS.md, issue #10: the report picker's query)
    op.create_index('ix_voucher_lines_counterparty', 'voucher_lines', ['counterparty', 'voucher_id'], unique=False,
                    sqlite_where=sa.text('counterparty IS NOT NULL'),
                    postgresql_where=sa.text('counterparty IS NOT NULL'))


def downgrade():
    op.drop_index('ix_voucher_lines_counterparty', table_name='voucher_lines')
