"""check-in maker and tombstone, run review reason

Revision ID: c3a8f1d2e6b4
Revises: b7e2d4a91c05
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a8f1d2e6b4"
down_revision = "b7e2d4a91c05"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checkins") as batch:
        batch.add_column(sa.Column("device_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_checkins_device_id_devices"), "devices", ["device_id"], ["id"]
        )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("review_reason", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("review_reason")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_constraint(batch.f("fk_checkins_device_id_devices"), type_="foreignkey")
        batch.drop_column("removed_at")
        batch.drop_column("device_id")
