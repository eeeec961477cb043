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
    pass


def downgrade():
    pass
