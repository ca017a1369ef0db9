"""letter versions and review: corrections as new versions of a sent letter, review before sending

Revision ID: dbc8512f4636
Revises: f7df824378fa
Create Date: 2026-11-23 12:43:31.031630

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dbc8512f4636'
down_revision = 'f7df824378fa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('corrects_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('needs_review', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_letters_complaint_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_letters_complaint_id'), ['complaint_id', 'task_id', 'version'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_corrects_id_letters'), 'letters', ['corrects_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_letters_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_letters_corrects_id_letters'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_letters_complaint_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_letters_complaint_id'), ['complaint_id', 'task_id'])
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('needs_review')
        batch_op.drop_column('corrects_id')
        batch_op.drop_column('version')

