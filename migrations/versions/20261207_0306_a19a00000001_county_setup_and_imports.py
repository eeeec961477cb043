"""#19 county set-up, imports, portal accounts

Revision ID: a19a00000001
Revises: a20a00000001
Create Date: 2026-12-07 03:06:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a19a00000001'
down_revision = 'a20a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
