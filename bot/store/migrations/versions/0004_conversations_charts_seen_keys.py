"""conversations, charts and seen_keys: what a deletion and replay protection need

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "conversation_id"),
    )
    op.create_index("ix_conversations_team_id", "conversations", ["team_id"])
    op.create_table(
        "charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_name"),
    )
    op.create_index("ix_charts_team_id", "charts", ["team_id"])
    op.create_index("ix_charts_account_id", "charts", ["account_id"])
    op.create_table(
        "seen_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_seen_keys_expires_at", "seen_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_keys_expires_at", table_name="seen_keys")
    op.drop_table("seen_keys")
    op.drop_index("ix_charts_account_id", table_name="charts")
    op.drop_index("ix_charts_team_id", table_name="charts")
    op.drop_table("charts")
    op.drop_index("ix_conversations_team_id", table_name="conversations")
    op.drop_table("conversations")
