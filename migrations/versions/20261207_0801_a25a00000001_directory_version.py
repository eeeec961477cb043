"""#24 whole pages: the directory version, and questions, sheets, plans and claims in the books version

Revision ID: a25a00000001
Revises: a18a00000001
Create Date: 2026-12-07 08:01:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a25a00000001'
down_revision = 'a18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    # no row is version 0; the books versions need no data change (a page cached before this runs is in a process
    # that a deploy restarts)
    op.create_table(
        "directory_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("directory_versions")
