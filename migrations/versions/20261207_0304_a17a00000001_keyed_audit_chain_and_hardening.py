"""#17 keyed audit chain, hostile inputs

Revision ID: a17a00000001
Revises: a16a00000001
Create Date: 2026-12-07 03:04:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a17a00000001'
down_revision = 'a16a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
