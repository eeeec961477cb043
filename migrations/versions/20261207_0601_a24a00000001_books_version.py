"""#24 pages: the books version (page and PDF caches)

Revision ID: a24a00000001
Revises: a23a00000001
Create Date: 2026-12-07 06:01:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a24a00000001'
down_revision = 'a23a00000001'
branch_labels = None
depends_on = None


def upgrade():
    # existing books start at version 0: no cache holds anything of them yet
    op.add_column("organizations", sa.Column("books_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("books_version")
