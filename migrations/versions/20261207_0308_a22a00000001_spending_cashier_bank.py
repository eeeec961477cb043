"""#22 报账, 出纳, bank reconciliation, 分红代发

Revision ID: a22a00000001
Revises: a21a00000001
Create Date: 2026-12-07 03:08:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a22a00000001'
down_revision = 'a21a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spending_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('finance_group_above', sa.BigInteger(), nullable=False),
    sa.Column('meeting_above', sa.BigInteger(), nullable=False),
    sa.Column('township_review', sa.Boolean(), nullable=False),
    sa.Column('cash_payment_limit', sa.BigInteger(), nullable=False),
    sa.Column('request_required_above', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_spending_policies_county_id_counties'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spending_policies')),
    sa.UniqueConstraint('county_id', name=op.f('uq_spending_policies_county_id'))
    )
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('bank_name', sa.String(length=60), nullable=False),
    sa.Column('account_no', sa.String(length=40), nullable=True),
    sa.Column('personal', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bank_accounts_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('organization_id', 'account_code', name=op.f('uq_bank_accounts_organization_id_account_code'))
    )
    op.create_table('bank_column_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('bank_name', sa.String(length=60), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bank_column_mappings_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_column_mappings')),
    sa.UniqueConstraint('organization_id', 'bank_name', name=op.f('uq_bank_column_mappings_organization_id_bank_name'))
    )
    op.create_table('bank_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('bank_name', sa.String(length=60), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('closing_balance', sa.BigInteger(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_bank_statements_imported_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bank_statements_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statements')),
    sa.UniqueConstraint('organization_id', 'sha256', name=op.f('uq_bank_statements_organization_id_sha256'))
    )
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statements_organization_id'), ['organization_id'], unique=False)

    op.create_table('cash_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=False),
    sa.Column('book', sa.BigInteger(), nullable=False),
    sa.Column('difference', sa.BigInteger(), nullable=False),
    sa.Column('counted_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['counted_by_id'], ['users.id'], name=op.f('fk_cash_counts_counted_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_cash_counts_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_counts'))
    )
    with op.batch_alter_table('cash_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_counts_organization_id'), ['organization_id'], unique=False)

    op.create_table('reconciliations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('bank_balance', sa.BigInteger(), nullable=False),
    sa.Column('book_balance', sa.BigInteger(), nullable=False),
    sa.Column('adjusted_bank', sa.BigInteger(), nullable=False),
    sa.Column('adjusted_book', sa.BigInteger(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('adjusted_bank = adjusted_book', name=op.f('ck_reconciliations_agree')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_reconciliations_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_reconciliations_saved_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliations')),
    sa.UniqueConstraint('organization_id', 'account_code', 'year', 'month', name=op.f('uq_reconciliations_organization_id_account_code_year_month'))
    )
    op.create_table('bank_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('counterparty', sa.String(length=100), nullable=True),
    sa.Column('summary', sa.String(length=200), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_bank_statement_lines_amount')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bank_statement_lines_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['bank_statements.id'], name=op.f('fk_bank_statement_lines_statement_id_bank_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statement_lines'))
    )
    with op.batch_alter_table('bank_statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statement_lines_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_statement_lines_statement_id'), ['statement_id'], unique=False)

    op.create_table('cashier_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cashier_signatures_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_cashier_signatures_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cashier_signatures')),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_cashier_signatures_voucher_id'))
    )
    op.create_table('household_bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('bank_name', sa.String(length=60), nullable=False),
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_bank_accounts_household_id_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_household_bank_accounts_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_bank_accounts')),
    sa.UniqueConstraint('household_id', name=op.f('uq_household_bank_accounts_household_id'))
    )
    with op.batch_alter_table('household_bank_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_bank_accounts_organization_id'), ['organization_id'], unique=False)

    op.create_table('spending_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('handler', sa.String(length=50), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('payee', sa.String(length=100), nullable=False),
    sa.Column('payee_personal', sa.Boolean(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.Column('chain', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending','approved','vetoed','rejected','vouchered')", name=op.f('ck_spending_requests_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_spending_requests_amount')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_spending_requests_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_spending_requests_requester_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_spending_requests_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spending_requests')),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_spending_requests_voucher_id'))
    )
    with op.batch_alter_table('spending_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spending_requests_organization_id'), ['organization_id'], unique=False)

    op.create_table('bank_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('statement_line_id', sa.Integer(), nullable=False),
    sa.Column('voucher_line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=6), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('auto','manual')", name=op.f('ck_bank_matches_kind')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bank_matches_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_line_id'], ['bank_statement_lines.id'], name=op.f('fk_bank_matches_statement_line_id_bank_statement_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bank_matches_user_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_line_id'], ['voucher_lines.id'], name=op.f('fk_bank_matches_voucher_line_id_voucher_lines'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_matches')),
    sa.UniqueConstraint('statement_line_id', name=op.f('uq_bank_matches_statement_line_id')),
    sa.UniqueConstraint('voucher_line_id', name=op.f('uq_bank_matches_voucher_line_id'))
    )
    with op.batch_alter_table('bank_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_matches_organization_id'), ['organization_id'], unique=False)

    op.create_table('payout_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('pay_from', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('result_sha256', sa.String(length=64), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('exported','settled')", name=op.f('ck_payout_batches_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payout_batches_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payout_batches_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['distribution_plans.id'], name=op.f('fk_payout_batches_plan_id_distribution_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_payout_batches_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches')),
    sa.UniqueConstraint('result_sha256', name=op.f('uq_payout_batches_result_sha256'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_batches_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_batches_plan_id'), ['plan_id'], unique=False)

    op.create_table('spending_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('meeting_date', sa.Date(), nullable=True),
    sa.Column('record', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision IN ('approve','veto','reject')", name=op.f('ck_spending_approvals_decision')),
    sa.ForeignKeyConstraint(['request_id'], ['spending_requests.id'], name=op.f('fk_spending_approvals_request_id_spending_requests'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_spending_approvals_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spending_approvals')),
    sa.UniqueConstraint('request_id', 'step', name=op.f('uq_spending_approvals_request_id_step'))
    )
    op.create_table('spending_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['spending_requests.id'], name=op.f('fk_spending_scans_request_id_spending_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spending_scans'))
    )
    with op.batch_alter_table('spending_scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spending_scans_request_id'), ['request_id'], unique=False)

    op.create_table('payout_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('dividend_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('in_flight', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('account_no', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status IN ('pending','paid','failed')", name=op.f('ck_payout_items_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payout_items_amount')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_items_batch_id_payout_batches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['dividend_id'], ['household_dividends.id'], name=op.f('fk_payout_items_dividend_id_household_dividends'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_payout_items_household_id_households'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('batch_id', 'seq', name=op.f('uq_payout_items_batch_id_seq')),
    sa.UniqueConstraint('in_flight', name=op.f('uq_payout_items_in_flight'))
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_dividend_id'), ['dividend_id'], unique=False)



def downgrade():
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_items_dividend_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('spending_scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spending_scans_request_id'))

    op.drop_table('spending_scans')
    op.drop_table('spending_approvals')
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_batches_plan_id'))
        batch_op.drop_index(batch_op.f('ix_payout_batches_organization_id'))

    op.drop_table('payout_batches')
    with op.batch_alter_table('bank_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_matches_organization_id'))

    op.drop_table('bank_matches')
    with op.batch_alter_table('spending_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spending_requests_organization_id'))

    op.drop_table('spending_requests')
    with op.batch_alter_table('household_bank_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_bank_accounts_organization_id'))

    op.drop_table('household_bank_accounts')
    op.drop_table('cashier_signatures')
    with op.batch_alter_table('bank_statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statement_lines_statement_id'))
        batch_op.drop_index(batch_op.f('ix_bank_statement_lines_organization_id'))

    op.drop_table('bank_statement_lines')
    op.drop_table('reconciliations')
    with op.batch_alter_table('cash_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cash_counts_organization_id'))

    op.drop_table('cash_counts')
    with op.batch_alter_table('bank_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statements_organization_id'))

    op.drop_table('bank_statements')
    op.drop_table('bank_column_mappings')
    op.drop_table('bank_accounts')
    op.drop_table('spending_policies')
