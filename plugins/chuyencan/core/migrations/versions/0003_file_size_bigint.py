"""File sizes as 8-byte integers: a file of 2 GiB or more is refused on its size and recorded
with its real size (issue 10); a 4-byte integer overflowed and stopped the intake.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("submission", "police_extract")


def _alter(old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    # SQLite stores any integer in up to 8 bytes whatever the declared type (and the schema
    # module declares INTEGER there): only PostgreSQL needs the change.
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.alter_column(
            table, "file_size", existing_type=old, type_=new, existing_nullable=False, schema="ops"
        )


def upgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())
