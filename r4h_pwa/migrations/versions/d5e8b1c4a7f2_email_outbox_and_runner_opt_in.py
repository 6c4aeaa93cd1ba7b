"""an outbox of emails to the team, and the runner's opt-in to family news by email

Revision ID: d5e8b1c4a7f2
Revises: c3a9f1e6b2d8
Create Date: 2026-11-30 13:00:00

Existing accounts are not emailed: notify_by_email starts false for everyone.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5e8b1c4a7f2"
down_revision = "c3a9f1e6b2d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("runners") as batch:
        batch.add_column(
            sa.Column("notify_by_email", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "outbox_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("shipment_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_emails_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_emails_attempts")),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"],
            name=op.f("fk_outbox_emails_shipment_id_shipments"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
    )
    with op.batch_alter_table("outbox_emails") as batch:
        batch.create_index("ix_outbox_emails_due", ["status", "next_attempt_at"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_index("ix_outbox_emails_due")
    op.drop_table("outbox_emails")
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("notify_by_email")
