"""outbox: a job is sent once and sent again only when its message may have been lost

Revision ID: 5d0a1f3e7c21
Revises: fbac14fb11d5
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5d0a1f3e7c21'
down_revision = 'fbac14fb11d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('argument', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sends', sa.Integer(), nullable=False),
        sa.Column('resend_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
        sa.UniqueConstraint('job', 'argument', name=op.f('uq_outbox_job')),
    )
    op.create_index('ix_outbox_resend_at', 'outbox', ['resend_at'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_resend_at', table_name='outbox')
    op.drop_table('outbox')
