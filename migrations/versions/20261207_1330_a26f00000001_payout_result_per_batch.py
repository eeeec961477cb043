"""a bank result file is recognised per batch: a re-issued batch may settle with the same bytes

Revision ID: a26f00000001
Revises: a26e00000001
Create Date: 2026-12-07 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a26f00000001'
down_revision = 'a26e00000001'
branch_labels = None
depends_on = None


def upgrade():
    # no data changes: every stored digest stays with its batch
    with op.batch_alter_table("payout_batches") as batch_op:
        batch_op.drop_constraint("uq_payout_batches_result_sha256", type_="unique")
        batch_op.create_index("ix_payout_batches_result_sha256", ["result_sha256"], unique=False)


def downgrade():
    # refused by the database where two batches settled with the same bytes
    with op.batch_alter_table("payout_batches") as batch_op:
        batch_op.drop_index("ix_payout_batches_result_sha256")
        batch_op.create_unique_constraint("uq_payout_batches_result_sha256", ["result_sha256"])
