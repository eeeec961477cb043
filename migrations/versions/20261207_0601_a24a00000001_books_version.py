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
    # no row is version 0: existing books need none until their first change
    op.create_table(
        "books_versions",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("organization_id"),
    )


def downgrade():
    op.drop_table("books_versions")
