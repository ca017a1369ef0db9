"""rendered letters: template version, the PDF's hash, when it was rendered, the last error

Revision ID: a3db7d1e8104
Revises: 7a530baff268
Create Date: 2026-11-23 12:15:08.036864

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3db7d1e8104'
down_revision = '7a530baff268'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pdf_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('rendered_at')
        batch_op.drop_column('pdf_sha256')
        batch_op.drop_column('template_version')

