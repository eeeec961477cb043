"""#14 posting roles, code schemes, counterparties

Revision ID: a14a00000001
Revises: 3d313bb2c3fb
Create Date: 2026-12-07 03:01:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14a00000001'
down_revision = '3d313bb2c3fb'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
