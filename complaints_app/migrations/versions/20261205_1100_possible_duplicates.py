"""possible duplicates: the same registration twice within minutes is marked on both; "merged"

Revision ID: 8e4b2c6d9f10
Revises: 5d0a1f3e7c21
Create Date: 2026-12-05 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8e4b2c6d9f10'
down_revision = '5d0a1f3e7c21'
branch_labels = None
depends_on = None

OLD = "status IN ('open', 'escalated', 'awaiting_customer', 'resolved', 'closed', 'withdrawn')"
NEW = "status IN ('open', 'escalated', 'awaiting_customer', 'resolved', 'closed', 'withdrawn', 'merged')"


def upgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('possible_duplicate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_complaints_possible_duplicate_id_complaints'), 'complaints',
                                    ['possible_duplicate_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_complaints_merged_into_id_complaints'), 'complaints',
                                    ['merged_into_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_complaints_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(NEW))
    # A big table: on PostgreSQL the index is built without locking out writes.
    with op.get_context().autocommit_block():
        op.create_index('ix_complaints_content', 'complaints', ['created_by_id', 'content_hash'], unique=False,
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index('ix_complaints_content', table_name='complaints', postgresql_concurrently=True)
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_complaints_status'), type_='check')
        batch_op.create_check_constraint('status', sa.text(OLD))
        batch_op.drop_constraint(batch_op.f('fk_complaints_merged_into_id_complaints'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_complaints_possible_duplicate_id_complaints'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('possible_duplicate_id')
        batch_op.drop_column('content_hash')
