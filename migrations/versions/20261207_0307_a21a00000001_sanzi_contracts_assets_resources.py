"""#21 三资台账: contracts, assets, resources, inventory

Revision ID: a21a00000001
Revises: a19a00000001
Create Date: 2026-12-07 03:07:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a21a00000001'
down_revision = 'a19a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('area', sa.BigInteger(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('east', sa.String(length=100), nullable=True),
    sa.Column('south', sa.String(length=100), nullable=True),
    sa.Column('west', sa.String(length=100), nullable=True),
    sa.Column('north', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('area > 0', name=op.f('ck_parcels_area')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_parcels_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
    sa.UniqueConstraint('organization_id', 'code', name=op.f('uq_parcels_organization_id_code'))
    )
    op.create_index(op.f('ix_parcels_organization_id'), 'parcels', ['organization_id'], unique=False)
    op.create_table('assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('operating', sa.Boolean(), nullable=False),
    sa.Column('use', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('acquired_date', sa.Date(), nullable=False),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.Column('life_months', sa.Integer(), nullable=False),
    sa.Column('residual_rate', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('opening_depreciation', sa.BigInteger(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('custodian', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('acquisition_voucher_id', sa.Integer(), nullable=True),
    sa.Column('disposed_date', sa.Date(), nullable=True),
    sa.Column('disposal_voucher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cost >= 0', name=op.f('ck_assets_cost')),
    sa.CheckConstraint('life_months >= 0', name=op.f('ck_assets_life')),
    sa.ForeignKeyConstraint(['acquisition_voucher_id'], ['vouchers.id'], name=op.f('fk_assets_acquisition_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['disposal_voucher_id'], ['vouchers.id'], name=op.f('fk_assets_disposal_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_assets_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_assets_organization_id_number'))
    )
    op.create_index(op.f('ix_assets_organization_id'), 'assets', ['organization_id'], unique=False)
    op.create_table('depreciation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_depreciation_runs_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_depreciation_runs_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_depreciation_runs')),
    sa.UniqueConstraint('organization_id', 'year', 'month', name=op.f('uq_depreciation_runs_organization_id_year_month'))
    )
    op.create_index(op.f('ix_depreciation_runs_organization_id'), 'depreciation_runs', ['organization_id'], unique=False)
    op.create_table('inventories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('publish_from', sa.Date(), nullable=True),
    sa.Column('publish_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_inventories_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_inventories_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventories')),
    sa.UniqueConstraint('organization_id', 'year', name=op.f('uq_inventories_organization_id_year'))
    )
    op.create_index(op.f('ix_inventories_organization_id'), 'inventories', ['organization_id'], unique=False)
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('counterparty', sa.String(length=100), nullable=False),
    sa.Column('counterparty_id_no', sa.String(length=30), nullable=True),
    sa.Column('object_desc', sa.String(length=200), nullable=True),
    sa.Column('parcel_id', sa.Integer(), nullable=True),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('annual_amount', sa.BigInteger(), nullable=False),
    sa.Column('frequency', sa.String(length=12), nullable=False),
    sa.Column('step_rate', sa.Integer(), nullable=False),
    sa.Column('step_years', sa.Integer(), nullable=False),
    sa.Column('in_advance', sa.Boolean(), nullable=False),
    sa.Column('deposit', sa.BigInteger(), nullable=False),
    sa.Column('appraisal', sa.BigInteger(), nullable=True),
    sa.Column('low_price_reason', sa.Text(), nullable=True),
    sa.Column('democratic_kind', sa.String(length=12), nullable=True),
    sa.Column('democratic_date', sa.Date(), nullable=True),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_total', sa.Integer(), nullable=True),
    sa.Column('publicity_days', sa.Integer(), nullable=True),
    sa.Column('scan_path', sa.String(length=300), nullable=True),
    sa.Column('scan_sha256', sa.String(length=64), nullable=True),
    sa.Column('income_account', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('terminated_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft','effective','expired','terminated')", name=op.f('ck_contracts_status')),
    sa.CheckConstraint('annual_amount >= 0', name=op.f('ck_contracts_amount')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_contracts_term')),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_contracts_asset_id_assets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_contracts_county_id_counties'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_contracts_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_contracts_parcel_id_parcels'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('county_id', 'number', name=op.f('uq_contracts_county_id_number'))
    )
    op.create_index(op.f('ix_contracts_organization_id'), 'contracts', ['organization_id'], unique=False)
    op.create_table('depreciation_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_depreciation_lines_asset_id_assets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['run_id'], ['depreciation_runs.id'], name=op.f('fk_depreciation_lines_run_id_depreciation_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_depreciation_lines')),
    sa.UniqueConstraint('run_id', 'asset_id', name=op.f('uq_depreciation_lines_run_id_asset_id'))
    )
    op.create_index(op.f('ix_depreciation_lines_asset_id'), 'depreciation_lines', ['asset_id'], unique=False)
    op.create_table('inventory_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inventory_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('parcel_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('book_value', sa.BigInteger(), nullable=False),
    sa.Column('result', sa.String(length=10), nullable=True),
    sa.Column('counted_value', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_inventory_items_asset_id_assets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inventory_id'], ['inventories.id'], name=op.f('fk_inventory_items_inventory_id_inventories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_inventory_items_parcel_id_parcels'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_items'))
    )
    op.create_index(op.f('ix_inventory_items_inventory_id'), 'inventory_items', ['inventory_id'], unique=False)
    op.create_table('contract_instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('accrual_voucher_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_contract_instalments_amount')),
    sa.ForeignKeyConstraint(['accrual_voucher_id'], ['vouchers.id'], name=op.f('fk_contract_instalments_accrual_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_instalments_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_instalments')),
    sa.UniqueConstraint('contract_id', 'seq', name=op.f('uq_contract_instalments_contract_id_seq'))
    )
    op.create_index(op.f('ix_contract_instalments_contract_id'), 'contract_instalments', ['contract_id'], unique=False)
    op.create_index(op.f('ix_contract_instalments_due_date'), 'contract_instalments', ['due_date'], unique=False)
    op.create_table('contract_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_contract_receipts_amount')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_receipts_contract_id_contracts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_contract_receipts_voucher_id_vouchers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_receipts'))
    )
    op.create_index(op.f('ix_contract_receipts_contract_id'), 'contract_receipts', ['contract_id'], unique=False)


def downgrade():
    op.drop_table('contract_receipts')
    op.drop_table('contract_instalments')
    op.drop_table('inventory_items')
    op.drop_table('depreciation_lines')
    op.drop_table('contracts')
    op.drop_table('inventories')
    op.drop_table('depreciation_runs')
    op.drop_table('assets')
    op.drop_table('parcels')
