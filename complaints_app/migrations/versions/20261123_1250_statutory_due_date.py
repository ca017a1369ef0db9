"""statutory due date: the last day to answer, counted at triage, indexed for the at-risk view

Revision ID: 9e4f1d4c0d03
Revises: dbc8512f4636
Create Date: 2026-11-23 12:50:52.989507

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4f1d4c0d03'
down_revision = 'dbc8512f4636'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statutory_due_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_statutory_due_on'), ['statutory_due_on'], unique=False)



def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_statutory_due_on'))
        batch_op.drop_column('statutory_due_on')

