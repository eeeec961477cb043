"""#24 posting speed on PostgreSQL

Revision ID: a24a00000002
Revises: a24a00000001
Create Date: 2026-12-07 06:02:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a24a00000002'
down_revision = 'a24a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
