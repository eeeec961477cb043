"""#18 the house: status values, boundaries

Revision ID: a18a00000001
Revises: a24a00000002
Create Date: 2026-12-07 06:03:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a18a00000001'
down_revision = 'a24a00000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
