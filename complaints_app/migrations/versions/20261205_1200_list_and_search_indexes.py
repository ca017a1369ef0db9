"""list and search indexes: the list newest first by cursor; trigram indexes for "contains" search (PostgreSQL)

Revision ID: 2f7c9a1b3d55
Revises: 8e4b2c6d9f10
Create Date: 2026-12-05 12:00:00

"""
from alembic import op


revision = '2f7c9a1b3d55'
down_revision = '8e4b2c6d9f10'
branch_labels = None
depends_on = None

TRIGRAMS = [("complaints", "reference"), ("complaints", "description"), ("complaints", "product"),
            ("customers", "name"), ("customers", "email"), ("customers", "phone"), ("notes", "body")]


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Big tables: on PostgreSQL the indexes are built without locking out writes (outside a transaction).
    with op.get_context().autocommit_block():
        op.create_index('ix_complaints_received', 'complaints', ['received_at', 'id'], unique=False,
                        postgresql_concurrently=True)
        if postgresql:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted: the database's owner may
            for table, column in TRIGRAMS:
                op.create_index(f"ix_{table}_{column}_trgm", table, [column], unique=False,
                                postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                                postgresql_concurrently=True)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        if postgresql:
            for table, column in TRIGRAMS:
                op.drop_index(f"ix_{table}_{column}_trgm", table_name=table, postgresql_concurrently=True)
        op.drop_index('ix_complaints_received', table_name='complaints', postgresql_concurrently=True)
