"""工作量法 depreciation: an asset's estimated total workload and its unit, and the monthly actual workloads

Revision ID: a26a00000001
Revises: a25a00000001
Create Date: 2026-12-07 10:01:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a26a00000001'
down_revision = 'a25a00000001'
branch_labels = None
depends_on = None


def upgrade():
    # existing cards keep method 'straight' (年限平均法); both new columns stay empty for them
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_workload', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('workload_unit', sa.String(length=10), nullable=True))

    op.create_table('asset_workloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_asset_workloads_quantity')),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_workloads_asset_id_assets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_asset_workloads_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_workloads')),
    sa.UniqueConstraint('asset_id', 'year', 'month', name=op.f('uq_asset_workloads_asset_id_year_month'))
    )
    with op.batch_alter_table('asset_workloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_workloads_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_asset_workloads_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('asset_workloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_workloads_organization_id'))
        batch_op.drop_index(batch_op.f('ix_asset_workloads_asset_id'))
    op.drop_table('asset_workloads')
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_column('workload_unit')
        batch_op.drop_column('total_workload')
