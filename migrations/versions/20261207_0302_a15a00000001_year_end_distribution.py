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




OLD_WHERE = "status = 'posted'"
NEW_WHERE = "status = 'posted' AND NOT supplementary"


def upgrade():
    op.create_table('distribution_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('reserve_base', sa.String(length=20), nullable=True),
    sa.Column('dividend_mode', sa.String(length=20), nullable=True),
    sa.Column('collective_mode', sa.String(length=20), nullable=True),
    sa.Column('cadre_min_days', sa.Integer(), nullable=True),
    sa.Column('cadre_tax_rate', sa.Integer(), nullable=True),
    sa.Column('materials_days', sa.Integer(), nullable=True),
    sa.Column('notice_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(county_id IS NULL) <> (organization_id IS NULL)", name=op.f('ck_distribution_policies_owner')),
    sa.CheckConstraint("reserve_base IS NULL OR reserve_base IN ('net_profit','distributable')", name=op.f('ck_distribution_policies_reserve_base')),
    sa.CheckConstraint("dividend_mode IS NULL OR dividend_mode IN ('per_share','pool')", name=op.f('ck_distribution_policies_dividend_mode')),
    sa.CheckConstraint("collective_mode IS NULL OR collective_mode IN ('reserve','retain')", name=op.f('ck_distribution_policies_collective_mode')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_distribution_policies_county_id_counties'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_distribution_policies_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_policies')),
    sa.UniqueConstraint('county_id', name=op.f('uq_distribution_policies_county_id')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_distribution_policies_organization_id'))
    )
    with op.batch_alter_table('distribution_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplementary', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('materials_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('notice_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('pay_from', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('figures', sa.Text(), nullable=True))
        batch_op.drop_index('uq_distribution_plans_posted', sqlite_where=sa.text(OLD_WHERE), postgresql_where=sa.text(OLD_WHERE))
    with op.batch_alter_table('distribution_plans', schema=None) as batch_op:
        batch_op.alter_column('supplementary', server_default=None)
        batch_op.create_index('uq_distribution_plans_posted', ['organization_id', 'year'], unique=True,
                              sqlite_where=sa.text(NEW_WHERE), postgresql_where=sa.text(NEW_WHERE))
    with op.batch_alter_table('distribution_cadres', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('distribution_cadres', schema=None) as batch_op:
        batch_op.drop_column('tax')
    with op.batch_alter_table('distribution_plans', schema=None) as batch_op:
        batch_op.drop_index('uq_distribution_plans_posted', sqlite_where=sa.text(NEW_WHERE), postgresql_where=sa.text(NEW_WHERE))
    with op.batch_alter_table('distribution_plans', schema=None) as batch_op:
        batch_op.drop_column('figures')
        batch_op.drop_column('pay_from')
        batch_op.drop_column('notice_date')
        batch_op.drop_column('materials_date')
        batch_op.drop_column('supplementary')
        batch_op.create_index('uq_distribution_plans_posted', ['organization_id', 'year'], unique=True,
                              sqlite_where=sa.text(OLD_WHERE), postgresql_where=sa.text(OLD_WHERE))
    op.drop_table('distribution_policies')
