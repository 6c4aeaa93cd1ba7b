"""when the moment of silence was kept: before or after the run

Revision ID: e7a2c9d4f1b3
Revises: d2b6e8f1a3c7
Create Date: 2026-11-30 14:10:00

Existing runs get NULL: the phone did not say, and the family page reads it as after.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e7a2c9d4f1b3"
down_revision = "d2b6e8f1a3c7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("silence_when", sa.String(length=6), nullable=True))
        batch.create_check_constraint(
            batch.f("ck_runs_silence_when"), "silence_when IN ('before', 'after')"
        )


def downgrade():
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(batch.f("ck_runs_silence_when"), type_="check")
        batch.drop_column("silence_when")
