"""#20 to-do, batch steps, voucher templates, questions

Revision ID: a20a00000001
Revises: a17a00000001
Create Date: 2026-12-07 03:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a20a00000001'
down_revision = 'a17a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
