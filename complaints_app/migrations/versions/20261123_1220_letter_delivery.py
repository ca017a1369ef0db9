"""letter delivery: Message-ID, when sent, attempts and the next one, the last delivery error

Revision ID: f7df824378fa
Revises: a3db7d1e8104
Create Date: 2026-11-23 12:20:43.602005

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f7df824378fa'
down_revision = 'a3db7d1e8104'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_error', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_letters_next_attempt_at'), ['next_attempt_at'], unique=False)



def downgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letters_next_attempt_at'))
        batch_op.drop_column('delivery_error')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('delivery_attempts')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('message_id')

