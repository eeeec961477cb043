"""#15 the December sequence and distribution rules

Revision ID: a15a00000001
Revises: a14a00000001
Create Date: 2026-12-07 03:02:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15a00000001'
down_revision = 'a14a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
