"""#17 keyed audit chain, hostile inputs

The audit log gets the id of the key each entry's MAC was made with; the head remembers the key of the last seal.
Existing entries keep their plain SHA-256 links (key_id NULL): the first seal after this upgrade writes an
`audit.anchor` entry, keyed, that continues from the plain head.

Revision ID: a17a00000001
Revises: a16a00000001
Create Date: 2026-12-07 03:04:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a17a00000001'
down_revision = 'a16a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('key_id')
