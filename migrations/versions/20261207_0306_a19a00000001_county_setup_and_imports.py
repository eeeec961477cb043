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
    # the column mapping of an organization's chart / opening-balance import files, remembered (coop.models.setup)
    op.create_table(
        'import_mappings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('mapping', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('chart','opening')", name=op.f('ck_import_mappings_kind')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_import_mappings_organization_id_organizations'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
        sa.UniqueConstraint('organization_id', 'kind', name=op.f('uq_import_mappings_organization_id_kind')),
    )


def downgrade():
    op.drop_table('import_mappings')
