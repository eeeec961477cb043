"""#21 三资台账: contracts, assets, resources, inventory

Revision ID: a21a00000001
Revises: a19a00000001
Create Date: 2026-12-07 03:07:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a21a00000001'
down_revision = 'a19a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
