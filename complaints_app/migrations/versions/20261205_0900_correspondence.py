"""correspondence: postal addresses and salutations, letterheads per country, letter numbers, channels and
the post, internal notes, the published procedure, enclosures, people's positions, when a complaint was answered

Revision ID: fbac14fb11d5
Revises: ca77007238a5
Create Date: 2026-12-05 09:00:00

"""
from datetime import date, datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fbac14fb11d5'
down_revision = 'ca77007238a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enclosures',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_enclosures_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_enclosures'))
    )
    op.create_table('letterheads',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('website', sa.String(length=200), nullable=True),
    sa.Column('registration', sa.JSON(), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=True),
    sa.Column('signatory_position', sa.JSON(), nullable=False),
    sa.Column('adr_name', sa.String(length=200), nullable=True),
    sa.Column('adr_website', sa.String(length=200), nullable=True),
    sa.Column('adr_participation', sa.String(length=12), nullable=True),
    sa.Column('fos_waiver_consent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('appeal_body', sa.JSON(), nullable=False),
    sa.Column('is_example', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("adr_participation IS NULL OR adr_participation IN ('obliged', 'willing', 'unwilling')", name=op.f('ck_letterheads_adr_participation')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_letterheads_updated_by_id_users')),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_letterheads'))
    )
    op.create_table('print_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('letter_count', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('assembled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('assembling', 'ready', 'failed')", name=op.f('ck_print_batches_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_batches_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_batches')),
    sa.UniqueConstraint('day', 'sequence', name=op.f('uq_print_batches_day'))
    )
    op.create_table('published_texts',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_published_texts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('key', 'language', name=op.f('pk_published_texts'))
    )
    op.create_table('statutory_calendars',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=8), nullable=True),
    sa.Column('holidays_worked_from', sa.Date(), nullable=True),
    sa.Column('holidays_worked_until', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_statutory_calendars'))
    )
    # What the law's calendars are today: the FCA counts bank holidays of the part of the UK where the
    # handling office is (England and Wales until an admin says otherwise); under martial law in Ukraine
    # public holidays are working days (Law No. 2136-IX, art. 6(6), in force since 24 March 2022).
    calendars = sa.table('statutory_calendars', sa.column('country', sa.String), sa.column('region', sa.String),
                         sa.column('holidays_worked_from', sa.Date), sa.column('note', sa.String),
                         sa.column('updated_at', sa.DateTime(timezone=True)))
    now = datetime.now(timezone.utc)
    op.bulk_insert(calendars, [
        {'country': 'PL', 'region': None, 'holidays_worked_from': None, 'note': None, 'updated_at': now},
        {'country': 'GB', 'region': 'ENG', 'holidays_worked_from': None,
         'note': 'Bank holidays of England and Wales, where the complaints are handled', 'updated_at': now},
        {'country': 'UA', 'region': None, 'holidays_worked_from': date(2022, 3, 24),
         'note': 'Martial law: public holidays are working days (Law No. 2136-IX, art. 6(6))', 'updated_at': now},
    ])
    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_notes_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_complaint_id'), ['complaint_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_by', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('answer_by_recorded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answer_by_recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quote_description', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_complaints_answer_by_recorded_by_id_users'), 'users', ['answer_by_recorded_by_id'], ['id'])
        batch_op.create_check_constraint('answer_by', "answer_by IS NULL OR answer_by IN ('email', 'post')")

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('given_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('family_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('city', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.create_check_constraint('title', "title IS NULL OR title IN ('ms', 'mr')")

    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('element_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('signed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('print_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('posted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('posted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('returned_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_letters_print_batch_id'), ['print_batch_id'], unique=False)
        batch_op.create_index('ix_letters_to_post', ['channel', 'status', 'posted_on'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_letters_signed_by_id_users'), 'users', ['signed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_print_batch_id_print_batches'), 'print_batches', ['print_batch_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_created_by_id_users'), 'users', ['created_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_posted_by_id_users'), 'users', ['posted_by_id'], ['id'])
        batch_op.create_check_constraint('channel', "channel IS NULL OR channel IN ('email', 'post')")
        batch_op.drop_constraint(batch_op.f('ck_letters_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('draft', 'rendered', 'sent', 'failed', 'withdrawn')")

    # Letters written so far: numbered in the order they were made, e-mailed (the only way there was).
    op.execute("""UPDATE letters SET number = (SELECT count(*) FROM letters AS earlier
                  WHERE earlier.complaint_id = letters.complaint_id AND earlier.id <= letters.id)""")
    op.execute("UPDATE letters SET channel = 'email' WHERE status IN ('rendered', 'sent')")
    # Complaints answered so far: when their final answer was e-mailed, else when it was written.
    op.execute("""UPDATE complaints SET answered_at = (
                    SELECT min(coalesce(letters.sent_at, letters.created_at)) FROM letters
                    WHERE letters.complaint_id = complaints.id
                      AND letters.letter_type IN ('final_response', 'summary_resolution'))
                  WHERE status NOT IN ('open', 'escalated')""")
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_letters_complaint_number', ['complaint_id', 'number'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.JSON(), server_default='{}', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('position')

    op.execute("DELETE FROM letters WHERE status = 'withdrawn'")
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_constraint('uq_letters_complaint_number', type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_letters_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('draft', 'rendered', 'sent', 'failed')")
        batch_op.drop_constraint(batch_op.f('ck_letters_channel'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_letters_posted_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_letters_created_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_letters_print_batch_id_print_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_letters_signed_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_letters_to_post')
        batch_op.drop_index(batch_op.f('ix_letters_print_batch_id'))
        batch_op.drop_column('returned_reason')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('posted_by_id')
        batch_op.drop_column('posted_on')
        batch_op.drop_column('print_batch_id')
        batch_op.drop_column('signed_by_id')
        batch_op.drop_column('channel')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('number')
        batch_op.drop_column('element_id')

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_customers_title'), type_='check')
        batch_op.drop_column('country')
        batch_op.drop_column('city')
        batch_op.drop_column('postcode')
        batch_op.drop_column('street')
        batch_op.drop_column('family_name')
        batch_op.drop_column('given_name')
        batch_op.drop_column('title')

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_complaints_answer_by'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_complaints_answer_by_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('quote_description')
        batch_op.drop_column('answer_by_recorded_by_id')
        batch_op.drop_column('answer_by_recorded_at')
        batch_op.drop_column('answer_by')

    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_complaint_id'))

    op.drop_table('notes')
    op.drop_table('statutory_calendars')
    op.drop_table('published_texts')
    op.drop_table('print_batches')
    op.drop_table('letterheads')
    op.drop_table('enclosures')
