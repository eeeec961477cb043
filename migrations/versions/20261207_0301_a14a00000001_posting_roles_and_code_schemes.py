"""#14 posting roles, code schemes, counterparties

Revision ID: a14a00000001
Revises: 3d313bb2c3fb
Create Date: 2026-12-07 03:01:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a14a00000001'
down_revision = '3d313bb2c3fb'
branch_labels = None
depends_on = None


def upgrade():
    # 科目对照: existing organizations need no rows (a role's default applies while that account is a leaf)
    op.create_table('posting_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_posting_roles_account_id_accounts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_posting_roles_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posting_roles')),
    sa.UniqueConstraint('organization_id', 'role', name=op.f('uq_posting_roles_organization_id_role'))
    )
    # code scheme per county: every existing county keeps 2-2-2, the only scheme so far
    with op.batch_alter_table('counties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_scheme', sa.String(length=12), server_default='2-2-2', nullable=False))
    # the cash/bank leaf a loan's money moves through, remembered from its forms
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_account', sa.String(length=20), nullable=True))
    with op.batch_alter_table('joint_projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator_bank_account', sa.String(length=20), nullable=True))
    with op.batch_alter_table('project_participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_account', sa.String(length=20), nullable=True))
    # opening balances by counterparty (辅助核算): one row per account and counterparty
    with op.batch_alter_table('opening_balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counterparty', sa.String(length=100), nullable=True))
        batch_op.drop_constraint('uq_opening_balances_organization_id_account_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_opening_balances_organization_id_account_id_counterparty'),
                                          ['organization_id', 'account_id', 'counterparty'])
    # four eyes: county/township vouchers wait for the village's review unless the village allows direct posting
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_may_post', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('opening_balances', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_opening_balances_organization_id_account_id_counterparty'),
                                 type_='unique')
        batch_op.create_unique_constraint('uq_opening_balances_organization_id_account_id',
                                          ['organization_id', 'account_id'])
        batch_op.drop_column('counterparty')
    with op.batch_alter_table('project_participants', schema=None) as batch_op:
        batch_op.drop_column('bank_account')
    with op.batch_alter_table('joint_projects', schema=None) as batch_op:
        batch_op.drop_column('operator_bank_account')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('bank_account')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('county_may_post')
    with op.batch_alter_table('counties', schema=None) as batch_op:
        batch_op.drop_column('code_scheme')
    op.drop_table('posting_roles')
