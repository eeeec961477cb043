"""#20 to-do, batch steps, voucher templates, questions

Revision ID: a20a00000001
Revises: a17a00000001
Create Date: 2026-12-07 03:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a20a00000001'
down_revision = 'a17a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('voucher_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('word', sa.String(length=4), nullable=False),
    sa.Column('lines', sa.Text(), nullable=False),
    sa.Column('monthly', sa.Boolean(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('day IS NULL OR (day BETWEEN 1 AND 28)', name=op.f('ck_voucher_templates_day')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_voucher_templates_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_voucher_templates_organization_id_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_templates')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_voucher_templates_organization_id_name'))
    )
    with op.batch_alter_table('voucher_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_templates_organization_id'), ['organization_id'], unique=False)

    op.create_table('voucher_template_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['voucher_templates.id'], name=op.f('fk_voucher_template_runs_template_id_voucher_templates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_template_runs_voucher_id_vouchers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_template_runs')),
    sa.UniqueConstraint('template_id', 'year', 'month', name=op.f('uq_voucher_template_runs_template_id_year_month'))
    )

    op.create_table('question_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_question_attachments_attachment_id_attachments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['question_id'], ['voucher_questions.id'], name=op.f('fk_question_attachments_question_id_voucher_questions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_attachments')),
    sa.UniqueConstraint('attachment_id', name=op.f('uq_question_attachments_attachment_id'))
    )
    with op.batch_alter_table('question_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_attachments_question_id'), ['question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('question_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_attachments_question_id'))
    op.drop_table('question_attachments')
    op.drop_table('voucher_template_runs')
    with op.batch_alter_table('voucher_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_templates_organization_id'))
    op.drop_table('voucher_templates')
