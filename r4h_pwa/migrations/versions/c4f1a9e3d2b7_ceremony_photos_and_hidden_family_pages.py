"""the ceremony on runs, photos of runs, and family pages the family took down

Revision ID: c4f1a9e3d2b7
Revises: c3a8f1d2e6b4
Create Date: 2026-12-02 10:00:00

Existing runs get NULL ceremony columns: their stored content hash is unchanged, and a
repeat without a ceremony hashes the same, so it stays a duplicate.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "c4f1a9e3d2b7"
down_revision = "c3a8f1d2e6b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("prayer_before", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("silence_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("flag_carried", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("prayer_after", sa.Boolean(), nullable=True))
        batch.create_check_constraint(
            batch.f("ck_runs_silence_seconds"), "silence_seconds BETWEEN 0 AND 3600"
        )
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("family_hidden_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("upload_hash", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("page_width", sa.Integer(), nullable=False),
        sa.Column("page_height", sa.Integer(), nullable=False),
        sa.Column("page_jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_photos_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
    )
    with op.batch_alter_table("photos") as batch:
        batch.create_index(batch.f("ix_photos_run_id"), ["run_id"], unique=False)


def downgrade():
    with op.batch_alter_table("photos") as batch:
        batch.drop_index(batch.f("ix_photos_run_id"))
    op.drop_table("photos")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("family_hidden_at")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint(batch.f("ck_runs_silence_seconds"), type_="check")
        batch.drop_column("prayer_after")
        batch.drop_column("flag_carried")
        batch.drop_column("silence_seconds")
        batch.drop_column("prayer_before")
