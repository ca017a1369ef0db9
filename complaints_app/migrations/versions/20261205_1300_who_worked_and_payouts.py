"""who worked on what (which complaints a person sees for it), open complaints by deadline, payouts by month

Revision ID: 6a3e8d0c4b72
Revises: 2f7c9a1b3d55
Create Date: 2026-12-05 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6a3e8d0c4b72'
down_revision = '2f7c9a1b3d55'
branch_labels = None
depends_on = None

INDEXES = [("ix_human_tasks_assignee", "human_tasks", ["assignee_id", "complaint_id"]),
           ("ix_human_tasks_completed_by", "human_tasks", ["completed_by_id", "complaint_id"]),
           ("ix_compensations_paid", "compensations", ["status", "paid_at"])]


OPEN_ONLY = "status IN ('open', 'escalated', 'awaiting_customer')"


def upgrade():
    # Big tables: on PostgreSQL the indexes are built without locking out writes (outside a transaction).
    with op.get_context().autocommit_block():
        for name, table, columns in INDEXES:
            op.create_index(name, table, columns, unique=False, postgresql_concurrently=True)
        op.create_index("ix_complaints_open_statutory", "complaints", ["statutory_due_on"], unique=False,
                        postgresql_where=sa.text(OPEN_ONLY), sqlite_where=sa.text(OPEN_ONLY),
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_complaints_open_statutory", table_name="complaints", postgresql_concurrently=True)
        for name, table, _columns in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
