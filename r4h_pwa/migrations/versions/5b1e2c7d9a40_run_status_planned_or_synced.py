"""run status is planned or synced: drop in_progress and finished, which nothing ever set

The phone's own words for a run (counting, outbox, parked, synced) live on the phone;
models.PHONE_RUN_STATUSES maps them to these two.

Revision ID: 5b1e2c7d9a40
Revises: 14fdc672dbeb
Create Date: 2026-11-28 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e2c7d9a40'
down_revision = '14fdc672dbeb'
branch_labels = None
depends_on = None

OLD = "status IN ('planned', 'in_progress', 'finished', 'synced')"
NEW = "status IN ('planned', 'synced')"


def upgrade():
    # Nothing sets these, but a row that has one must not stop the migration.
    op.execute(sa.text("UPDATE runs SET status = 'planned' WHERE status IN ('in_progress', 'finished')"))
    with op.batch_alter_table('runs') as batch_op:
        batch_op.drop_constraint(op.f('ck_runs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_runs_status'), sa.text(NEW))


def downgrade():
    with op.batch_alter_table('runs') as batch_op:
        batch_op.drop_constraint(op.f('ck_runs_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_runs_status'), sa.text(OLD))
