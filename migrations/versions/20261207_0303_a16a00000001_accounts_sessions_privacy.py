"""#16 accounts, sessions, privacy, concurrency

Revision ID: a16a00000001
Revises: a15a00000001
Create Date: 2026-12-07 03:03:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a16a00000001'
down_revision = 'a15a00000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
