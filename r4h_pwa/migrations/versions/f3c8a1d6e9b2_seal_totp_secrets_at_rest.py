"""seal the authenticator apps' TOTP secrets at rest

Revision ID: f3c8a1d6e9b2
Revises: e7a2c9d4f1b3
Create Date: 2026-12-05 07:00:00

Each secret stored in plain text is sealed under the app's SEALING_KEY (r4h_pwa/sealing.py),
so a database dump or backup no longer holds a usable second factor. The downgrade opens
them again. Run it with the production settings: their key is the one the app opens with.
"""
import sqlalchemy as sa
from alembic import op

from r4h_pwa.sealing import seal, unseal

# revision identifiers, used by Alembic.
revision = "f3c8a1d6e9b2"
down_revision = "e7a2c9d4f1b3"
branch_labels = None
depends_on = None

runners = sa.table("runners", sa.column("id", sa.Integer), sa.column("totp_secret", sa.String))
PLAIN_LONGEST = 64  # the old column's width; a sealed secret is longer


def _rewrite(change, which) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(runners.c.id, runners.c.totp_secret)
                        .where(runners.c.totp_secret.is_not(None))).all()
    for runner_id, value in rows:
        if which(value):
            bind.execute(sa.update(runners).where(runners.c.id == runner_id)
                         .values(totp_secret=change(value)))


def upgrade():
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=64),
                           type_=sa.String(length=255), existing_nullable=True)
    _rewrite(seal, lambda value: len(value) <= PLAIN_LONGEST)


def downgrade():
    _rewrite(unseal, lambda value: len(value) > PLAIN_LONGEST)
    with op.batch_alter_table("runners") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=255),
                           type_=sa.String(length=64), existing_nullable=True)
