"""revocable sessions and two-factor sign-in

Revision ID: b7e2d4a91c05
Revises: 5b1e2c7d9a40
Create Date: 2026-12-01 10:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e2d4a91c05"
down_revision = "5b1e2c7d9a40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runners") as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    # Every account gets its own token: the sessions signed in before this are ended.
    conn = op.get_bind()
    runners = sa.table("runners", sa.column("id", sa.Integer), sa.column("session_token"))
    for (runner_id,) in conn.execute(sa.select(runners.c.id)).all():
        conn.execute(
            runners.update()
            .where(runners.c.id == runner_id)
            .values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("runner_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"],
            name=op.f("fk_recovery_codes_runner_id_runners"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes") as batch:
        batch.create_index(batch.f("ix_recovery_codes_runner_id"), ["runner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("recovery_codes") as batch:
        batch.drop_index(batch.f("ix_recovery_codes_runner_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.drop_column("session_token")
