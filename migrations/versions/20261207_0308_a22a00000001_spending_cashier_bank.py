"""#22 报账, 出纳, bank reconciliation, 分红代发

Revision ID: a22a00000001
Revises: a21a00000001
Create Date: 2026-12-07 03:08:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a22a00000001'
down_revision = 'a21a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
