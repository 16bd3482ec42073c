"""The outward half (issue 13): contacts as reference data (`ref.contact`), recipients without a
contact (`ops.contact_gap`) and every document delivered into a recipient's folder
(`restricted.delivery`). Existing tables unchanged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FILE_SIZE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=128), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_kind", "recipient_key", "role", "valid_from"),
        schema="ref",
    )
    op.create_table(
        "contact_gap",
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=48), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("first_noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient_kind", "recipient_key", "purpose", "period"),
        schema="ops",
    )
    op.create_table(
        "delivery",
        sa.Column("delivery_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("document_kind", sa.String(length=48), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size", _FILE_SIZE, nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Text(), nullable=True),
        sa.Column("notice_key", sa.String(length=200), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id"),
        sa.UniqueConstraint("recipient_kind", "recipient_key", "document_kind", "period", "sha256"),
        schema="restricted",
    )
    op.create_index(
        "ix_delivery_delivered_at", "delivery", ["delivered_at"], unique=False, schema="restricted"
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_delivered_at", table_name="delivery", schema="restricted")
    op.drop_table("delivery", schema="restricted")
    op.drop_table("contact_gap", schema="ops")
    op.drop_table("contact", schema="ref")
