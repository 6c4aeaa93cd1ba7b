"""a runner is someone who runs: runners.runs_miles, true for runner accounts, false for admins

Revision ID: d2b6e8f1a3c7
Revises: d5e8b1c4a7f2
Create Date: 2026-11-30 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d2b6e8f1a3c7"
down_revision = "d5e8b1c4a7f2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("runs_miles", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Everyone with a runner account runs; an admin who also runs ticks the box.
    runners = sa.table("runners", sa.column("role", sa.String), sa.column("runs_miles", sa.Boolean))
    op.execute(runners.update().values(runs_miles=runners.c.role == "runner"))


def downgrade():
    with op.batch_alter_table("runners", schema=None) as batch_op:
        batch_op.drop_column("runs_miles")
